import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { CLI, makeInstall, type TestInstall } from "./fixture/install"

// Several real CLI processes per test: allow for a loaded machine (a blocked read is still killed at 30 s).
setDefaultTimeout(60_000)

/**
 * `cli usage` reads files a user (or support) names and pages a server or a user sends: special or
 * huge files are refused at once with the file named, and nothing from a page reaches the terminal
 * as a control or bidi character.
 */

const FIXTURES = path.join(import.meta.dir, "..", "..", "usage", "test", "fixtures")
// Escape sequences (retitle, clear screen, 8-bit CSI) and bidi/zero-width characters, as a page could carry them.
const HOSTILE = "card \u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil\u2066x\u200f declined"
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

/** The real CLI with a hard stop, so a read that blocks fails the test instead of holding it. */
async function runCli(args: string[], env: Record<string, string | undefined>) {
  const proc = Bun.spawn(["bun", CLI, ...args], { env: env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 30_000 })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code, killed: proc.signalCode !== null }
}

async function hostilePage() {
  const page = (await fs.readFile(path.join(FIXTURES, "compact.html"), "utf8")).replace("reloadError:void 0", `reloadError:${JSON.stringify(HOSTILE)}`)
  expect(page).toContain("\\u001b")
  const file = path.join(install.root, "page.html")
  await fs.writeFile(file, page)
  return file
}

describe("usage zen file inputs", () => {
  test("a FIFO as --html-file or --cookie-file: refused at once, naming it", async () => {
    const pipe = path.join(install.root, "pipe")
    expect(Bun.spawnSync(["mkfifo", pipe]).exitCode).toBe(0)
    for (const flag of ["--html-file", "--cookie-file"]) {
      const out = await runCli(["usage", "zen", flag, pipe], install.env)
      expect(out.killed).toBe(false)
      expect(out.code).toBe(2)
      expect(out.stderr).toContain(`${flag}: ${pipe} is a FIFO (named pipe), not a regular file`)
    }
  })

  test("/dev/zero, a directory, a file over the cap: each refused with what it is", async () => {
    const big = path.join(install.root, "big.html")
    await fs.writeFile(big, "")
    await fs.truncate(big, 64 * 1024 * 1024 + 1)
    const cookie = path.join(install.root, "cookie.txt")
    await fs.writeFile(cookie, "")
    await fs.truncate(cookie, 64 * 1024 + 1)
    for (const [flag, file, problem] of [
      ["--cookie-file", "/dev/zero", "is a character device, not a regular file"],
      ["--html-file", "/dev/zero", "is a character device, not a regular file"],
      ["--html-file", install.root, "is a directory, not a file"],
      ["--html-file", big, "is larger than 64 MiB"],
      ["--cookie-file", cookie, "is larger than 64 KiB"],
    ] as const) {
      const out = await runCli(["usage", "zen", flag, file], install.env)
      expect(out.killed).toBe(false)
      expect(out.code).toBe(2)
      expect(out.stderr).toContain(`${flag}: ${file} ${problem}`)
    }
  })

  test("a saved page with a BOM parses", async () => {
    const file = path.join(install.root, "bom.html")
    await fs.writeFile(file, "\ufeff" + (await fs.readFile(path.join(FIXTURES, "compact.html"), "utf8")))
    const out = await runCli(["usage", "zen", "--html-file", file, "--json"], install.env)
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout).balanceUSD).toBe(22)
  })
})

describe("terminal safety", () => {
  test("escape sequences and bidi overrides from a page never reach the terminal; the text around them does", async () => {
    const out = await runCli(["usage", "zen", "--html-file", await hostilePage()], install.env)
    expect(out.code).toBe(0)
    expect(out.stdout).toContain("Reload error")
    expect(out.stdout).toContain("evil")
    expect(out.stdout).toContain("declined")
    expect(out.stdout).not.toMatch(UNSAFE)
    expect(out.stderr).not.toMatch(UNSAFE)
  })

  test("--json keeps the page's text exactly, with those characters escaped instead of raw", async () => {
    const out = await runCli(["usage", "zen", "--html-file", await hostilePage(), "--json"], install.env)
    expect(out.code).toBe(0)
    expect(out.stdout).not.toMatch(UNSAFE)
    expect(JSON.parse(out.stdout).reload.error).toBe(HOSTILE)
  })

  test("a CLI error quoting a hostile path prints it without the control characters", async () => {
    const dir = path.join(install.root, "conf\u001b[2J\u202e")
    await fs.mkdir(dir)
    const out = await runCli(["models", "--json"], { ...install.env, OPENCODE_CONFIG: dir })
    expect(out.code).toBe(1)
    expect(out.stderr).toContain("is a directory, not a file")
    expect(out.stderr).not.toMatch(UNSAFE)
    expect(out.stdout).not.toMatch(UNSAFE)
    expect(JSON.parse(out.stdout).error.message).toContain(dir)
  })
})

test("an unknown command is echoed without the control characters it was typed with", async () => {
  const out = await runCli(["\u001b]0;x\u0007run\u202e"], install.env)
  expect(out.code).toBe(2)
  expect(out.stderr).toContain('Unknown command "]0;xrun"')
  expect(out.stderr).not.toMatch(UNSAFE)
})
