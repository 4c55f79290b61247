import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import * as Identity from "../src/auth/identity"
import { Config } from "../src/config"
import * as ReadFile from "../src/util/read-file"
import { CLI, makeInstall, type TestInstall } from "./fixture/install"

// Several real CLI processes per test: allow for a loaded machine (a blocked read is still killed at 30 s).
setDefaultTimeout(60_000)

/**
 * Files a user points at are untrusted input: a FIFO, /dev/zero, a directory, a symlink loop, a
 * huge or absurdly nested file, a BOM. Each is refused (or read) at once with the file named and
 * what to do, and nothing the user has is replaced.
 */

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
  await fs.mkdir(install.dataDir, { recursive: true })
  await fs.mkdir(path.dirname(install.configFile), { recursive: true })
  Identity.resetCache()
})
afterEach(() => install.cleanup())

const isRoot = process.getuid?.() === 0

/** The real CLI with a hard stop: a read that hangs fails the test instead of holding it. */
async function runCli(args: string[], env: Record<string, string | undefined>, options: { asNobody?: boolean } = {}) {
  const command = ["bun", CLI, ...args]
  const proc = Bun.spawn(options.asNobody ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...command] : command, {
    env: env as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code, killed: proc.signalCode !== null }
}

/** `auth set` as the install's owner: nobody when the tests run as root, so permissions apply. */
async function runCliWithStdin(args: string[], stdin: string) {
  const command = ["bun", CLI, ...args]
  const proc = Bun.spawn(isRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...command] : command, {
    env: install.env as Record<string, string>,
    stdin: new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

async function fifo(file: string) {
  const made = Bun.spawnSync(["mkfifo", file])
  if (made.exitCode !== 0) throw new Error(`mkfifo failed: ${made.stderr.toString()}`)
}

describe("the bounded reader", () => {
  test("a FIFO, a device, a directory and a symlink loop are named as what they are, without blocking", async () => {
    const pipe = path.join(install.root, "pipe")
    await fifo(pipe)
    const loop = path.join(install.root, "loop")
    await fs.symlink(path.join(install.root, "loop2"), loop)
    await fs.symlink(loop, path.join(install.root, "loop2"))
    const reason = (file: string) => ReadFile.readText(file, { maxBytes: 1024 }).then(() => "read", (e: ReadFile.FileReadError) => `${e.reason}: ${e.message}`)
    expect(await reason(pipe)).toBe(`special: ${pipe} is a FIFO (named pipe), not a regular file; point at a regular file instead.`)
    expect(await reason("/dev/zero")).toStartWith("special: /dev/zero is a character device")
    expect(await reason(install.root)).toBe(`directory: ${install.root} is a directory, not a file.`)
    expect(await reason(loop)).toStartWith(`loop: ${loop} is a symlink loop`)
    expect(await reason(path.join(install.root, "absent"))).toStartWith("missing:")
  })

  test("a file over the cap is refused unread, or cut with truncate; a BOM is dropped", async () => {
    const file = path.join(install.root, "big")
    await fs.writeFile(file, "\ufeff" + "x".repeat(100))
    await expect(ReadFile.readText(file, { maxBytes: 50 })).rejects.toMatchObject({ reason: "too_large" })
    expect(await ReadFile.readText(file, { maxBytes: 50, truncate: true })).toEqual({ text: "x".repeat(47), truncated: true })
    expect(await ReadFile.readText(file, { maxBytes: 1000 })).toEqual({ text: "x".repeat(100), truncated: false })
  })

  test("an unreadable file says permission denied and which owner/mode to check", () => {
    const error = ReadFile.describe("/d/auth.json", Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }))
    expect(error.message).toBe("/d/auth.json cannot be read: permission denied; check the owner/mode of /d/auth.json and of /d.")
  })
})

