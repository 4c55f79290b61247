import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import { Provider } from "../src/provider"
import * as KeyText from "../src/provider/key-text"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"

// A key pasted with its newline, an env file's `\r`, `{env:VAR}` from a file: trimmed once, where it
// is read, so the key sent, the key fingerprinted and the key removed from echoes are one. A key with
// a control or invisible character inside is refused, naming where it came from and what to do.

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

const credential = async (env = install.env) => (await Provider.list(env)).opencode!.credential

describe("KeyText.check", () => {
  test("surrounding whitespace is trimmed and said so; a clean key is as it was", () => {
    expect(KeyText.check(" \tkey.PLANTED\r\n")).toEqual({ ok: true, key: "key.PLANTED", trimmed: true })
    expect(KeyText.check("key.PLANTED")).toEqual({ ok: true, key: "key.PLANTED", trimmed: false })
  })

  test("a control or invisible character inside is named by code point, never shown with the key", () => {
    expect(KeyText.check("key\nPLANTED")).toEqual({ ok: false, problem: "contains a line break (U+000A)" })
    expect(KeyText.check("key\u200bPLANTED")).toEqual({ ok: false, problem: "contains a zero-width space (U+200B)" })
    expect(KeyText.check("key\u202ePLANTED")).toEqual({ ok: false, problem: "contains an invisible or control character (U+202E)" })
  })

  test("a character no HTTP header can carry (pasted typography) is refused too, not left to fail as the provider's answer", () => {
    expect(KeyText.check("key.PLANTED\u2026")).toEqual({ ok: false, problem: "contains a character an HTTP header cannot carry (U+2026)" })
    expect(KeyText.check("\u201ckey.PLANTED\u201d")).toEqual({ ok: false, problem: "contains a character an HTTP header cannot carry (U+201C)" })
  })
})

describe("keys with surrounding whitespace are trimmed where they are read", () => {
  test("from the environment", async () => {
    const key = plantedSecret("env")
    expect(await credential({ ...install.env, OPENCODE_API_KEY: `${key}\r\n` })).toMatchObject({
      source: "env",
      key,
      fingerprint: fingerprint(key),
      trimmed: true,
    })
  })

  test("from opencode.json, through {env:VAR}", async () => {
    const key = plantedSecret("cfg")
    await install.writeConfig({ provider: { opencode: { options: { apiKey: "{env:MY_KEY}" } } } })
    expect(await credential({ ...install.env, MY_KEY: ` ${key}\n` })).toMatchObject({ source: "config", key, fingerprint: fingerprint(key), trimmed: true })
  })

  test("from auth.json", async () => {
    const key = plantedSecret("saved")
    await Auth.set("opencode", { type: "api", key: `${key}\n` }, install.env)
    expect(await credential()).toMatchObject({ source: "auth", key, fingerprint: fingerprint(key), trimmed: true })
  })

  test("a clean key carries no note", async () => {
    expect((await credential({ ...install.env, OPENCODE_API_KEY: "sk-clean-key" })).trimmed).toBeUndefined()
  })

  test("request --dry-run says so, and its key fingerprint is the one in the Authorization header", async () => {
    const key = plantedSecret("dry")
    const env = { ...install.env, OPENCODE_API_KEY: `\t${key}\n` }
    const asJson = await runCli(["request", "--dry-run", "--json"], env)
    expect(asJson.code).toBe(0)
    const report = JSON.parse(asJson.stdout)
    expect(report).toMatchObject({ keyTrimmed: true, keyFingerprint: fingerprint(key) })
    expect(report.headers.authorization).toBe(`Bearer ${fingerprint(key)}`)
    const human = await runCli(["request", "--dry-run"], env)
    expect(human.stdout).toContain(`key: env OPENCODE_API_KEY ${fingerprint(key)} (whitespace around the key was trimmed)`)
    expect(leakedFragments(asJson.stdout + asJson.stderr + human.stdout + human.stderr, { key })).toEqual([])
  })
})

