import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Identity from "../src/auth/identity"
import { Provider } from "../src/provider"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"

// These tests start CLI processes; on a loaded machine a few of them take longer than the default 5 s.
setDefaultTimeout(60_000)

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
  Identity.resetCache()
})
afterEach(() => install.cleanup())

const IDENTITY_TS = path.join(import.meta.dir, "../src/auth/identity.ts")

async function fileContents(env = install.env) {
  return JSON.parse(await fs.readFile(Identity.filePath(env), "utf8")) as Identity.FileContents
}

async function identityJson(env = install.env) {
  const out = await runCli(["identity", "--json"], env)
  expect(out.stderr).toBe("")
  expect(out.code).toBe(0)
  return JSON.parse(out.stdout) as { fingerprint: string | null; createdAt: string | null; persisted: boolean; path: string; optedOut: boolean }
}

async function logLines(env = install.env) {
  const text = await fs.readFile(Identity.logPath(env), "utf8").catch(() => "")
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, string>)
}

/** A fixed-shape token that is not this install's: for planting in corrupt files. */
const OTHER_TOKEN = "pwi_" + "A".repeat(43)

describe("the install identity file", () => {
  test("first use creates <data>/install.json: a pwi_ token of 32 random bytes, its createdAt, mode 0600", async () => {
    const identity = await Identity.load(install.env)
    const file = path.join(install.dataDir, "install.json")
    expect(identity).toMatchObject({ optedOut: false, persisted: true, path: file })
    const contents = await fileContents()
    expect(Object.keys(contents).sort()).toEqual(["createdAt", "token", "version"])
    expect(contents.version).toBe(1)
    expect(contents.token).toMatch(/^pwi_[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(contents.token.slice(4), "base64url").length).toBe(32)
    expect(contents.createdAt).toBe(identity.createdAt)
    expect(identity.token).toBe(contents.token)
    expect(identity.fingerprint).toBe(fingerprint(contents.token))
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600)
    // nothing half-done left behind: no temp or lock file
    expect((await fs.readdir(install.dataDir)).sort()).toEqual(["install.json", "log"])
    expect(await logLines()).toEqual([{ time: expect.any(String), event: "identity.created", fingerprint: identity.fingerprint }])
  })

  test("the raw token is not enumerable: serialising an identity or a tag never carries it", async () => {
    const identity = await Identity.load(install.env)
    expect(JSON.stringify(identity)).not.toContain(identity.token)
    const tag = Identity.tag(identity, true)
    expect(tag.token).toBe(identity.token)
    expect(JSON.stringify(tag)).not.toContain(identity.token)
    expect(JSON.stringify({ ...tag })).not.toContain(identity.token)
  })

  test("two installs get two different tokens", async () => {
    const other = await makeInstall()
    try {
      const a = await Identity.load(install.env)
      const b = await Identity.load(other.env)
      expect(a.token).not.toBe(b.token)
      expect(a.fingerprint).not.toBe(b.fingerprint)
    } finally {
      await other.cleanup()
    }
  })

  test("stable across restarts: separate processes see the same identity", async () => {
    const first = await identityJson()
    const second = await identityJson()
    expect(first.fingerprint).toMatch(/^fp_[0-9a-f]{12}$/)
    expect(second).toEqual(first)
    expect(first.fingerprint).toBe(fingerprint((await fileContents()).token))
  })

  test("several processes starting at once on a fresh install converge on one token", async () => {
    const script = `
      const Identity = await import(${JSON.stringify(IDENTITY_TS)})
      const id = await Identity.load(process.env)
      console.log(JSON.stringify({ fingerprint: id.fingerprint, persisted: id.persisted }))
    `
    const procs = Array.from({ length: 8 }, () =>
      Bun.spawn(["bun", "-e", script], { env: install.env as Record<string, string>, stdout: "pipe", stderr: "pipe" }),
    )
    const outputs = await Promise.all(procs.map(async (p) => ({ out: await new Response(p.stdout).text(), code: await p.exited })))
    expect(outputs.every((o) => o.code === 0)).toBe(true)
    const seen = outputs.map((o) => JSON.parse(o.out) as { fingerprint: string; persisted: boolean })
    expect(new Set(seen.map((s) => s.fingerprint)).size).toBe(1)
    expect(seen.every((s) => s.persisted)).toBe(true)
    expect(seen[0]!.fingerprint).toBe(fingerprint((await fileContents()).token))
    expect((await fs.readdir(install.dataDir)).sort()).toEqual(["install.json", "log"])
    expect((await logLines()).filter((l) => l.event === "identity.created")).toHaveLength(1)
  })
})