describe("opencode.json", () => {
  test("a FIFO, /dev/zero, a directory, a symlink loop: a clear error at once, naming the file", async () => {
    const pipe = path.join(install.root, "pipe.json")
    await fifo(pipe)
    const loop = path.join(install.root, "loop.json")
    await fs.symlink(loop, loop)
    for (const [file, problem] of [
      [pipe, "is a FIFO (named pipe), not a regular file"],
      ["/dev/zero", "is a character device, not a regular file"],
      [install.root, "is a directory, not a file"],
      [loop, "is a symlink loop"],
    ] as const) {
      const error = await Config.load({ ...install.env, OPENCODE_CONFIG: file }).catch((e) => e)
      expect(error).toBeInstanceOf(Config.ConfigInvalidError)
      expect(error.message).toContain(`The config file ${file} could not be used: it ${problem}`)
    }
  })

  test("the CLI is not held by a FIFO named as the config", async () => {
    const pipe = path.join(install.root, "pipe.json")
    await fifo(pipe)
    const out = await runCli(["models"], { ...install.env, OPENCODE_CONFIG: pipe })
    expect(out.killed).toBe(false)
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${pipe} could not be used: it is a FIFO (named pipe)`)
  })

  test("a file over 4 MiB is refused without being read", async () => {
    await fs.writeFile(install.configFile, "")
    await fs.truncate(install.configFile, Config.MAX_BYTES + 1)
    await expect(Config.load(install.env)).rejects.toThrow(`${install.configFile} could not be used: it is larger than 4 MiB`)
  })

  test("100k levels of nesting: a located error, not a stack overflow", async () => {
    await install.writeConfig('{\n "x": ' + "[".repeat(100_000) + "]".repeat(100_000) + "}")
    await expect(Config.load(install.env)).rejects.toThrow(/line 2, column \d+: nested deeper than 64 levels/)
  })

  test("a UTF-8 BOM is accepted, as OpenCode does", async () => {
    await install.writeConfig('\ufeff{ "model": "opencode/big-pickle" }')
    expect((await Config.load(install.env)).info.model).toBe("opencode/big-pickle")
  })

  test("JSONC: comments and trailing commas load; {env:VAR} still works and a reference in a comment is none", async () => {
    await install.writeConfig(`{
  // where PawWork's requests go
  "provider": {
    "opencode": {
      /* the key stays out of the file: {env:NOT_THIS} */
      "options": { "apiKey": "{env:MY_KEY}", "baseURL": "http://127.0.0.1:1/zen/v1", },
    },
  },
  "model": "opencode/big-pickle", // trailing
}
`)
    const { info } = await Config.load({ ...install.env, MY_KEY: 'k"*/"v' })
    expect(info.provider?.opencode?.options).toEqual({ apiKey: 'k"*/"v', baseURL: "http://127.0.0.1:1/zen/v1" })
    expect(info.model).toBe("opencode/big-pickle")
  })

  test("JSONC errors are located on the raw file, whatever the substituted value", async () => {
    await install.writeConfig('{\n  // {env:MY_KEY}\n  "provider": { "opencode": { "options": { "apiKey": "{env:MY_KEY}" } } }\n  "model": "x"\n}')
    for (const value of ["short", "a much longer value than the reference"]) {
      const error = await Config.load({ ...install.env, MY_KEY: value }).catch((e) => e)
      expect(error.message).toContain("line 4, column 3: expected ',' or '}'")
    }
  })
})

describe("auth.json", () => {
  test("a FIFO or /dev/zero in its place is reported at once and left as it is", async () => {
    const file = Auth.filePath(install.env)
    await fifo(file)
    await expect(Auth.read(install.env)).rejects.toThrow(`${file} is a FIFO (named pipe), not a regular file`)
    expect((await fs.lstat(file)).isFIFO()).toBe(true)
    await fs.rm(file)
    await fs.symlink("/dev/zero", file)
    await expect(Auth.read(install.env)).rejects.toThrow("is a character device, not a regular file")
    expect(await fs.readlink(file)).toBe("/dev/zero")
  })

  test("the CLI is not held by a FIFO auth.json", async () => {
    await fifo(Auth.filePath(install.env))
    const out = await runCli(["auth", "list"], install.env)
    expect(out.killed).toBe(false)
    expect(out.code).toBe(1)
    expect(out.stderr).toContain("is a FIFO (named pipe)")
  })

  test("a BOM'd auth.json is read", async () => {
    await fs.writeFile(Auth.filePath(install.env), '\ufeff{ "opencode": { "type": "api", "key": "k-1" } }')
    expect(await Auth.get("opencode", install.env)).toEqual({ type: "api", key: "k-1" })
  })

  test("too large or too deep: refused with the reason, file untouched", async () => {
    const file = Auth.filePath(install.env)
    await fs.writeFile(file, '{"a":' + "[".repeat(100_000) + "]".repeat(100_000) + "}")
    await expect(Auth.read(install.env)).rejects.toThrow(/is not valid JSON \(line 1, column \d+: nested deeper than 64 levels/)
    await fs.truncate(file, Auth.MAX_BYTES + 1)
    await expect(Auth.read(install.env)).rejects.toThrow(`${file} is larger than 1 MiB`)
    expect((await fs.stat(file)).size).toBe(Auth.MAX_BYTES + 1)
  })

  test.skipIf(isRoot && Bun.which("setpriv") === null)("an auth.json the user cannot read: permission denied, with what to check", async () => {
    const file = Auth.filePath(install.env)
    await fs.writeFile(file, "{}", { mode: 0o000 })
    // chmod does not stop root: run the CLI as nobody, which owns the install but not auth.json.
    if (isRoot) {
      await chownTree(install.root, 65534)
      await fs.chown(file, 0, 0)
    }
    const out = await runCli(["auth", "list"], install.env, { asNobody: isRoot })
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${file} cannot be read: permission denied; check the owner/mode of ${file} and of ${install.dataDir}`)
    expect(out.stderr).not.toContain("Unexpected error")
  })
})

