import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test"
import * as Identity from "../src/auth/identity"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"

// These tests start CLI processes; on a loaded machine a few of them take longer than the default 5 s.
setDefaultTimeout(60_000)

let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

interface Report {
  url: string
  providerID: string
  modelID: string
  authSource: string
  authEnvVar?: string
  keyFingerprint?: string
  headers: Record<string, string>
  install: { fingerprint: string | null; persisted: boolean; sent: boolean; optedOut: boolean }
  body: { model: string; messages: unknown[] }
}

async function dryRun(args: string[], env = install.env) {
  const out = await runCli(["request", "--dry-run", "--json", ...args], env)
  expect(out.stderr).toBe("")
  expect(out.code).toBe(0)
  return { report: JSON.parse(out.stdout) as Report, stdout: out.stdout }
}

async function installFingerprint(env = install.env) {
  const out = await runCli(["identity", "--json"], env)
  return (JSON.parse(out.stdout) as { fingerprint: string }).fingerprint
}

describe("request --dry-run: the install header and the auth source for each source", () => {
  test("public: anonymous key shown as such, install header as its fingerprint", async () => {
    const { report } = await dryRun(["--model", "opencode/big-pickle", "--session", "ses_dry"])
    expect(report).toMatchObject({ url: "https://opencode.ai/zen/v1/chat/completions", providerID: "opencode", modelID: "big-pickle", authSource: "public" })
    expect(report.keyFingerprint).toBeUndefined()
    expect(report.headers.authorization).toBe("Bearer public")
    expect(report.headers["x-opencode-session"]).toBe("ses_dry")
    const fp = await installFingerprint()
    expect(report.headers["x-pawwork-install"]).toBe(fp)
    expect(report.install).toEqual({ fingerprint: fp, persisted: true, sent: true, optedOut: false })
    expect(report.body.model).toBe("big-pickle")
  })

  test("env: OPENCODE_API_KEY, named, fingerprinted, never printed", async () => {
    const key = plantedSecret("sk-env")
    const env = { ...install.env, OPENCODE_API_KEY: key }
    const { report, stdout } = await dryRun(["--model", "opencode/claude-sonnet-4-5"], env)
    expect(report).toMatchObject({ authSource: "env", authEnvVar: "OPENCODE_API_KEY", keyFingerprint: fingerprint(key) })
    expect(report.headers.authorization).toBe(`Bearer ${fingerprint(key)}`)
    expect(report.headers["x-pawwork-install"]).toBe(await installFingerprint(env))
    expect(stdout).not.toContain(key)
  })

  test("auth: a saved key wins over the env key", async () => {
    const saved = plantedSecret("sk-saved")
    const envKey = plantedSecret("sk-env")
    expect((await runCli(["auth", "set", "opencode"], install.env, saved)).code).toBe(0)
    const { report, stdout } = await dryRun(["--model", "opencode-go/glm-5"], { ...install.env, OPENCODE_API_KEY: envKey })
    expect(report).toMatchObject({ url: "https://opencode.ai/zen/go/v1/chat/completions", providerID: "opencode-go", authSource: "env" })
    // opencode-go has no saved key of its own: the env key applies there; the saved one is opencode's
    const zen = await dryRun(["--model", "opencode/big-pickle"], { ...install.env, OPENCODE_API_KEY: envKey })
    expect(zen.report).toMatchObject({ authSource: "auth", keyFingerprint: fingerprint(saved) })
    expect(zen.report.authEnvVar).toBeUndefined()
    expect(zen.report.headers.authorization).toBe(`Bearer ${fingerprint(saved)}`)
    expect(zen.report.headers["x-pawwork-install"]).toMatch(/^fp_[0-9a-f]{12}$/)
    for (const text of [stdout, zen.stdout]) {
      expect(text).not.toContain(saved)
      expect(text).not.toContain(envKey)
    }
  })

  test("config: options.apiKey wins over saved and env keys", async () => {
    const configKey = plantedSecret("sk-config")
    const saved = plantedSecret("sk-saved")
    await runCli(["auth", "set", "opencode"], install.env, saved)
    await install.writeConfig({ provider: { opencode: { options: { apiKey: configKey } } } })
    const { report, stdout } = await dryRun(["--model", "opencode/big-pickle"], { ...install.env, OPENCODE_API_KEY: plantedSecret("sk-env") })
    expect(report).toMatchObject({ authSource: "config", keyFingerprint: fingerprint(configKey) })
    expect(report.headers.authorization).toBe(`Bearer ${fingerprint(configKey)}`)
    expect(report.headers["x-pawwork-install"]).toBe(report.install.fingerprint!)
    expect(stdout).not.toContain(configKey)
  })

  test("a custom provider: no install header, no key (source none)", async () => {
    await install.writeConfig({
      provider: { mycustom: { npm: "@ai-sdk/openai-compatible", options: { baseURL: "http://127.0.0.1:9/v1" }, models: { "big-pickle": {} } } },
    })
    const { report } = await dryRun(["--model", "mycustom/big-pickle"])
    expect(report.authSource).toBe("none")
    expect(report.headers["x-pawwork-install"]).toBeUndefined()
    expect(report.headers.authorization).toBeUndefined()
    expect(report.install.sent).toBe(false)
    expect(Object.keys(report.headers).some((h) => h.startsWith("x-opencode-"))).toBe(false)
  })

  test("opted out: no install header and the report says so", async () => {
    const { report } = await dryRun(["--model", "opencode/big-pickle"], { ...install.env, [Identity.ENV_VAR]: "0" })
    expect(report.headers["x-pawwork-install"]).toBeUndefined()
    expect(report.install).toEqual({ fingerprint: null, persisted: false, sent: false, optedOut: true })
  })

  test("the text form shows the same, redacted", async () => {
    const key = plantedSecret("sk-env")
    const out = await runCli(["request", "--dry-run", "--model", "opencode/big-pickle"], { ...install.env, OPENCODE_API_KEY: key })
    expect(out.code).toBe(0)
    expect(out.stdout).toContain("Dry run: nothing was sent.")
    expect(out.stdout).toContain(`authorization: Bearer ${fingerprint(key)}`)
    expect(out.stdout).toMatch(/x-pawwork-install: fp_[0-9a-f]{12}/)
    expect(out.stdout).not.toContain(key)
  })

  test("without --dry-run: a usage error saying only dry runs are supported, nothing built", async () => {
    const out = await runCli(["request", "--model", "opencode/big-pickle"], install.env)
    expect(out.code).toBe(2)
    expect(out.stderr).toContain("only supports dry runs")
    expect(out.stdout).toBe("")
  })
})
