import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import * as Identity from "../src/auth/identity"
import * as AtomicFile from "../src/util/atomic-file"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"

/**
 * `auth set`, `identity` and `diagnose --bundle` in real CLI processes, writing onto what a user (or
 * a mistake) put at their paths: FIFOs, directories, devices and symlinks. Only regular files are
 * replaced, symlinks are written through, a killed writer's temp file is cleaned up.
 *
 * Safety (these run as root): no command is ever pointed at /dev/null itself. /dev/null is only
 * reached through a symlink in the throwaway install, which a broken implementation would replace
 * instead of the device; the device node a command may write is mknod'ed inside the install.
 */

// Child processes on a loaded machine; a hang (a FIFO read or a link loop) fails by this timeout.
setDefaultTimeout(60_000)

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
  await fs.mkdir(install.dataDir, { recursive: true })
})
afterEach(() => install.cleanup())

const isRoot = process.getuid?.() === 0
const KILLED_WRITER = path.join(import.meta.dir, "fixture", "killed-writer-process.ts")

function mkfifo(file: string) {
  expect(Bun.spawnSync(["mkfifo", file]).exitCode).toBe(0)
}

function mknodNull(file: string) {
  expect(Bun.spawnSync(["mknod", file, "c", "1", "3"]).exitCode).toBe(0)
}

/** What can be put at a path, and how to check it is still there, unchanged. */
const specials = {
  FIFO: {
    make: async (file: string) => mkfifo(file),
    intact: async (file: string) => expect((await fs.lstat(file)).isFIFO()).toBe(true),
    words: "is a FIFO (named pipe), not a regular file",
  },
  directory: {
    make: async (file: string) => {
      await fs.mkdir(file)
      await fs.writeFile(path.join(file, "inside"), "kept")
    },
    intact: async (file: string) => expect(await fs.readFile(path.join(file, "inside"), "utf8")).toBe("kept"),
    words: "is a directory, not a regular file",
  },
  "symlink to /dev/null": {
    make: (file: string) => fs.symlink("/dev/null", file),
    intact: async (file: string) => {
      expect(await fs.readlink(file)).toBe("/dev/null")
      expect((await fs.lstat("/dev/null")).isCharacterDevice()).toBe(true)
    },
    words: "(a symbolic link to /dev/null) is a character device, not a regular file",
  },
  ...(isRoot
    ? {
        "character device": {
          make: async (file: string) => mknodNull(file),
          intact: async (file: string) => expect((await fs.lstat(file)).isCharacterDevice()).toBe(true),
          words: "is a character device, not a regular file",
        },
      }
    : {}),
}
const SPECIALS = Object.entries(specials)

function expectRefused(out: { stdout: string; stderr: string; code: number }, file: string, words: string) {
  expect(out.code).toBe(1)
  expect(out.stderr).toContain(file)
  expect(out.stderr).toContain(words)
  expect(out.stderr).toContain("left as it is")
  expect(out.stderr).not.toContain("Unexpected error")
}

/** A real writer SIGKILLed between writing its temp file and the rename; returns the temp file. */
async function killedWriter(target: string, content: string) {
  const child = Bun.spawn(["bun", KILLED_WRITER, target, content], { stdout: "pipe", stderr: "pipe" })
  const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited])
  expect(child.signalCode).toBe("SIGKILL")
  return stdout.trim()
}

describe("auth set", () => {
  test.each(SPECIALS)("onto a %s: refused, named, left as it is", async (_, special) => {
    const file = Auth.filePath(install.env)
    await special.make(file)
    const key = plantedSecret("auth-special")
    const out = await runCli(["auth", "set", "opencode"], install.env, key)
    expectRefused(out, file, special.words)
    expect(out.stdout + out.stderr).not.toContain(key)
    await special.intact(file)
  })

  test("a symlinked auth.json is written through: the link stays, its target gets both entries", async () => {
    const file = Auth.filePath(install.env)
    const target = path.join(install.root, "dotfiles", "auth.json")
    await fs.mkdir(path.dirname(target))
    const other = plantedSecret("other")
    await fs.writeFile(target, JSON.stringify({ other: { type: "api", key: other } }), { mode: 0o600 })
    await fs.symlink(target, file)
    const key = plantedSecret("auth-link")
    const out = await runCli(["auth", "set", "opencode"], install.env, key)
    expect(out.stderr).toBe("")
    expect(out.code).toBe(0)
    expect(await fs.readlink(file)).toBe(target)
    expect(JSON.parse(await fs.readFile(target, "utf8"))).toEqual({ other: { type: "api", key: other }, opencode: { type: "api", key } })
    expect((await fs.stat(target)).mode & 0o777).toBe(0o600)
    expect((await fs.readdir(path.dirname(target))).sort()).toEqual(["auth.json"])
  })

  test("a temp file left by a writer killed mid-write (holding every key) is removed by the next auth set", async () => {
    const file = Auth.filePath(install.env)
    const saved = plantedSecret("saved")
    const leftover = await killedWriter(file, JSON.stringify({ opencode: { type: "api", key: saved } }))
    expect((await fs.stat(leftover)).mode & 0o777).toBe(0o600)
    const out = await runCli(["auth", "set", "opencode"], install.env, plantedSecret("after-kill"))
    expect(out.code).toBe(0)
    expect(await fs.readdir(install.dataDir)).toEqual(["auth.json"])
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600)
  })
})