describe("read once per process", () => {
  test("the file is read once; later resolutions, model lookups included, never touch it", async () => {
    await Identity.load(install.env)
    Identity.resetCache()
    const first = await Identity.load(install.env)
    expect(Identity.readCount()).toBe(1)
    await Promise.all(Array.from({ length: 50 }, () => Identity.load(install.env)))
    for (let i = 0; i < 5; i++) await Provider.getModel("opencode", "big-pickle", install.env)
    expect(Identity.readCount()).toBe(1)
    // Gone from disk, still the same identity for this process: it is not read again.
    await fs.rm(Identity.filePath(install.env))
    const later = await Provider.getModel("opencode", "big-pickle", install.env)
    expect(later.install.fingerprint).toBe(first.fingerprint)
    expect(Identity.readCount()).toBe(1)
  })

  test("concurrent first calls in one process share one read", async () => {
    await Identity.load(install.env)
    Identity.resetCache()
    const all = await Promise.all(Array.from({ length: 20 }, () => Identity.load(install.env)))
    expect(new Set(all.map((a) => a.token)).size).toBe(1)
    expect(Identity.readCount()).toBe(1)
  })
})

describe("damaged or unusable storage", () => {
  test("a corrupt file is replaced by a fresh token and the replacement is recorded, without the raw token", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    await fs.writeFile(Identity.filePath(install.env), `{"version":1,"token":"${OTHER_TOKEN}"`)
    const identity = await Identity.load(install.env)
    expect(identity.persisted).toBe(true)
    expect(identity.problem).toContain("corrupt")
    expect(identity.token).not.toBe(OTHER_TOKEN)
    const contents = await fileContents()
    expect(contents).toMatchObject({
      token: identity.token,
      previousFingerprint: fingerprint(OTHER_TOKEN),
      replacedAt: expect.any(String),
      reason: "corrupt (not JSON)",
    })
    const replaced = (await logLines()).filter((l) => l.event === "identity.replaced")
    expect(replaced).toEqual([
      { time: expect.any(String), event: "identity.replaced", reason: "corrupt (not JSON)", previousFingerprint: fingerprint(OTHER_TOKEN), fingerprint: identity.fingerprint },
    ])
    const log = await fs.readFile(Identity.logPath(install.env), "utf8")
    expect(log).not.toContain(identity.token)
    expect(log).not.toContain(OTHER_TOKEN)
  })

  test("a well-formed file with a bad field is replaced too, naming the field", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    await fs.writeFile(Identity.filePath(install.env), JSON.stringify({ version: 1, token: "pwi_short", createdAt: new Date().toISOString() }))
    const identity = await Identity.load(install.env)
    expect(identity.persisted).toBe(true)
    const contents = await fileContents()
    expect(contents.token).toBe(identity.token)
    expect(contents.reason).toContain("token")
    expect(contents.previousFingerprint).toBeUndefined()
  })

  test("a file from a newer version with extra fields is kept as it is", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    const newer = { version: 2, token: OTHER_TOKEN, createdAt: "2026-01-01T00:00:00.000Z", extra: { a: 1 } }
    await fs.writeFile(Identity.filePath(install.env), JSON.stringify(newer))
    const identity = await Identity.load(install.env)
    expect(identity.token).toBe(OTHER_TOKEN)
    expect(await fileContents()).toEqual(newer)
  })

  test("a newer version's longer token is kept, not replaced as corrupt", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    const longer = { version: 3, token: "pwi_" + "A".repeat(86), createdAt: "2026-01-01T00:00:00.000Z" }
    await fs.writeFile(Identity.filePath(install.env), JSON.stringify(longer))
    const identity = await Identity.load(install.env)
    expect(identity.token).toBe(longer.token)
    expect(await fileContents()).toEqual(longer)
  })

  test("processes that all find the same corrupt file end up with one replacement", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    await fs.writeFile(Identity.filePath(install.env), "garbage")
    const script = `
      const Identity = await import(${JSON.stringify(IDENTITY_TS)})
      console.log((await Identity.load(process.env)).fingerprint)
    `
    const procs = Array.from({ length: 6 }, () =>
      Bun.spawn(["bun", "-e", script], { env: install.env as Record<string, string>, stdout: "pipe", stderr: "pipe" }),
    )
    const seen = await Promise.all(procs.map((p) => new Response(p.stdout).text()))
    expect(new Set(seen.map((s) => s.trim())).size).toBe(1)
    expect(seen[0]!.trim()).toBe(fingerprint((await fileContents()).token))
    expect((await logLines()).filter((l) => l.event === "identity.replaced")).toHaveLength(1)
  })

  test("an unreadable identity path: a token for this process only, marked not persisted; requests still resolve", async () => {
    // A directory where the file should be: unreadable as a file and impossible to replace, even for root.
    await fs.mkdir(path.join(install.dataDir, "install.json", "inside"), { recursive: true })
    const identity = await Identity.load(install.env)
    expect(identity).toMatchObject({ optedOut: false, persisted: false })
    expect(identity.problem).toMatch(/is a directory, not a file/)
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    expect(model.install).toMatchObject({ sent: true, persisted: false, fingerprint: identity.fingerprint })
    expect(model.install.token).toBe(identity.token)
  })

  test("a data dir that cannot be created: an in-memory token, stable for the process, persisted false", async () => {
    // chmod does not stop root, so put the data dir under a regular file: mkdir fails with ENOTDIR for everyone.
    const blocker = path.join(install.root, "not-a-dir")
    await fs.writeFile(blocker, "")
    const env = { ...install.env, XDG_DATA_HOME: blocker }
    const a = await Identity.load(env)
    const b = await Identity.load(env)
    expect(a).toMatchObject({ persisted: false, path: path.join(blocker, "opencode", "install.json") })
    expect(a.problem).toContain("ENOTDIR")
    expect(b.token).toBe(a.token)
    // (Provider.getModel is not used here: the auth store refuses an auth.json path under a file.)
    const tag = Identity.tag(await Identity.resolve(env, {}), true)
    expect(tag).toMatchObject({ sent: true, persisted: false, fingerprint: a.fingerprint })
    expect(tag.token).toBe(a.token)
    const out = await runCli(["identity", "--json"], env)
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toMatchObject({ persisted: false, optedOut: false })
  })

  // Root ignores the mode (chmod cannot make a directory read-only for it), so under root this
  // shows as skipped rather than passing without asserting; the ENOTDIR test above covers root.
  test.skipIf(process.getuid?.() === 0)("a read-only data dir (chmod 0500) when not running as root", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    await fs.chmod(install.dataDir, 0o500)
    try {
      const identity = await Identity.load(install.env)
      expect(identity.persisted).toBe(false)
      expect(await fs.readdir(install.dataDir)).toEqual([])
    } finally {
      await fs.chmod(install.dataDir, 0o700)
    }
  })
})

