import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { ProviderError } from "../src/provider"
import { makeInstall, keyShapedSecret, runCli, type TestInstall } from "./fixture/install"

const NOW = "2026-11-21T10:02:57Z"
let install: TestInstall
let sim: Simulator

beforeAll(async () => {
  install = await makeInstall({ TZ: "Asia/Tokyo" })
  sim = await startSimulator({ now: NOW, frozenClock: true, config: { newClientBonus: false } })
  await install.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL } }, "opencode-go": { options: { baseURL: sim.goBaseURL } } } })
})
afterAll(async () => {
  await sim.stop()
  await install.cleanup()
})

const body = (type: string, metadata?: Record<string, unknown>) =>
  JSON.stringify({ type: "error", error: { type, message: "localised text" }, ...(metadata ? { metadata } : {}) })

// Every error type the gateway sends, with the status and headers it sends it with.
const gatewayErrors: [status: number, headers: string[], body: string, expected: Partial<ProviderError.Info>][] = [
  [429, ["retry-after: 50223"], body("FreeUsageLimitError", {}), { kind: "free_usage_limit", quotaScope: "ip-daily", resetAt: "2026-11-22T00:00:00.000Z", retryAfterMs: 50_223_000 }],
  [429, ["retry-after: 60"], body("RateLimitError", {}), { kind: "rate_limit", retryable: true, action: "retry", quotaScope: "key-minute" }],
  [401, [], body("AuthError"), { kind: "auth" }],
  [401, [], body("CreditsError"), { kind: "credits_exhausted", quotaScope: "balance" }],
  [401, [], body("MonthlyLimitError"), { kind: "spend_limit", quotaScope: "spend-limit" }],
  [401, [], body("UserLimitError"), { kind: "spend_limit", quotaScope: "spend-limit" }],
  [401, [], body("ModelError"), { kind: "model_unavailable" }],
  [403, [], body("RegionError"), { kind: "region_blocked" }],
  [
    429,
    ["retry-after: 18000"],
    body("GoUsageLimitError", { workspace: "wrk_go", limitName: "5 hour" }),
    { kind: "go_usage_limit", limitName: "5 hour", workspaceID: "wrk_go", quotaScope: "workspace-5h", resetAt: "2026-11-21T15:02:57.000Z" },
  ],
  [200, ["retry-after: 68400"], body("GoUsageLimitError", { workspace: "wrk_go", limitName: "weekly" }), { kind: "go_usage_limit", statusCode: 200, quotaScope: "workspace-weekly" }],
  [429, ["retry-after: 7200"], body("BlackUsageLimitError", {}), { kind: "subscription_usage_limit" }],
  [403, [], body("EntitlementError"), { kind: "auth" }],
  [500, [], JSON.stringify({ type: "error", error: { type: "error", message: "Internal server error" } }), { kind: "server_error", retryable: true }],
  [529, [], JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Error from provider (anthropic): Overloaded" } }), { kind: "overloaded", provider: "anthropic" }],
]

describe("cli classify", () => {
  for (const [status, headers, text, expected] of gatewayErrors) {
    test(`--json: ${status} ${expected.kind} ${JSON.parse(text).error.type}`, async () => {
      const file = path.join(install.root, `body-${status}-${expected.kind}.json`)
      await fs.writeFile(file, text)
      const args = ["classify", "--status", String(status), ...headers.flatMap((h) => ["--header", h]), "--body-file", file, "--json", "--now", NOW]
      const { stdout, stderr, code } = await runCli(args, install.env)
      expect(stderr).toBe("")
      expect(code).toBe(0)
      const info = ProviderError.Info.parse(JSON.parse(stdout))
      expect(info).toMatchObject({ statusCode: status, upstreamType: JSON.parse(text).error.type, ...expected })
      for (const field of ["kind", "origin", "retryable", "action", "statusCode", "upstreamType", "quotaScope", "limitName", "workspaceID", "retryAfterRaw", "retryAfterMs", "resetAt", "message", "userMessage"])
        expect(Object.keys(info)).toContain(field)
    })
  }

  test("human output: kind, whether waiting helps and until when (local time), what to do; the body from stdin", async () => {
    const { stdout, code } = await runCli(["classify", "--status", "429", "--header", "Retry-After: 50223", "--body-file", "-", "--now", NOW], install.env, body("FreeUsageLimitError", {}))
    expect(code).toBe(0)
    expect(stdout).toContain("kind:          free_usage_limit (HTTP 429, FreeUsageLimitError)")
    expect(stdout).toContain("waiting helps: only after the reset")
    // 00:00 UTC is 09:00 in Tokyo (the install's TZ).
    expect(stdout).toContain("09:00")
    expect(stdout).toContain("in 13 h 57 min")
    expect(stdout).toContain("everyone on the same network or VPN shares")
    expect(stdout).toContain("auth set opencode")
  })

  test("human output names the origin: the free-tier gate is the gateway's, and not a key problem", async () => {
    const gated = JSON.stringify({
      type: "error",
      error: { type: "FreeTierError", message: "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode" },
    })
    const { stdout, code } = await runCli(["classify", "--status", "403", "--body-file", "-", "--now", NOW], install.env, gated)
    expect(code).toBe(0)
    expect(stdout).toContain("kind:          free_tier_gated (HTTP 403, FreeTierError)")
    expect(stdout).toContain("origin:        gateway (OpenCode's gateway, about this account, its limits or this client)")
    expect(stdout).toContain("action:        stop")
    expect(stdout).toContain("not a key problem")
    expect(stdout).toContain("`auth set opencode`")
  })

  test("a pasted answer from a PawWork relay: support sees the relay's account, not the user's, and the relay's own refusals as the relay's", async () => {
    const relayed = await runCli(["classify", "--status", "429", "--header", "x-pawwork-relay: 1", "--body-file", "-", "--now", NOW], install.env, body("FreeUsageLimitError", {}))
    expect(relayed.code).toBe(0)
    expect(relayed.stdout).toContain("origin:        gateway (OpenCode's gateway, about the PawWork relay's own account, passed on by the relay)")
    expect(relayed.stdout).toContain("OpenCode's free allowance for the PawWork relay is used up")
    expect(relayed.stdout).not.toContain("everyone on the same network or VPN shares")
    const json = await runCli(["classify", "--status", "429", "--header", "x-pawwork-relay: 1", "--body-file", "-", "--json"], install.env, body("FreeUsageLimitError", {}))
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: "free_usage_limit", relayed: true })
    const own = await runCli(["classify", "--status", "429", "--body-file", "-", "--now", NOW], install.env, body("InstallLimitError", {}))
    expect(own.stdout).toContain("origin:        gateway (the PawWork relay, about this install's request)")
  })

  test("an unprefixed provider 401: OpenCode's side by default, the custom provider's own key with --provider", async () => {
    const rejected = JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } })
    const behind = await runCli(["classify", "--status", "401", "--body-file", "-", "--now", NOW], install.env, rejected)
    expect(behind.code).toBe(0)
    expect(behind.stdout).toContain("origin:        upstream (the model provider or a server on the way, not the gateway's account checks)")
    expect(behind.stdout).toContain("OpenCode's own account")
    expect(behind.stdout.split("\n").at(-2)).not.toMatch(/auth set|API key/)
    const mine = await runCli(["classify", "--status", "401", "--provider", "mine", "--body-file", "-", "--now", NOW], install.env, rejected)
    expect(mine.code).toBe(0)
    expect(mine.stdout).toContain("The provider rejected the credentials (HTTP 401)")
    expect(mine.stdout).toContain("`auth set <provider>`")
  })

  test("a planted key in the pasted body is redacted in both outputs", async () => {
    const key = keyShapedSecret("sk-classify")
    const file = path.join(install.root, "secret.json")
    await fs.writeFile(file, JSON.stringify({ error: { type: "AuthError", message: `Invalid API key ${key}` } }))
    for (const extra of [[], ["--json"]]) {
      const { stdout, stderr, code } = await runCli(["classify", "--status", "401", "--body-file", file, ...extra], install.env)
      expect(code).toBe(0)
      expect(stdout + stderr).not.toContain(key)
      expect(stdout + stderr).not.toContain(key.slice(3))
      expect(stdout).toContain("[redacted]")
    }
  })

  test("bad flags: a clear error and exit 2", async () => {
    for (const args of [
      ["classify", "--status", "abc"],
      ["classify", "--status", "99"],
      ["classify", "--status", "429", "--header", "no-colon"],
      ["classify", "--status", "429", "--now", "yesterday"],
      ["classify", "--status", "429", "--body-file", path.join(install.root, "missing.json")],
      ["classify", "--status", "429", "--bogus"],
      ["classify", "--status", "429", "--provider", "../etc"],
      ["classify"],
    ]) {
      const { stdout, stderr, code } = await runCli(args, install.env)
      expect(code).toBe(2)
      expect(stdout).toBe("")
      expect(stderr.trim().split("\n").length).toBe(1)
    }
    // Eight CLI processes one after the other: more than the default 5 s on a loaded machine.
  }, 30_000)
})