describe("identity", () => {
  test.each(SPECIALS)("--rotate onto a %s: refused, named, left as it is", async (_, special) => {
    const file = Identity.filePath(install.env)
    await special.make(file)
    const out = await runCli(["identity", "--rotate"], install.env)
    expectRefused(out, file, special.words)
    await special.intact(file)
  })

  test("a directory or a link to /dev/null at install.json: a temporary identity, the path left as it is", async () => {
    const file = Identity.filePath(install.env)
    for (const special of [specials.directory, specials["symlink to /dev/null"]]) {
      await fs.rm(file, { recursive: true, force: true })
      await special.make(file)
      const out = await runCli(["identity", "--json"], install.env)
      expect(out.code).toBe(0)
      expect(JSON.parse(out.stdout)).toMatchObject({ persisted: false })
      await special.intact(file)
    }
  })

  test("a symlinked install.json is rotated through its link; a dangling one gets its file created", async () => {
    const file = Identity.filePath(install.env)
    const target = path.join(install.root, "dotfiles", "install.json")
    await fs.mkdir(path.dirname(target))
    await fs.symlink(target, file)
    // Dangling: the first run creates the file the link names (and must not loop on EEXIST).
    const first = await runCli(["identity", "--json"], install.env)
    expect(first.stderr).toBe("")
    expect(JSON.parse(first.stdout)).toMatchObject({ persisted: true })
    const created = JSON.parse(await fs.readFile(target, "utf8")) as Identity.FileContents
    const rotated = await runCli(["identity", "--rotate"], install.env)
    expect(rotated.code).toBe(0)
    expect(await fs.readlink(file)).toBe(target)
    const now = JSON.parse(await fs.readFile(target, "utf8")) as Identity.FileContents
    expect(now.token).not.toBe(created.token)
    expect((await fs.stat(target)).mode & 0o777).toBe(0o600)
    expect(await fs.readdir(path.dirname(target))).toEqual(["install.json"])
  })

  test("a FIFO at identity.log is never written to and never blocks", async () => {
    await fs.mkdir(path.dirname(Identity.logPath(install.env)), { recursive: true })
    mkfifo(Identity.logPath(install.env))
    const out = await runCli(["identity", "--json"], install.env)
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toMatchObject({ persisted: true })
    expect((await fs.lstat(Identity.logPath(install.env))).isFIFO()).toBe(true)
  })

  test("a temp file left by a writer killed mid-write is removed by the next rotation", async () => {
    const file = Identity.filePath(install.env)
    expect((await runCli(["identity"], install.env)).code).toBe(0)
    const leftover = await killedWriter(file, JSON.stringify({ version: 1, token: "pwi_" + "K".repeat(43), createdAt: new Date().toISOString() }))
    expect(AtomicFile.isTempFor("install.json", path.basename(leftover))).toBe(true)
    expect((await runCli(["identity", "--rotate"], install.env)).code).toBe(0)
    expect((await fs.readdir(install.dataDir)).sort()).toEqual(["install.json", "log"])
  })
})

describe("diagnose --bundle", () => {
  test.each(SPECIALS)("onto a %s, with or without --force: refused, named, left as it is", async (_, special) => {
    const file = path.join(install.root, "bundle.json")
    await special.make(file)
    for (const args of [["--force"], []]) {
      const out = await runCli(["diagnose", "--bundle", file, ...args], install.env)
      expectRefused(out, file, special.words)
      await special.intact(file)
    }
  })

  test("--force through a symlink: the link stays, its target is replaced with the bundle, mode 0600", async () => {
    const target = path.join(install.root, "reports", "bundle.json")
    await fs.mkdir(path.dirname(target))
    await fs.writeFile(target, "old report", { mode: 0o644 })
    const link = path.join(install.root, "bundle.json")
    await fs.symlink(target, link)
    const refused = await runCli(["diagnose", "--bundle", link], install.env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("already exists")
    const out = await runCli(["diagnose", "--bundle", link, "--force"], install.env)
    expect(out.stderr).toBe("")
    expect(out.code).toBe(0)
    expect(await fs.readlink(link)).toBe(target)
    expect(JSON.parse(await fs.readFile(target, "utf8"))).toMatchObject({ kind: "pawwork-support-bundle" })
    expect((await fs.stat(target)).mode & 0o777).toBe(0o600)
  })

  test.each([
    ["", "--bundle needs the name of the file to write"],
    ["   ", "--bundle needs the name of the file to write"],
    ["reports/", "names a folder, not a file"],
    [".", "names a folder, not a file"],
  ])("--bundle %p is a usage error that says what to give", async (value, words) => {
    const out = await runCli(["diagnose", "--bundle", value], install.env)
    expect(out.code).toBe(2)
    expect(out.stderr).toContain(words)
    expect(out.stderr).not.toContain("ENOENT")
  })

  test("a folder that cannot be written is a clear error naming the file", async () => {
    const blocked = path.join(install.root, "not-a-folder")
    await fs.writeFile(blocked, "a file where a folder should be")
    const file = path.join(blocked, "bundle.json")
    const out = await runCli(["diagnose", "--bundle", file], install.env)
    expect(out.code).toBe(1)
    expect(out.stderr).toContain(`The support bundle could not be written to ${file} (a part of its path is a file, not a folder)`)
    expect(out.stderr).not.toContain("Unexpected error")
  })
})
