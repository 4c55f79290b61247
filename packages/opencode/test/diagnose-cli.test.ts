import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { tokenOf } from "./fixture/sim-install"

/**
 * The CLI end to end, in child processes: `run` writes diagnostics, `diagnose` reads them (table,
 * findings, --json, filters, a damaged log), `diagnose --bundle` writes a redacted bundle. Then a
 * scan of everything the runtime and CLI wrote for every planted secret: keys from opencode.json,
 * auth.json and env, cookies in a provider's headers and in an upstream error body, the raw
 * install token.
 */

// Dotted UUIDs have no run long enough for util/scrub.ts's shape rules: only the allow-lists and the
// redaction of credential fields keep these out, so the scan tests those, not just the scrubber.
const shapeless = (name: string) => `${name}.${crypto.randomUUID().replaceAll("-", ".")}`
// Short values of no recognisable shape: only the bundle's allow-list can keep them out.
const short = (name: string) => `${name}${crypto.randomUUID().slice(0, 8)}`

const SECRET = {
  configKey: shapeless("cfg"),
  shapelessCookie: shapeless("ck"),
  shapelessCustom: shapeless("cu"),
  savedKey: plantedSecret("sk-saved"),
  envKey: plantedSecret("sk-env"),
  headerCookie: plantedSecret("cookie-header"),
  customKey: plantedSecret("sk-custom"),
  upstreamCookie: plantedSecret("cookie-upstream"),
  upstreamToken: plantedSecret("tok-upstream"),
  // Config fields whose names no deny-list of "secret" words would catch.
  awsAccessKeyId: `AKIA${crypto.randomUUID().slice(0, 12).replace("-", "").toUpperCase()}`,
  awsSecretAccessKey: `${short("PLsecret")}/abc+def`,
  awsPrivateKey: short("PLpriv"),
  awsSessionToken: short("PLsess"),
  azClientCredential: short("PLcred"),
  mcpToken: short("PLmcp"),
  headerValue: short("PLhdr"),
  envSubstituted: short("PLenv"),
  urlUser: short("PLuser"),
  urlPassword: short("PLpass"),
  urlQuery: short("PLqry"),
  urlFragment: short("PLfrag"),
}

let sim: Simulator
let install: TestInstall
const outputs: string[] = []
const cleanups: TestInstall[] = []

async function cli(args: string[], env = install.env) {
  const result = await runCli(args, env)
  outputs.push(result.stdout, result.stderr)
  return result
}

beforeAll(async () => {
  sim = await startSimulator({
    config: {
      newClientBonus: false,
      // The opencode.json key is a real Zen key here, so its requests reach the upstream fault.
      workspaces: [{ id: "wrk_cli", balanceUSD: 10, members: [{ userID: "usr_cli", keys: [SECRET.configKey] }] }],
      faults: [
        {
          status: 400,
          kind: "raw",
          // A plain-text echo from in front of the gateway: the gateway itself turns non-JSON upstream bodies into its own 500.
          source: "edge",
          model: "gpt-5-nano",
          count: -1,
          body: `request rejected; Cookie: sid=${SECRET.upstreamCookie}; authorization: Bearer ${SECRET.upstreamToken}; key ${SECRET.configKey}`,
        },
      ],
    },
  })
  install = await makeInstall({ OPENCODE_API_KEY: SECRET.envKey, PLANT_AZ_KEY: SECRET.envSubstituted })
  cleanups.push(install)
  await install.writeConfig({
    provider: {
      opencode: {
        options: { baseURL: sim.zenBaseURL, apiKey: SECRET.configKey, headers: { Cookie: `session=${SECRET.headerCookie}`, "X-Session": SECRET.shapelessCookie } },
      },
      "opencode-go": { options: { baseURL: sim.goBaseURL } },
      mine: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: `https://user:${SECRET.customKey}@llm.example.com/v1?key=${SECRET.customKey}`, apiKey: SECRET.shapelessCustom, headers: { Cookie: SECRET.headerCookie } },
        models: { m: {} },
      },
      aws: {
        npm: "@ai-sdk/amazon-bedrock",
        name: "Bedrock",
        options: {
          baseURL: `https://${SECRET.urlUser}:${SECRET.urlPassword}@bedrock.example.com/v1?X-Amz-Security-Token=${SECRET.urlQuery}#${SECRET.urlFragment}`,
          accessKeyId: SECRET.awsAccessKeyId,
          secretAccessKey: SECRET.awsSecretAccessKey,
          privateKey: SECRET.awsPrivateKey,
          sessionToken: SECRET.awsSessionToken,
          region: "us-east-1",
          timeout: 30000,
          headers: { "X-Amz-Target": SECRET.headerValue },
        },
        models: { "claude-x": { name: "Claude X", cost: { input: 3, output: 15 } } },
      },
      az: { options: { clientCredential: SECRET.azClientCredential, apiKey: "{env:PLANT_AZ_KEY}", useDeploymentBasedUrls: true } },
    },
    mcp: { srv: { type: "local", command: ["npx", "srv", "--token", SECRET.mcpToken], enabled: true } },
    $schema: "https://opencode.ai/config.json",
    model: "opencode/big-pickle",
    small_model: "opencode/gpt-5-nano",
  })
  // The saved Go key is unknown to the gateway: an auth failure on the saved-key path.
  await Auth.set("opencode-go", { type: "api", key: SECRET.savedKey }, install.env)

  // Three turns: an upstream 400 whose body carries a cookie and tokens (config key), a rejected
  // saved key (Go), and one that works.
  await cli(["run", "--model", "opencode/gpt-5-nano", "--session", "ses_cli_upstream", "hello"])
  await cli(["run", "--model", "opencode-go/glm-5", "--session", "ses_cli_saved", "hello"])
  await cli(["run", "--model", "opencode/big-pickle", "--session", "ses_cli_ok", "hello"])
}, 120_000)