describe("rotation", () => {
  test("identity --rotate: a new token, the old one's fingerprint recorded, later processes use the new one", async () => {
    const before = await identityJson()
    const out = await runCli(["identity", "--rotate", "--json"], install.env)
    expect(out.code).toBe(0)
    const rotated = JSON.parse(out.stdout) as { fingerprint: string }
    expect(rotated.fingerprint).not.toBe(before.fingerprint)
    const contents = await fileContents()
    expect(fingerprint(contents.token)).toBe(rotated.fingerprint)
    expect(contents).toMatchObject({ previousFingerprint: before.fingerprint, reason: "rotated", replacedAt: expect.any(String) })
    expect((await identityJson()).fingerprint).toBe(rotated.fingerprint)
    expect((await logLines()).at(-1)).toMatchObject({ event: "identity.replaced", reason: "rotated", previousFingerprint: before.fingerprint, fingerprint: rotated.fingerprint })
  })

  test("in process, rotation becomes this process's identity at once", async () => {
    const before = await Identity.load(install.env)
    const after = await Identity.rotate(install.env, {})
    expect(after.token).not.toBe(before.token)
    expect((await Provider.getModel("opencode", "big-pickle", install.env)).install.token).toBe(after.token)
  })

  test("rotation that cannot be saved is an error and keeps the current identity", async () => {
    const blocker = path.join(install.root, "not-a-dir")
    await fs.writeFile(blocker, "")
    const out = await runCli(["identity", "--rotate"], { ...install.env, XDG_DATA_HOME: blocker })
    expect(out.code).toBe(1)
    expect(out.stderr).toMatch(/could not be saved .*install\.json \(ENOTDIR\)/)
  })
})