describe("the support bundle", () => {
  test("a FIFO as opencode.json or install.json is reported in the bundle, not waited on; a JSONC config keeps its shape", async () => {
    await fifo(Identity.filePath(install.env))
    const pipe = path.join(install.root, "pipe.json")
    await fifo(pipe)
    const out = path.join(install.root, "bundle.json")
    const first = await runCli(["diagnose", "--bundle", out], { ...install.env, OPENCODE_CONFIG: pipe })
    expect(first.killed).toBe(false)
    expect(first.code).toBe(0)
    const bundle = JSON.parse(await fs.readFile(out, "utf8"))
    expect(bundle.config).toEqual({ present: true, problem: "unreadable (special)" })
    expect(bundle.identity).toMatchObject({ persisted: false, problem: "install.json unreadable (special)" })

    await install.writeConfig('{\n  // mine\n  "model": "opencode/big-pickle",\n}\n')
    const second = await runCli(["diagnose", "--bundle", out, "--force"], install.env)
    expect(second.code).toBe(0)
    expect(JSON.parse(await fs.readFile(out, "utf8")).config).toEqual({ present: true, shape: { model: "opencode/big-pickle" } })
  })
})

describe("a read-only data dir", () => {
  // chmod does not stop root: the CLI then runs as nobody, which owns the install but cannot write there.
  test.skipIf(isRoot && Bun.which("setpriv") === null)("auth set names the file, permission denied and the directory to fix", async () => {
    if (isRoot) await chownTree(install.root, 65534)
    await fs.chmod(install.dataDir, 0o500)
    const out = await runCliWithStdin(["auth", "set", "opencode"], "k-123456\n")
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`${Auth.filePath(install.env)} cannot be written: permission denied; check the owner/mode of ${install.dataDir}`)
    expect(out.stderr).not.toContain("Unexpected error")
  })

  test.skipIf(isRoot && Bun.which("setpriv") === null)("identity: a temporary one, with the directory to fix", async () => {
    if (isRoot) await chownTree(install.root, 65534)
    await fs.chmod(install.dataDir, 0o500)
    const out = await runCliWithStdin(["identity"], "")
    expect(out.code).toBe(0)
    expect(out.stdout).toContain(`Not stored: ${Identity.filePath(install.env)} cannot be saved: permission denied; check the owner/mode of ${install.dataDir} (EACCES)`)
  })

  test.skipIf(isRoot && Bun.which("setpriv") === null)("when the data dir cannot even be created, the parent is the one to fix", async () => {
    await fs.rm(install.dataDir, { recursive: true })
    if (isRoot) await chownTree(install.root, 65534)
    const parent = path.dirname(install.dataDir)
    await fs.chmod(parent, 0o500)
    const out = await runCliWithStdin(["auth", "set", "opencode"], "k-123456\n")
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`cannot be written: permission denied; check the owner/mode of ${parent}`)
  })
})

