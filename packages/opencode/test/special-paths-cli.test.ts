import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { CLI, makeInstall, type TestInstall } from "./fixture/install"

// Several real CLI processes per test: allow for a loaded machine (a blocked read is still killed at 30 s).
setDefaultTimeout(60_000)

/** Paths named on the command line are reported as what they are: a loop is no missing file, a directory no device. */

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

/** The real CLI with a hard stop, so a read that blocks fails the test instead of holding it. */
async function runCli(args: string[]) {
  const proc = Bun.spawn(["bun", CLI, ...args], { env: install.env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 30_000 })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code, killed: proc.signalCode !== null }
}

async function loop(dir: string, name: string) {
  const a = path.join(dir, name)
  const b = path.join(dir, `${name}.other`)
  await fs.symlink(b, a)
  await fs.symlink(a, b)
  return a
}

describe("diagnose", () => {
  test("a symlink loop is a symlink loop, not a path that does not exist", async () => {
    const target = await loop(install.root, "logs")
    const out = await runCli(["diagnose", target])
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${target} is a symlink loop`)
    expect(out.stderr).not.toContain("does not exist")
  })

  test("a looping provider.jsonl inside a log directory is named, not skipped", async () => {
    const dir = path.join(install.root, "logs")
    await fs.mkdir(dir)
    await fs.writeFile(path.join(dir, "provider.1.jsonl"), "")
    const target = path.join(dir, "provider.jsonl")
    await fs.symlink(target, target)
    const out = await runCli(["diagnose", dir, "--json"])
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${target} is a symlink loop`)
    expect(JSON.parse(out.stdout).error.code).toBe("diagnostics_unreadable")
  })

  test("a directory where a log should be is called a directory, not a device, FIFO or socket", async () => {
    const dir = path.join(install.root, "logs")
    await fs.mkdir(path.join(dir, "provider.jsonl"), { recursive: true })
    const out = await runCli(["diagnose", dir])
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${path.join(dir, "provider.jsonl")} is not a regular file but a directory`)
    expect(out.stderr).not.toContain("a device, a FIFO or a socket")
  })

  test("a FIFO is called a FIFO", async () => {
    const fifo = path.join(install.root, "provider.jsonl")
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0)
    const out = await runCli(["diagnose", fifo])
    expect(out.killed).toBe(false)
    expect(out.stderr).toContain(`${fifo} is not a regular file but a FIFO (named pipe)`)
  })
})

describe("classify --body-file", () => {
  test("a FIFO is refused at once instead of waiting for a writer", async () => {
    const fifo = path.join(install.root, "body")
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0)
    const out = await runCli(["classify", "--status", "429", "--body-file", fifo])
    expect(out.killed).toBe(false)
    expect(out.code).toBe(2)
    expect(out.stderr).toContain(`--body-file: ${fifo} is a FIFO (named pipe), not a regular file`)
  })

  test("a symlink loop and a directory are named as such", async () => {
    const target = await loop(install.root, "body")
    const looped = await runCli(["classify", "--body-file", target])
    expect(looped.code).toBe(2)
    expect(looped.stderr).toContain(`--body-file: ${target} is a symlink loop`)
    const dir = await runCli(["classify", "--body-file", install.root])
    expect(dir.code).toBe(2)
    expect(dir.stderr).toContain(`--body-file: ${install.root} is a directory, not a file`)
  })
})
