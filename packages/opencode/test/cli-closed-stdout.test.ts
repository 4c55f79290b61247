import { afterAll, beforeAll, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { QuotaLedger } from "../src/quota"
import { CLI, makeInstall, type TestInstall } from "./fixture/install"

/**
 * `cli run "..." | head -c 64`: the reader leaves after 64 bytes while the answer is still
 * streaming, well past what the pipe buffers. The CLI drops the rest of its output without an
 * EPIPE stack, exits as the turn did, and still counts the request in the ledger.
 */

let sim: Simulator
let install: TestInstall
beforeAll(async () => {
  // About 170 KB of answer, several times a pipe's buffer.
  const reply = Array.from({ length: 25_000 }, (_, i) => `w${i}`).join(" ")
  sim = await startSimulator({ config: { newClientBonus: false, reply } })
  install = await makeInstall()
  await install.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL } } } })
})
afterAll(async () => {
  await sim.stop()
  await install.cleanup()
})

test("a reader that closes stdout early: no stack, exit 0, the request still in the ledger", async () => {
  const proc = Bun.spawn(["bash", "-c", `"${process.execPath}" "${CLI}" run "Say hello" | head -c 64 >/dev/null; echo "cli exit \${PIPESTATUS[0]}" >&2`], {
    env: install.env as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  expect(stdout).toBe("")
  expect(stderr).toBe("cli exit 0\n")
  expect(sim.requests().filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1)

  const { ledger } = await QuotaLedger.read(QuotaLedger.filePath(install.env))
  const rows = Object.values(ledger.days).flatMap((day) => Object.values(day))
  expect({ sent: rows.reduce((n, r) => n + r.sent, 0), answered: rows.reduce((n, r) => n + r.answered, 0) }).toEqual({ sent: 1, answered: 1 })
})