describe("cli run on a provider failure", () => {
  test("a spent free quota: one request, exit 1, the record in the --json error object", async () => {
    sim.configure({ freeDailyLimit: 0, fallbackDailyLimit: 0, faults: [] })
    sim.reset()
    const { stdout, stderr, code } = await runCli(["run", "--json", "hello"], install.env)
    expect(code).toBe(1)
    expect(sim.requests().filter((r) => r.path.endsWith("/chat/completions")).length).toBe(1)
    const { error } = JSON.parse(stdout)
    expect(error).toMatchObject({
      code: "provider_error",
      kind: "free_usage_limit",
      retryable: false,
      action: "stop",
      statusCode: 429,
      upstreamType: "FreeUsageLimitError",
      quotaScope: "ip-daily",
      retryAfterRaw: "50223",
      attempts: 1,
    })
    // The reset is the simulator's next UTC midnight, computed from the real clock of the CLI process.
    expect(typeof error.resetAt).toBe("string")
    expect(stderr).toContain("per network per day")
    expect(stderr).not.toContain("retrying")
  })

  test("an overload that clears: one stderr line per retry, then the answer", async () => {
    sim.configure({ freeDailyLimit: 200, faults: [{ status: 529, type: "overloaded_error", count: 2, headers: { "retry-after-ms": "10" } }] })
    sim.reset()
    const { stdout, stderr, code } = await runCli(["run", "hello"], install.env)
    expect(code).toBe(0)
    expect(stdout).toContain("Hello")
    const lines = stderr.trim().split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^Provider overloaded; retrying in \d+ms \(attempt 2 of 4\)$/)
    expect(lines[1]).toMatch(/^Provider overloaded; retrying in \d+ms \(attempt 3 of 4\)$/)
  })
})