describe("opting out", () => {
  const offValues = ["0", "off", "false", "OFF", "no"]
  for (const value of offValues)
    test(`${Identity.ENV_VAR}=${value}: no file, no header, the tag says so`, async () => {
      const env = { ...install.env, [Identity.ENV_VAR]: value }
      const shown = await identityJson(env)
      expect(shown).toMatchObject({ fingerprint: null, optedOut: true, persisted: false })
      const model = await Provider.getModel("opencode", "big-pickle", env)
      expect(model.install).toEqual({ sent: false, optedOut: true, persisted: false })
      expect(model.install.token).toBeUndefined()
      expect(await fs.exists(Identity.filePath(env))).toBe(false)
    })

  test(`${Identity.ENV_VAR}=1 does not opt out`, async () => {
    const model = await Provider.getModel("opencode", "big-pickle", { ...install.env, [Identity.ENV_VAR]: "1" })
    expect(model.install).toMatchObject({ sent: true, optedOut: false })
  })

  test('opencode.json "pawwork": { "installIdentity": false }: no file, no header; env "1" cannot override it', async () => {
    await install.writeConfig({ pawwork: { installIdentity: false } })
    for (const env of [install.env, { ...install.env, [Identity.ENV_VAR]: "1" }]) {
      expect(await identityJson(env)).toMatchObject({ optedOut: true, fingerprint: null })
      const model = await Provider.getModel("opencode", "big-pickle", env)
      expect(model.install).toEqual({ sent: false, optedOut: true, persisted: false })
    }
    const human = await runCli(["identity"], install.env)
    expect(human.stdout).toContain("off")
    expect(await fs.exists(Identity.filePath(install.env))).toBe(false)
  })

  test("rotating while opted out is refused and creates nothing", async () => {
    const out = await runCli(["identity", "--rotate"], { ...install.env, [Identity.ENV_VAR]: "off" })
    expect(out.code).toBe(1)
    expect(out.stderr).toContain("turned off")
    expect(await fs.exists(install.dataDir)).toBe(false)
  })
})

describe("the tag on a resolved model", () => {
  test("opencode providers send it; a custom provider gets the fingerprint for reports but never the token", async () => {
    await install.writeConfig({
      provider: { mycustom: { npm: "@ai-sdk/openai-compatible", options: { baseURL: "http://127.0.0.1:9/v1" }, models: { "big-pickle": {} } } },
    })
    const identity = await Identity.load(install.env)
    const zen = await Provider.getModel("opencode", "big-pickle", install.env)
    const custom = await Provider.getModel("mycustom", "big-pickle", install.env)
    expect(zen.install).toEqual({ sent: true, optedOut: false, persisted: true, fingerprint: identity.fingerprint })
    expect(zen.install.token).toBe(identity.token)
    expect(custom.install).toEqual({ sent: false, optedOut: false, persisted: true, fingerprint: identity.fingerprint })
    expect(custom.install.token).toBeUndefined()
    expect(JSON.stringify(zen)).not.toContain(identity.token)
  })

  test("an unknown model fails before any identity file is created", async () => {
    await expect(Provider.getModel("opencode", "nope", install.env)).rejects.toBeInstanceOf(Provider.ModelNotFoundError)
    expect(await fs.exists(Identity.filePath(install.env))).toBe(false)
  })
})
