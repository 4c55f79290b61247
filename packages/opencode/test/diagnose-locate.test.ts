import { afterAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import * as Identity from "../src/auth/identity"
import { fingerprint } from "../src/util/fingerprint"
import * as DiagnosticsRead from "../src/session/diagnostics-read"
import { CLI, makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { tokenOf } from "./fixture/sim-install"

/** What `diagnose` reads: the default log directory may not exist yet; a named path must. */

const cleanups: TestInstall[] = []
afterAll(() => Promise.all(cleanups.map((i) => i.cleanup())))

async function freshInstall() {
  const install = await makeInstall()
  cleanups.push(install)
  return install
}

describe("diagnose on an install without a log directory", () => {
  test("the report says nothing is recorded yet", async () => {
    const install = await freshInstall()
    const { stdout, stderr, code } = await runCli(["diagnose"], install.env)
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toContain("No diagnostics recorded yet")
  }, 30_000)

  test("--bundle is still written with the config shape, auth fingerprints and identity", async () => {
    const install = await freshInstall()
    const key = plantedSecret("sk-saved")
    await install.writeConfig({ model: "opencode/big-pickle" })
    await Auth.set("opencode-go", { type: "api", key }, install.env)
    await Identity.load(install.env)
    // Creating the identity logs it under log/: a data dir without one is what a user may have.
    await fs.rm(path.join(install.dataDir, "log"), { recursive: true, force: true })
    const out = path.join(install.root, "bundle.json")
    const { stdout, stderr, code } = await runCli(["diagnose", "--bundle", out], install.env)
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toContain("Support bundle written to")
    const bundle = JSON.parse(await fs.readFile(out, "utf8"))
    expect(bundle).toMatchObject({
      records: [],
      config: { present: true, shape: { model: "opencode/big-pickle" } },
      auth: { providers: [{ id: "opencode-go", type: "api", fingerprint: fingerprint(key) }] },
      identity: { optedOut: false, persisted: true, fingerprint: fingerprint(await tokenOf(install)) },
    })
  }, 30_000)

  test("a path the user names must still exist", async () => {
    const install = await freshInstall()
    const missing = path.join(install.root, "nowhere")
    const { stderr, code } = await runCli(["diagnose", missing], install.env)
    expect(code).toBe(1)
    expect(stderr).toContain(`${missing} does not exist`)
  }, 30_000)
})

describe("only regular files are read", () => {
  test("a device named on the command line is refused, not read forever", async () => {
    const install = await freshInstall()
    // Killed at the timeout so a regression fails the test instead of leaving a process spinning.
    const proc = Bun.spawn(["bun", CLI, "diagnose", "/dev/zero"], {
      env: install.env as Record<string, string>,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 20_000,
    })
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
    expect(code).toBe(1)
    expect(stderr).toContain("/dev/zero is not a regular file")
  }, 30_000)

  test("a FIFO among the logs of a directory is refused", async () => {
    const install = await freshInstall()
    const dir = path.join(install.root, "logs")
    await fs.mkdir(dir)
    await fs.writeFile(path.join(dir, "provider.1.jsonl"), "")
    const fifo = path.join(dir, "provider.jsonl")
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0)
    await expect(DiagnosticsRead.locate(dir)).rejects.toBeInstanceOf(DiagnosticsRead.NotALogFileError)
    await expect(DiagnosticsRead.locate(fifo)).rejects.toBeInstanceOf(DiagnosticsRead.NotALogFileError)
  })
})
