import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import { Config } from "../src/config"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

describe("opencode.json", () => {
  test("a missing file is an empty config", async () => {
    expect((await Config.load(install.env)).info).toEqual({})
  })

  test("OPENCODE_CONFIG takes precedence over XDG_CONFIG_HOME", async () => {
    await install.writeConfig({ model: "opencode/big-pickle" })
    const other = `${install.root}/elsewhere.json`
    await fs.writeFile(other, JSON.stringify({ model: "opencode/gpt-5-nano" }))
    expect((await Config.load(install.env)).info.model).toBe("opencode/big-pickle")
    const loaded = await Config.load({ ...install.env, OPENCODE_CONFIG: other })
    expect(loaded.file).toBe(other)
    expect(loaded.info.model).toBe("opencode/gpt-5-nano")
  })

  test("malformed JSON names the file, the line and the problem", async () => {
    // A missing comma: OpenCode reads opencode.json as JSONC, so a trailing comma would load.
    await install.writeConfig('{\n  "provider": {\n    "opencode": { "options": { "baseURL": "http://x" } "models": {} }\n  }\n}')
    const error = await Config.load(install.env).catch((e) => e)
    expect(error).toBeInstanceOf(Config.ConfigInvalidError)
    expect(error.message).toContain(install.configFile)
    expect(error.message).toMatch(/line 3, column \d+: expected ',' or '}'/)
  })

  test("a JSON error's position is the raw file's: the same whatever length an {env:VAR} value has", async () => {
    await install.writeConfig('{ "provider": { "opencode": { "options": { "apiKey": "{env:MY_KEY}" "x": 1 } } } }')
    const column = async (value: string) => {
      const error = await Config.load({ ...install.env, MY_KEY: value }).catch((e) => e)
      expect(error).toBeInstanceOf(Config.ConfigInvalidError)
      return /line 1, column (\d+)/.exec(error.message)?.[1]
    }
    const long = await column("x".repeat(40))
    expect(long).toBeDefined()
    expect(await column("x")).toBe(long)
    // The column of the unexpected `"x"` in the file as written.
    expect(long).toBe(String('{ "provider": { "opencode": { "options": { "apiKey": "{env:MY_KEY}" '.length + 1))
  })

  test("a wrong type names the field", async () => {
    await install.writeConfig({ provider: { opencode: { options: { baseURL: 42 } } } })
    await expect(Config.load(install.env)).rejects.toThrow(/provider\.opencode\.options\.baseURL/)
  })

  test("{env:VAR} is substituted, JSON-escaped", async () => {
    await install.writeConfig('{ "provider": { "opencode": { "options": { "apiKey": "{env:MY_KEY}" } } } }')
    const { info } = await Config.load({ ...install.env, MY_KEY: 'sk-"quoted"' })
    expect(info.provider?.opencode?.options?.apiKey).toBe('sk-"quoted"')
  })

  test("the CLI reports a malformed config in one paragraph, exit 1, and changes nothing", async () => {
    const broken = "{ \"model\": "
    await install.writeConfig(broken)
    const out = await runCli(["models"], install.env)
    expect(out.code).toBe(1)
    expect(out.stderr).toContain("is not valid JSON")
    expect(out.stderr).not.toContain("    at ")
    expect(await fs.readFile(install.configFile, "utf8")).toBe(broken)
    const json = await runCli(["models", "--json"], install.env)
    expect(JSON.parse(json.stdout).error.code).toBe("config_invalid")
  })
})
