import { afterAll, expect, test } from "bun:test"
import * as Auth from "../src/auth"
import * as StatusCmd from "../src/cli/cmd/status"
import type { IO } from "../src/cli/io"
import { StatusReport } from "../src/quota/status-schema"
import { makeInstall, plantedSecret, type TestInstall } from "./fixture/install"

/**
 * A usage read that fails is not tried again on every `status` (a Waybar poll, a prompt): like the
 * pre-turn check, it waits cacheMaxAgeSec, so a usage API that hangs costs one timeout per period,
 * not one per call. `--refresh` still reads at once.
 */

const installs: TestInstall[] = []
afterAll(() => Promise.all(installs.map((i) => i.cleanup())))

async function deadPort() {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") })
  const port = server.port
  await server.stop(true)
  return port
}

test("a failed usage read is kept for cacheMaxAgeSec before the next try; --refresh reads again", async () => {
  const made = await makeInstall()
  installs.push(made)
  const port = await deadPort()
  await made.writeConfig({
    pawwork: { quota: { cacheMaxAgeSec: 600 } },
    provider: { opencode: { options: { baseURL: `http://127.0.0.1:${port}/zen/v1` } }, "opencode-go": { options: { baseURL: `http://127.0.0.1:${port}/zen/go/v1` } } },
  })
  await Auth.set("opencode-go", { type: "api", key: plantedSecret("sk-failed-read") }, made.env)
  let reads = 0
  const counting = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    reads++
    return fetch(input, init)
  }) as typeof fetch
  let clock = Date.parse("2026-11-30T10:00:00Z")
  const report = async (...args: string[]) => {
    let stdout = ""
    const io: IO = { stdout: (t) => void (stdout += t), stderr: () => {}, env: made.env, readStdin: async () => ({ text: "", truncated: false }) }
    expect(await StatusCmd.run(["--json", ...args], io, { now: () => clock, fetch: counting })).toBe(0)
    return StatusReport.parse(JSON.parse(stdout))
  }

  expect((await report()).go.error?.code).toBe("network")
  expect(reads).toBe(1)
  clock += 60_000
  const again = await report()
  expect(reads).toBe(1)
  expect(again.go).toMatchObject({ fromCache: true, error: { code: "network", at: "2026-11-30T10:00:00.000Z" } })
  await report("--refresh")
  expect(reads).toBe(2)
  clock += 600_000
  await report()
  expect(reads).toBe(3)
})