afterAll(async () => {
  await sim.stop()
  await Promise.all(cleanups.map((i) => i.cleanup()))
})

describe("diagnose", () => {
  test("the table and the findings of what happened, per credential path", async () => {
    const { stdout, stderr, code } = await cli(["diagnose"])
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(stdout).toStartWith("3 requests to OpenCode providers: 2 failed, 0 recovered after retries · 2 failed attempts · 1 log file\n")
    expect(stdout).toMatch(/TIME +MODEL +AUTH +STATUS +KIND +ORIGIN +RETRY-AFTER \/ RESET +ATTEMPT +ACTION/)
    expect(stdout).toMatch(/opencode\/gpt-5-nano +config +400 +invalid_request +upstream +- +1 +stop \(not_retryable\)/)
    expect(stdout).toMatch(/opencode-go\/glm-5 +auth +401 +auth +gateway +- +1 +stop \(not_retryable\)/)
    expect(stdout).toContain(`- Saved key ${fingerprint(SECRET.savedKey)} rejected (HTTP 401 AuthError): re-enter it (\`auth set opencode-go\`).`)
    expect(stdout).toContain("- opencode/gpt-5-nano rejected the request as invalid (HTTP 400): request rejected; Cookie: [redacted]")
  }, 60_000)

  test("--json gives the records and the findings; --session and --since filter", async () => {
    const all = JSON.parse((await cli(["diagnose", "--json"])).stdout) as { failures: { sessionID: string; keyFingerprint?: string }[]; findings: string[]; skipped: number }
    expect(all.failures.map((f) => f.sessionID)).toEqual(["ses_cli_upstream", "ses_cli_saved"])
    expect(all.failures[0]!.keyFingerprint).toBe(fingerprint(SECRET.configKey))
    expect(all.findings).toHaveLength(2)
    expect(all.skipped).toBe(0)

    const one = JSON.parse((await cli(["diagnose", "--json", "--session", "ses_cli_saved"])).stdout) as typeof all
    expect(one.failures.map((f) => f.sessionID)).toEqual(["ses_cli_saved"])
    const recent = JSON.parse((await cli(["diagnose", "--json", "--since", "1h"])).stdout) as typeof all
    expect(recent.failures).toHaveLength(2)
    const future = JSON.parse((await cli(["diagnose", "--json", "--since", "2999-01-01T00:00:00Z"])).stdout) as typeof all
    expect(future).toEqual({ failures: [], findings: [], skipped: 0 })
  }, 60_000)

  test("a bad --since is a usage error (exit 2) naming the accepted forms", async () => {
    const { stderr, code, stdout } = await cli(["diagnose", "--since", "last tuesday"])
    expect(code).toBe(2)
    expect(stdout).toBe("")
    expect(stderr).toContain('--since "last tuesday" is not a time')
    expect(stderr).toContain("30m, 2h, 1d")
  }, 60_000)

  test("a damaged log: read to the end, the skipped lines counted", async () => {
    const logFile = path.join(install.dataDir, "log", "provider.jsonl")
    const good = (await fs.readFile(logFile, "utf8")).trimEnd().split("\n")
    const damaged = path.join(install.root, "damaged.jsonl")
    await fs.writeFile(damaged, [good[0], "garbage", good[1]!.slice(0, 50), "w".repeat(200_000), good[1], good[2]!.slice(0, 20)].join("\n"))
    const json = JSON.parse((await cli(["diagnose", damaged, "--json"])).stdout) as { failures: unknown[]; skipped: number }
    expect(json.skipped).toBe(4)
    expect(json.failures).toHaveLength(2)
    const human = await cli(["diagnose", damaged])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain("skipped 4 damaged lines")
  }, 60_000)

  test("a log that cannot be written: run still answers, and says so once", async () => {
    const blocked = await makeInstall()
    cleanups.push(blocked)
    await blocked.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL } } } })
    await fs.mkdir(blocked.dataDir, { recursive: true })
    await fs.writeFile(path.join(blocked.dataDir, "log"), "a file where the log directory should be")
    const { stdout, stderr, code } = await cli(["run", "--model", "opencode/big-pickle", "hello"], blocked.env)
    expect(code).toBe(0)
    expect(stdout).toContain("Hello from big-pickle")
    expect(stderr.match(/could not write its diagnostics log/g)).toHaveLength(1)
  }, 60_000)
})

