import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

describe("auth store", () => {
  test("writes auth.json with mode 0600 and reads it back", async () => {
    await Auth.set("opencode", { type: "api", key: "sk-one" }, install.env)
    const file = Auth.filePath(install.env)
    expect(file).toBe(path.join(install.dataDir, "auth.json"))
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600)
    expect(await Auth.get("opencode", install.env)).toEqual({ type: "api", key: "sk-one" })
  })

  test("replaces atomically: no temp or lock file is left behind", async () => {
    await Auth.set("opencode", { type: "api", key: "sk-one" }, install.env)
    await Auth.set("opencode", { type: "api", key: "sk-two" }, install.env)
    expect(await fs.readdir(install.dataDir)).toEqual(["auth.json"])
    expect(await Auth.get("opencode", install.env)).toEqual({ type: "api", key: "sk-two" })
  })

  test("a write keeps every other provider's entry, including ones it cannot parse", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    const foreign = { type: "future-kind", whatever: [1, 2, 3] }
    await fs.writeFile(Auth.filePath(install.env), JSON.stringify({ anthropic: { type: "api", key: "sk-ant" }, other: foreign }))
    await Auth.set("opencode", { type: "api", key: "sk-zen" }, install.env)
    const raw = JSON.parse(await fs.readFile(Auth.filePath(install.env), "utf8"))
    expect(raw).toEqual({ anthropic: { type: "api", key: "sk-ant" }, other: foreign, opencode: { type: "api", key: "sk-zen" } })
    const contents = await Auth.read(install.env)
    expect(Object.keys(contents.entries).sort()).toEqual(["anthropic", "opencode"])
    expect(Object.keys(contents.invalid)).toEqual(["other"])
  })

  test("two processes writing at once lose nothing", async () => {
    const writers = 8
    const script = `
      const Auth = await import(${JSON.stringify(path.join(import.meta.dir, "../src/auth/index.ts"))})
      const id = process.env.WRITER_ID
      for (let i = 0; i < 5; i++) await Auth.set(id + "-" + i, { type: "api", key: "sk-" + id + "-" + i }, process.env)
    `
    const procs = Array.from({ length: writers }, (_, n) =>
      Bun.spawn(["bun", "-e", script], { env: { ...install.env, WRITER_ID: `p${n}` } as Record<string, string>, stdout: "pipe", stderr: "pipe" }),
    )
    const codes = await Promise.all(procs.map((p) => p.exited))
    expect(codes.every((c) => c === 0)).toBe(true)
    const { entries } = await Auth.read(install.env)
    expect(Object.keys(entries).length).toBe(writers * 5)
    for (let n = 0; n < writers; n++) for (let i = 0; i < 5; i++) expect(entries[`p${n}-${i}`]).toEqual({ type: "api", key: `sk-p${n}-${i}` })
  })

  test("a corrupt auth.json is reported with its position and left byte-for-byte untouched", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    const file = Auth.filePath(install.env)
    const corrupt = '{\n  "opencode": { "type": "api", "key": "sk-x" },\n  oops\n}'
    await fs.writeFile(file, corrupt)
    const before = await fs.stat(file)
    await expect(Auth.read(install.env)).rejects.toThrow(/auth\.json is not valid JSON \(line 3, column 3/)
    await expect(Auth.set("anthropic", { type: "api", key: "k" }, install.env)).rejects.toBeInstanceOf(Auth.AuthFileError)
    await expect(Auth.remove("opencode", install.env)).rejects.toBeInstanceOf(Auth.AuthFileError)
    expect(await fs.readFile(file, "utf8")).toBe(corrupt)
    expect((await fs.stat(file)).mtimeMs).toBe(before.mtimeMs)
  })

  test("a non-object auth.json is refused and kept", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    await fs.writeFile(Auth.filePath(install.env), "[1,2]")
    await expect(Auth.set("opencode", { type: "api", key: "k" }, install.env)).rejects.toThrow(/does not hold a JSON object/)
    expect(await fs.readFile(Auth.filePath(install.env), "utf8")).toBe("[1,2]")
  })

  test("an unreadable auth.json is reported, not replaced", async () => {
    const root = process.getuid?.() === 0
    if (root) {
      // root reads any file whatever its mode; a directory in its place is unreadable as a file for everyone
      await fs.mkdir(Auth.filePath(install.env), { recursive: true })
    } else {
      await fs.mkdir(install.dataDir, { recursive: true })
      await fs.writeFile(Auth.filePath(install.env), "{}", { mode: 0o000 })
    }
    await expect(Auth.read(install.env)).rejects.toThrow(root ? /is a directory, not a file/ : /cannot be read: permission denied/)
    await expect(Auth.set("opencode", { type: "api", key: "k" }, install.env)).rejects.toBeInstanceOf(Auth.AuthFileError)
  })

  test("removing an absent entry writes nothing", async () => {
    expect(await Auth.remove("opencode", install.env)).toBe(false)
    await expect(fs.stat(Auth.filePath(install.env))).rejects.toThrow()
  })

  test("a __proto__ provider id is stored as a plain key", async () => {
    await Auth.set("__proto__", { type: "api", key: "k" }, install.env)
    expect(({} as Record<string, unknown>).key).toBeUndefined()
    const { entries } = await Auth.read(install.env)
    expect(Object.keys(entries)).toEqual(["__proto__"])
  })
})

describe("auth CLI", () => {
  test("set reads the key from stdin; list shows fingerprints only; remove deletes", async () => {
    const key = plantedSecret("sk-zen")
    const set = await runCli(["auth", "set", "opencode"], install.env, key + "\n")
    expect(set.code).toBe(0)
    expect(set.stdout).toMatch(/Saved API key fp_[0-9a-f]{12} for opencode/)
    const list = await runCli(["auth", "list", "--json"], install.env)
    expect(JSON.parse(list.stdout)).toEqual([{ provider: "opencode", type: "api", fingerprint: expect.stringMatching(/^fp_/) }])
    for (const out of [set, list]) expect(out.stdout + out.stderr).not.toContain(key)
    const removed = await runCli(["auth", "remove", "opencode"], install.env)
    expect(removed.stdout).toContain("Removed")
    expect((await Auth.read(install.env)).entries).toEqual({})
  })

  test("set refuses a key given on the command line and an empty stdin", async () => {
    const argv = await runCli(["auth", "set", "opencode", "sk-on-argv"], install.env, "")
    expect(argv.code).toBe(2)
    expect(argv.stderr).toContain("never accepted on the command line")
    const empty = await runCli(["auth", "set", "opencode"], install.env, "")
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain("No key on stdin")
  })
})