describe("install.json", () => {
  test("a BOM'd install.json is read and kept, never replaced", async () => {
    const file = Identity.filePath(install.env)
    const token = "pwi_" + "A".repeat(43)
    const text = "\ufeff" + JSON.stringify({ version: 1, token, createdAt: "2026-11-01T00:00:00.000Z" })
    await fs.writeFile(file, text)
    const identity = await Identity.load(install.env)
    expect(identity).toMatchObject({ persisted: true, createdAt: "2026-11-01T00:00:00.000Z" })
    expect(identity.token).toBe(token)
    expect(identity.problem).toBeUndefined()
    expect(await fs.readFile(file, "utf8")).toBe(text)
  })

  test("a FIFO or a device in its place: a temporary identity, nothing replaced, no hang", async () => {
    const file = Identity.filePath(install.env)
    await fifo(file)
    const identity = await Identity.load(install.env)
    expect(identity).toMatchObject({ persisted: false })
    expect(identity.problem).toContain("is a FIFO (named pipe)")
    expect((await fs.lstat(file)).isFIFO()).toBe(true)

    await fs.rm(file)
    await fs.symlink("/dev/zero", file)
    Identity.resetCache()
    const again = await Identity.load(install.env)
    expect(again.problem).toContain("is a character device")
    expect(await fs.readlink(file)).toBe("/dev/zero")
  })

  test("a huge install.json is not read whole and not replaced", async () => {
    const file = Identity.filePath(install.env)
    await fs.writeFile(file, "")
    await fs.truncate(file, 64 * 1024 * 1024)
    const identity = await Identity.load(install.env)
    expect(identity).toMatchObject({ persisted: false })
    expect(identity.problem).toContain("is larger than 64 KiB")
    expect((await fs.stat(file)).size).toBe(64 * 1024 * 1024)
  })

  test.skipIf(isRoot && Bun.which("setpriv") === null)("an install.json the user cannot read is named with what to check, and left alone", async () => {
    const file = Identity.filePath(install.env)
    const text = JSON.stringify({ version: 1, token: "pwi_" + "B".repeat(43), createdAt: "2026-11-01T00:00:00.000Z" })
    await fs.writeFile(file, text, { mode: 0o000 })
    if (isRoot) {
      await chownTree(install.root, 65534)
      await fs.chown(file, 0, 0)
    }
    const out = await runCli(["identity"], install.env, { asNobody: isRoot })
    expect(out.code).toBe(0)
    expect(out.stdout).toContain(`Not stored: ${file} cannot be read: permission denied; check the owner/mode of ${file}`)
    expect(await fs.readFile(file, "utf8")).toBe(text)
  })
})

async function chownTree(dir: string, uid: number) {
  await fs.chown(dir, uid, uid)
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(full, uid)
    else await fs.lchown(full, uid, uid)
  }
}