describe("diagnose --bundle", () => {
  test("writes a 0600 bundle with the records, platform, redacted config, auth fingerprints and identity; never overwrites without --force", async () => {
    const out = path.join(install.root, "bundle.json")
    const { stdout, code } = await cli(["diagnose", "--bundle", out])
    expect(code).toBe(0)
    expect(stdout.trimEnd().split("\n")).toHaveLength(1)
    expect(stdout).toContain(`Support bundle written to ${out} (mode 0600): 3 records (2 failures), 2 findings`)
    expect((await fs.stat(out)).mode & 0o777).toBe(0o600)
    const bundle = JSON.parse(await fs.readFile(out, "utf8"))
    expect(bundle).toMatchObject({
      kind: "pawwork-support-bundle",
      runtimeVersion: expect.any(String),
      platform: { os: process.platform, arch: process.arch, bun: Bun.version },
      auth: { providers: [{ id: "opencode-go", type: "api", fingerprint: fingerprint(SECRET.savedKey) }] },
      identity: { optedOut: false, persisted: true, fingerprint: fingerprint(await tokenOf(install)) },
      skipped: 0,
    })
    expect(bundle.records).toHaveLength(3)
    expect(bundle.findings).toHaveLength(2)
    const providers = bundle.config.shape.provider
    expect(providers.opencode.options).toEqual({ baseURL: sim.zenBaseURL, apiKey: "<redacted>", headers: { Cookie: "<redacted>", "X-Session": "<redacted>" } })
    expect(providers.mine.options).toEqual({ baseURL: "https://llm.example.com/v1", apiKey: "<redacted>", headers: { Cookie: "<redacted>" } })
    // An allow-list: only known harmless values stay; every other string, whatever its key, is gone.
    expect(providers.aws).toEqual({
      npm: "@ai-sdk/amazon-bedrock",
      name: "Bedrock",
      options: {
        baseURL: "https://bedrock.example.com/v1",
        accessKeyId: "<redacted>",
        secretAccessKey: "<redacted>",
        privateKey: "<redacted>",
        sessionToken: "<redacted>",
        region: "<redacted>",
        timeout: 30000,
        headers: { "X-Amz-Target": "<redacted>" },
      },
      models: { "claude-x": { name: "Claude X", cost: { input: 3, output: 15 } } },
    })
    expect(providers.az.options).toEqual({ clientCredential: "<redacted>", apiKey: "{env:PLANT_AZ_KEY}", useDeploymentBasedUrls: true })
    expect(bundle.config.shape.mcp).toEqual({ srv: { type: "local", command: ["<redacted>", "<redacted>", "<redacted>", "<redacted>"], enabled: true } })
    expect(bundle.config.shape).toMatchObject({ $schema: "https://opencode.ai/config.json", model: "opencode/big-pickle", small_model: "opencode/gpt-5-nano" })

    const before = await fs.readFile(out, "utf8")
    const again = await cli(["diagnose", "--bundle", out])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("already exists")
    expect(await fs.readFile(out, "utf8")).toBe(before)
    const forced = await cli(["diagnose", "--bundle", out, "--force"])
    expect(forced.code).toBe(0)
    expect((await fs.stat(out)).mode & 0o777).toBe(0o600)
  }, 60_000)
})

describe("no secret in anything the runtime or the CLI wrote", () => {
  test("logs, bundle, stdout and stderr hold none of the planted keys, cookies or the install token", async () => {
    const token = await tokenOf(install)
    const files = [...(await fs.readdir(path.join(install.dataDir, "log"))).map((n) => path.join(install.dataDir, "log", n)), path.join(install.root, "bundle.json")]
    const texts = [...outputs, ...(await Promise.all(files.map((f) => fs.readFile(f, "utf8"))))]
    expect(files.some((f) => f.endsWith("provider.jsonl"))).toBe(true)
    expect(texts.join("\n")).toContain("[redacted]")
    for (const secret of [...Object.values(SECRET), token]) {
      // The whole value and its random tail, so a partly cut secret is caught too.
      const tail = secret.slice(-24)
      for (const text of texts) {
        expect(text).not.toContain(secret)
        expect(text).not.toContain(tail)
      }
    }
  }, 60_000)
})
