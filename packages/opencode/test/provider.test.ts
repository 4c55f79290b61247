import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import * as Auth from "../src/auth"
import { Provider } from "../src/provider"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

async function credential(env = install.env) {
  return (await Provider.list(env)).opencode!.credential
}

describe("key precedence", () => {
  test("no key anywhere: the anonymous public key, paid models hidden", async () => {
    const providers = await Provider.list(install.env)
    expect(providers.opencode!.credential).toMatchObject({ source: "public", key: "public" })
    expect(providers.opencode!.credential.fingerprint).toBeUndefined()
    expect(Object.values(providers.opencode!.models).every((m) => m.free)).toBe(true)
    expect(providers.opencode!.hidden).toContain("claude-sonnet-4-5")
    expect(Object.keys(providers["opencode-go"]!.models)).toEqual([])
  })

  test("env key alone", async () => {
    const c = await credential({ ...install.env, OPENCODE_API_KEY: "sk-env" })
    expect(c).toMatchObject({ source: "env", envVar: "OPENCODE_API_KEY", key: "sk-env", fingerprint: fingerprint("sk-env") })
  })

  test("a saved key wins over the env key", async () => {
    await Auth.set("opencode", { type: "api", key: "sk-saved" }, install.env)
    const c = await credential({ ...install.env, OPENCODE_API_KEY: "sk-env" })
    expect(c).toMatchObject({ source: "auth", key: "sk-saved" })
  })

  test("a config key wins over saved and env keys", async () => {
    await Auth.set("opencode", { type: "api", key: "sk-saved" }, install.env)
    await install.writeConfig({ provider: { opencode: { options: { apiKey: "sk-config" } } } })
    const c = await credential({ ...install.env, OPENCODE_API_KEY: "sk-env" })
    expect(c).toMatchObject({ source: "config", key: "sk-config" })
  })

  test("an empty env value does not count as a key", async () => {
    expect((await credential({ ...install.env, OPENCODE_API_KEY: " " })).source).toBe("public")
  })

  test("with a key, paid models are offered", async () => {
    const providers = await Provider.list({ ...install.env, OPENCODE_API_KEY: "sk-env" })
    expect(providers.opencode!.models["claude-sonnet-4-5"]?.free).toBe(false)
    expect(Object.keys(providers["opencode-go"]!.models).length).toBeGreaterThan(0)
  })

  test("the key never appears when a credential or resolved model is serialised", async () => {
    await Auth.set("opencode", { type: "api", key: "sk-never-serialised" }, install.env)
    const resolved = await Provider.getModel("opencode", "big-pickle", install.env)
    expect(resolved.provider.credential.key).toBe("sk-never-serialised")
    expect(JSON.stringify(resolved)).not.toContain("sk-never-serialised")
    expect(JSON.stringify({ ...resolved.provider.credential })).not.toContain("sk-never-serialised")
  })

  test("an unusable saved entry for the provider is an error, not a silent fallback to public", async () => {
    await fs.mkdir(install.dataDir, { recursive: true })
    await fs.writeFile(Auth.filePath(install.env), JSON.stringify({ opencode: { type: "api" } }))
    await expect(Provider.list(install.env)).rejects.toThrow(/unusable entry for "opencode"/)
  })
})

describe("models and config", () => {
  test("unknown model: the error lists the available ones", async () => {
    const error = await Provider.getModel("opencode", "nope", install.env).catch((e) => e)
    expect(error).toBeInstanceOf(Provider.ModelNotFoundError)
    expect(error.available).toContain("opencode/big-pickle")
    expect(error.message).toContain("opencode/big-pickle")
  })

  test("a paid model without a key says why it is missing", async () => {
    await expect(Provider.getModel("opencode", "claude-sonnet-4-5", install.env)).rejects.toThrow(/paid model and no OpenCode API key/)
  })

  test("baseURL override and custom providers from opencode.json", async () => {
    await install.writeConfig({
      provider: {
        opencode: { options: { baseURL: "http://127.0.0.1:9/zen/v1/" } },
        mine: { npm: "@ai-sdk/openai-compatible", name: "Mine", options: { baseURL: "http://127.0.0.1:9/v1" }, models: { "m-1": { name: "M One" } } },
      },
    })
    const providers = await Provider.list(install.env)
    expect(providers.opencode!.baseURL).toBe("http://127.0.0.1:9/zen/v1")
    expect(providers.mine).toMatchObject({ name: "Mine", opencode: false, credential: { source: "none" } })
    expect(providers.mine!.models["m-1"]).toMatchObject({ name: "M One", free: true })
  })

  test("a custom provider on another npm package is refused clearly when used", async () => {
    await install.writeConfig({ provider: { other: { npm: "@ai-sdk/anthropic", options: { baseURL: "http://x" }, models: { a: {} } } } })
    const resolved = await Provider.getModel("other", "a", install.env)
    expect(() => Provider.languageModel(resolved)).toThrow(/bundles only @ai-sdk\/openai-compatible/)
  })

  test("models --json lists usable models with the free flag", async () => {
    const out = await runCli(["models", "--json"], install.env)
    expect(out.code).toBe(0)
    const rows = JSON.parse(out.stdout) as { id: string; free: boolean }[]
    expect(rows).toContainEqual({ id: "opencode/big-pickle", free: true })
    expect(rows.every((r) => r.free)).toBe(true)
  })

  test("run with an unknown model exits 1 listing the available models; --json gives an error object", async () => {
    const out = await runCli(["run", "--model", "opencode/nope", "--json", "hi"], install.env)
    expect(out.code).toBe(1)
    expect(out.stderr).toContain("opencode/big-pickle")
    expect(JSON.parse(out.stdout)).toMatchObject({ error: { code: "model_not_found" } })
  })
})