describe("keys with a control character inside are refused with a clear error", () => {
  test("from the environment: names the variable", async () => {
    const key = plantedSecret("env")
    const error = await credential({ ...install.env, OPENCODE_API_KEY: `${key}\u0007x` }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Provider.KeyInvalidError)
    expect((error as Error).message).toContain("in the environment variable OPENCODE_API_KEY contains an invisible or control character (U+0007)")
    expect((error as Error).message).toContain("Set OPENCODE_API_KEY to the key alone")
    expect(leakedFragments((error as Error).message, { key })).toEqual([])
  })

  test("from opencode.json: names the field", async () => {
    await install.writeConfig({ provider: { opencode: { options: { apiKey: "{env:MY_KEY}" } } } })
    const error = await credential({ ...install.env, MY_KEY: `${plantedSecret("cfg")}\r\nsecond-line` }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Provider.KeyInvalidError)
    expect((error as Error).message).toContain("opencode.json (provider.opencode.options.apiKey) contains a carriage return (U+000D)")
  })

  test("from auth.json: names the file and says to save the key again", async () => {
    await Auth.set("opencode", { type: "api", key: `${plantedSecret("saved")}\u200b` }, install.env)
    const error = await credential().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Provider.KeyInvalidError)
    expect((error as Error).message).toContain(`${Auth.filePath(install.env)} contains a zero-width space (U+200B)`)
    expect((error as Error).message).toContain("auth set opencode")
  })

  test("a configured header value too", async () => {
    await install.writeConfig({ provider: { opencode: { options: { headers: { "X-Relay-Key": `${plantedSecret("hdr")}\u001b[2J` } } } } })
    const error = await credential().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Provider.HeaderInvalidError)
    expect((error as Error).message).toContain('The header "X-Relay-Key" configured for opencode in opencode.json')
  })

  test("a configured header name that is no HTTP token is refused naming it, not left to fail as the provider's answer", async () => {
    await install.writeConfig({ provider: { opencode: { options: { headers: { "X-Relay Key": plantedSecret("hdr") } } } } })
    const error = await credential().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Provider.HeaderInvalidError)
    expect((error as Error).message).toContain('The header "X-Relay Key" configured for opencode in opencode.json')
    expect((error as Error).message).toContain("is not a valid header name")
  })

  test("run: exit 1, the error on stderr and in --json, the key nowhere", async () => {
    const key = plantedSecret("run")
    // (A NUL cannot be passed in an environment variable at all.)
    const out = await runCli(["run", "--json", "hi"], { ...install.env, OPENCODE_API_KEY: `${key}\u001b` })
    expect(out.code).toBe(1)
    expect(JSON.parse(out.stdout).error.code).toBe("key_invalid")
    expect(out.stderr).toContain("OPENCODE_API_KEY contains an escape character (U+001B)")
    expect(leakedFragments(out.stdout + out.stderr, { key })).toEqual([])
  })

  test("auth set refuses one on stdin and saves nothing", async () => {
    for (const [input, named] of [
      [`${plantedSecret("set")}\u001b[31m\n`, "an escape character (U+001B)"],
      [`${plantedSecret("set")}\u200b\n`, "a zero-width space (U+200B)"],
      [`${plantedSecret("set")}\r${plantedSecret("two")}\n`, "a carriage return (U+000D)"],
      [`${plantedSecret("set")}\u2014${plantedSecret("two")}\n`, "a character an HTTP header cannot carry (U+2014)"],
    ] as const) {
      const out = await runCli(["auth", "set", "opencode"], install.env, input)
      expect(out.code).toBe(2)
      expect(out.stderr).toContain(`The key on stdin contains ${named}`)
      expect(leakedFragments(out.stdout + out.stderr, { input })).toEqual([])
    }
    expect(await fs.exists(path.join(install.dataDir, "auth.json"))).toBe(false)
  })
})
