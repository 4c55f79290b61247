import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import * as Identifier from "../src/id/id"
import { Provider, ProviderError } from "../src/provider"
import { SessionDiagnostics, SessionProcessor, SessionRetry } from "../src/session"
import * as DiagnosticsRead from "../src/session/diagnostics-read"
import * as DiagnosticsFindings from "../src/session/diagnostics-findings"
import { VERSION } from "../src/installation/version"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, type TestInstall } from "./fixture/install"
import { gatewayAccounts, MIDNIGHT, START } from "./fixture/gateway-accounts"

/**
 * Every failure kind the gateway produces, through the real runtime (provider resolution, the ai
 * SDK over HTTP to the simulator, the processor, the retry policy) with the diagnostics hooks as
 * `cli run` wires them: each failed attempt must leave one record with the documented fields, read
 * back through the schema, and the findings must name the situation and the credential path.
 */

const { KEY, BASE } = gatewayAccounts("diag")
const key = (name: string) => `sk-diag-${name}-${crypto.randomUUID()}`

/** Every field a failure record may carry; anything else in a record is a leak waiting to happen. */
const FAILURE_FIELDS = [
  "event", "time", "sessionID", "requestID", "providerID", "modelID", "baseURL", "authSource", "authEnvVar", "keyFingerprint",
  "installFingerprint", "installHeaderSent", "statusCode", "upstreamType", "upstreamCode", "upstreamProvider", "kind", "origin", "retryable",
  "action", "attempt", "nextRetryMs", "stopReason", "retryAfterRaw", "retryAfterMs", "resetAt", "quotaScope", "limitName",
  "workspaceID", "message", "runtimeVersion",
]
const ALWAYS = ["event", "time", "sessionID", "requestID", "providerID", "modelID", "baseURL", "authSource", "installHeaderSent", "kind", "origin", "retryable", "action", "attempt", "runtimeVersion"]

let sim: Simulator
const installs: TestInstall[] = []

beforeAll(async () => {
  sim = await startSimulator({ now: START, frozenClock: true, config: BASE })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

interface Setup {
  env?: Record<string, string>
  config?: Record<string, unknown>
  /** Saved in auth.json for `opencode` and `opencode-go`. */
  saved?: string
  baseURL?: string
}

async function install(setup: Setup = {}) {
  const made = await makeInstall(setup.env ?? {})
  installs.push(made)
  const opencode = (setup.config?.opencode as Record<string, unknown> | undefined) ?? {}
  await made.writeConfig({
    provider: {
      ...(setup.config?.provider as object | undefined),
      opencode: { ...opencode, options: { baseURL: setup.baseURL ?? sim.zenBaseURL, ...(opencode.options as object | undefined) } },
      "opencode-go": { options: { baseURL: sim.goBaseURL } },
    },
  })
  if (setup.saved) {
    await Auth.set("opencode", { type: "api", key: setup.saved }, made.env)
    await Auth.set("opencode-go", { type: "api", key: setup.saved }, made.env)
  }
  return made
}

/** One turn as `cli run` runs it, diagnostics included; returns what was logged for it. */
async function turn(model: string, setup: Setup = {}) {
  const made = await install(setup)
  const [providerID, modelID] = model.split("/") as [string, string]
  const resolved = await Provider.getModel(providerID, modelID, made.env)
  const sessionID = Identifier.create("session")
  const requestID = Identifier.ascending("message")
  const now = () => sim.clock.now().getTime()
  const sleeps: number[] = []
  const hooks = SessionDiagnostics.hooks({ model: resolved, sessionID, requestID, env: made.env, now })
  const result = await SessionProcessor.process({
    model: resolved,
    sessionID,
    requestID,
    messages: [{ role: "user", content: "hello" }],
    decide: SessionRetry.policy({ random: () => 0.5 }),
    sleep: async (ms) => void sleeps.push(ms),
    now,
    // Room for every wait the policy allows, so each attempt's record is the gateway error's own;
    // the turn's default wait budget cutting a retry-after: 60 short is deadline-sim.test.ts's subject.
    timeouts: { turnWaitBudgetMs: SessionRetry.MAX_ATTEMPTS * SessionRetry.MAX_WAIT_MS },
    ...hooks,
  })
  await SessionDiagnostics.flush()
  const read = await DiagnosticsRead.read(await DiagnosticsRead.logFiles(SessionDiagnostics.logDir(made.env)))
  const failures = read.entries.filter((e): e is SessionDiagnostics.Failure => e.event === "provider.failure")
  const requests = read.entries.filter((e) => e.event === "provider.request")
  const findings = DiagnosticsFindings.findings(DiagnosticsFindings.group(read.entries))
  return { made, resolved, result, sleeps, failures, requests, findings, skipped: read.skipped, sessionID, requestID }
}

interface Row {
  kind: ProviderError.Kind
  model: string
  setup?: Setup
  key?: string
  config?: Partial<SimConfigInput>
  expected: Partial<SessionDiagnostics.Failure>
  finding: RegExp
  /** Findings after the request's own: the one that sets OpenCode's upstream accounts apart. */
  more?: RegExp[]
}

const rows: Row[] = [
  {
    kind: "free_usage_limit",
    model: "opencode/big-pickle",
    config: { freeDailyLimit: 0, fallbackDailyLimit: 0 },
    expected: { origin: "gateway", statusCode: 429, upstreamType: "FreeUsageLimitError", retryAfterRaw: "50223", retryAfterMs: 50_223_000, resetAt: MIDNIGHT, quotaScope: "ip-daily" },
    finding: /^Free daily quota of this network used up on the anonymous path; resets 00:00 UTC \(2026-11-22, 13 h 57 min after the failure\); not an outage/,
  },
  {
    kind: "go_usage_limit",
    model: "opencode-go/glm-5",
    key: KEY.go5h,
    expected: { origin: "gateway", statusCode: 429, upstreamType: "GoUsageLimitError", limitName: "5 hour", quotaScope: "workspace-5h", workspaceID: "wrk_go", retryAfterRaw: "18000" },
    finding: /^OpenCode Go "5 hour" window reached with the env key OPENCODE_API_KEY \(fp_\w+\) in workspace wrk_go; resets 15:02 UTC/,
  },
  {
    kind: "subscription_usage_limit",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.black,
    expected: { origin: "gateway", statusCode: 429, upstreamType: "BlackUsageLimitError" },
    finding: /^OpenCode Black .*window reached with the env key OPENCODE_API_KEY/,
  },
  {
    kind: "rate_limit",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.paid,
    config: { paidRateLimitPerMinute: 0 },
    expected: { origin: "gateway", statusCode: 429, upstreamType: "RateLimitError", retryAfterRaw: "60", retryAfterMs: 60_000, quotaScope: "key-minute", retryable: true },
    finding: /^Per-key rate limit \(requests a minute\) hit with the env key OPENCODE_API_KEY \(fp_\w+\) on opencode\/claude-sonnet-4-5, gave up after 4 attempts/,
  },
  {
    kind: "credits_exhausted",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.broke,
    expected: { origin: "gateway", statusCode: 401, upstreamType: "CreditsError", quotaScope: "balance" },
    finding: /^Env key OPENCODE_API_KEY \(fp_\w+\) has no credits/,
  },
  {
    kind: "spend_limit",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.monthly,
    expected: { origin: "gateway", statusCode: 401, upstreamType: "MonthlyLimitError", quotaScope: "spend-limit" },
    finding: /^Workspace monthly spend limit reached with the env key OPENCODE_API_KEY/,
  },
  {
    kind: "spend_limit",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.capped,
    expected: { origin: "gateway", upstreamType: "UserLimitError" },
    finding: /^Member spend limit reached/,
  },
  {
    kind: "auth",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.unknown,
    expected: { origin: "gateway", statusCode: 401, upstreamType: "AuthError" },
    finding: /^Env key OPENCODE_API_KEY \(fp_\w+\) rejected \(HTTP 401 AuthError\): fix or unset it\.$/,
  },
  {
    kind: "model_unavailable",
    model: "opencode/not-offered",
    key: KEY.paid,
    setup: { config: { opencode: { models: { "not-offered": { name: "Not offered" } } } } },
    expected: { origin: "gateway", statusCode: 401, upstreamType: "ModelError" },
    finding: /^Model opencode\/not-offered is not offered with the env key/,
  },
  {
    kind: "region_blocked",
    model: "opencode-go/minimax-m2.5",
    key: KEY.goOk,
    config: { defaultRegion: "BR" },
    expected: { origin: "gateway", statusCode: 403, upstreamType: "RegionError" },
    finding: /^Model opencode-go\/minimax-m2\.5 is refused in this region/,
  },
  {
    kind: "overloaded",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 529, provider: "anthropic", count: -1 }] },
    expected: { origin: "upstream", statusCode: 529, upstreamType: "overloaded_error", upstreamProvider: "anthropic", retryable: true },
    finding: /^Provider overload \(anthropic\) on opencode\/big-pickle, gave up after 4 attempts; not your quota or account\.$/,
  },
  {
    kind: "server_error",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 500, kind: "internal", count: -1 }] },
    expected: { origin: "upstream", statusCode: 500, retryable: true },
    finding: /^Server error \(HTTP 500.*\) on opencode\/big-pickle, gave up after 4 attempts/,
  },
  {
    kind: "context_overflow",
    model: "opencode/big-pickle",
    config: {
      faults: [
        { status: 400, provider: "openai", count: -1, body: JSON.stringify({ error: { message: "maximum context length exceeded", type: "invalid_request_error", code: "context_length_exceeded" } }) },
      ],
    },
    expected: { origin: "upstream", statusCode: 400, upstreamProvider: "openai", upstreamCode: "context_length_exceeded" },
    finding: /^The conversation was too long for opencode\/big-pickle's context window/,
  },
  {
    kind: "invalid_request",
    model: "opencode/big-pickle",
    // A plain-text 400 from in front of the gateway (which would turn a non-JSON upstream body into its own 500).
    config: { faults: [{ status: 400, kind: "raw", source: "edge", body: "malformed tool schema", count: -1 }] },
    expected: { origin: "upstream", statusCode: 400, message: "malformed tool schema" },
    finding: /^opencode\/big-pickle rejected the request as invalid \(HTTP 400\): malformed tool schema\.$/,
  },
  {
    kind: "free_tier_gated",
    model: "opencode/big-pickle",
    config: {
      faults: [{ status: 403, type: "FreeTierError", message: "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode", count: -1 }],
    },
    expected: { origin: "gateway", statusCode: 403, upstreamType: "FreeTierError", authSource: "public" },
    finding: /^OpenCode refused its free tier to this client on the anonymous path \(HTTP 403 FreeTierError\): .*not a key problem.*`auth set opencode`/,
  },
  {
    kind: "credits_exhausted",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.paid,
    config: {
      faults: [
        {
          status: 429,
          provider: "OpenAI",
          count: -1,
          body: JSON.stringify({ error: { message: "You exceeded your current quota.", type: "insufficient_quota", param: null, code: "insufficient_quota" } }),
        },
      ],
    },
    expected: { origin: "upstream", statusCode: 429, upstreamProvider: "OpenAI", upstreamCode: "insufficient_quota" },
    finding: /^OpenAI refused opencode\/claude-sonnet-4-5 \(HTTP 429 insufficient_quota\) behind OpenCode's gateway: OpenCode's own account with OpenAI, not this user's key, balance or spend limit/,
    more: [/^1 failed request refused by the model providers behind OpenCode's gateway \(OpenAI\)/],
  },
]

function checkRecords(failures: SessionDiagnostics.Failure[], t: Awaited<ReturnType<typeof turn>>, kind: ProviderError.Kind) {
  if (t.result.ok) throw new Error(`expected ${kind} to fail the turn`)
  expect(failures).toHaveLength(t.result.attempts)
  const credential = t.resolved.provider.credential
  failures.forEach((r, i) => {
    for (const field of Object.keys(r)) expect(FAILURE_FIELDS).toContain(field)
    for (const field of ALWAYS) expect(r).toHaveProperty(field)
    // Absent values are left out, never written as null.
    for (const value of Object.values(r)) expect(value === null || value === undefined).toBe(false)
    expect(r).toMatchObject({
      event: "provider.failure",
      time: sim.clock.now().toISOString(),
      sessionID: t.sessionID,
      requestID: t.requestID,
      providerID: t.resolved.provider.id,
      modelID: t.resolved.model.id,
      baseURL: t.resolved.provider.baseURL,
      authSource: credential.source,
      installHeaderSent: true,
      installFingerprint: t.resolved.install.fingerprint!,
      kind,
      attempt: i + 1,
      runtimeVersion: VERSION,
    })
    expect(r.keyFingerprint).toBe(credential.source === "public" ? undefined : credential.fingerprint)
    expect(r.authEnvVar).toBe(credential.source === "env" ? "OPENCODE_API_KEY" : undefined)
    const last = i === failures.length - 1
    expect(r.action).toBe(last ? "stop" : "retry")
    expect(r.nextRetryMs).toBe(last ? undefined : t.sleeps[i])
    expect(r.stopReason).toBe(last ? (failures.length > 1 ? "attempts_exhausted" : "not_retryable") : undefined)
  })
}

describe("a record for every failed attempt of every kind the gateway produces", () => {
  for (const row of rows) {
    test(`${row.kind}${row.expected.upstreamType ? ` (${row.expected.upstreamType})` : ""}`, async () => {
      sim.configure({ ...BASE, ...row.config })
      sim.reset()
      sim.clock.set(START)
      const t = await turn(row.model, { ...row.setup, ...(row.key ? { env: { OPENCODE_API_KEY: row.key } } : {}) })
      checkRecords(t.failures, t, row.kind)
      for (const r of t.failures) expect(r).toMatchObject(row.expected)
      expect(t.requests).toHaveLength(0)
      expect(t.skipped).toBe(0)
      expect(t.findings).toHaveLength(1 + (row.more?.length ?? 0))
      expect(t.findings[0]).toMatch(row.finding)
      row.more?.forEach((pattern, i) => expect(t.findings[i + 1]).toMatch(pattern))
    })
  }

  test("network (connection dropped): every attempt recorded, no status, the address in the finding", async () => {
    // A listener that stays bound and closes every connection: unlike a stopped server's port, no
    // other process can take it over while the test runs.
    const dropping = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (socket) => void socket.end(), data() {} } })
    const url = `http://127.0.0.1:${dropping.port}/zen/v1`
    sim.configure(BASE)
    const t = await turn("opencode/big-pickle", { baseURL: url }).finally(() => dropping.stop(true))
    checkRecords(t.failures, t, "network")
    expect(t.failures).toHaveLength(SessionRetry.MAX_ATTEMPTS)
    for (const r of t.failures) {
      expect(r.statusCode).toBeUndefined()
      expect(r.baseURL).toBe(url)
    }
    expect(t.findings[0]).toStartWith(`Could not reach ${url}`)
    expect(t.findings[0]).toContain("gave up after 4 attempts")
  })
})

describe("credential paths are told apart", () => {
  test("env, saved auth, opencode.json and anonymous: authSource, env var and fingerprint, and the words", async () => {
    sim.configure({ ...BASE, freeDailyLimit: 0, fallbackDailyLimit: 0 })
    sim.reset()
    const env = key("env")
    const saved = key("saved")
    const config = key("config")
    const viaEnv = await turn("opencode/claude-sonnet-4-5", { env: { OPENCODE_API_KEY: env } })
    const viaAuth = await turn("opencode/claude-sonnet-4-5", { saved, env: { OPENCODE_API_KEY: env } })
    const viaConfig = await turn("opencode/claude-sonnet-4-5", { saved, env: { OPENCODE_API_KEY: env }, config: { opencode: { options: { apiKey: config } } } })
    const anonymous = await turn("opencode/big-pickle")

    expect(viaEnv.failures[0]).toMatchObject({ authSource: "env", authEnvVar: "OPENCODE_API_KEY", keyFingerprint: fingerprint(env) })
    expect(viaAuth.failures[0]).toMatchObject({ authSource: "auth", keyFingerprint: fingerprint(saved) })
    expect(viaConfig.failures[0]).toMatchObject({ authSource: "config", keyFingerprint: fingerprint(config) })
    expect(anonymous.failures[0]).toMatchObject({ authSource: "public", kind: "free_usage_limit" })
    for (const t of [viaAuth, viaConfig, anonymous]) expect(t.failures[0]!.authEnvVar).toBeUndefined()
    expect(anonymous.failures[0]!.keyFingerprint).toBeUndefined()

    expect(viaEnv.findings).toEqual([`Env key OPENCODE_API_KEY (${fingerprint(env)}) rejected (HTTP 401 AuthError): fix or unset it.`])
    expect(viaAuth.findings).toEqual([`Saved key ${fingerprint(saved)} rejected (HTTP 401 AuthError): re-enter it (\`auth set opencode\`).`])
    expect(viaConfig.findings).toEqual([`Key in opencode.json (${fingerprint(config)}) rejected (HTTP 401 AuthError): fix provider.opencode.options.apiKey.`])
    expect(anonymous.findings[0]).toStartWith("Free daily quota of this network used up on the anonymous path;")
  })

  test("the free limit reached with a key says so: the limit is per network, key or not", async () => {
    sim.configure({ ...BASE, freeDailyLimit: 0, fallbackDailyLimit: 0 })
    sim.reset()
    const t = await turn("opencode/big-pickle", { env: { OPENCODE_API_KEY: KEY.paid } })
    expect(t.findings[0]).toStartWith(`Free daily quota of this network used up with the env key OPENCODE_API_KEY (${fingerprint(KEY.paid)});`)
  })
})

describe("the rest of the picture", () => {
  test("an overload that clears: the failed attempts, then a provider.request line, and 'recovered'", async () => {
    sim.configure({ ...BASE, faults: [{ status: 529, provider: "anthropic", count: 2 }] })
    sim.reset()
    const t = await turn("opencode/big-pickle")
    expect(t.result.ok).toBe(true)
    expect(t.failures.map((r) => [r.attempt, r.action, r.nextRetryMs])).toEqual([
      [1, "retry", 2000],
      [2, "retry", 4000],
    ])
    expect(t.requests).toHaveLength(1)
    const ok = t.requests[0]!
    expect(ok).toMatchObject({ event: "provider.request", attempt: 3, sessionID: t.sessionID, requestID: t.requestID, authSource: "public", installHeaderSent: true })
    expect(typeof ok.durationMs).toBe("number")
    for (const field of ["kind", "message", "statusCode"]) expect(ok).not.toHaveProperty(field)
    expect(t.findings).toEqual(["Provider overload (anthropic) on opencode/big-pickle, recovered after 2 retries; not your quota or account."])
  })

  test("identity opted out: header not sent, no install fingerprint, and a finding that says so", async () => {
    sim.configure({ ...BASE, freeDailyLimit: 0, fallbackDailyLimit: 0 })
    sim.reset()
    const t = await turn("opencode/big-pickle", { env: { PAWWORK_INSTALL_IDENTITY: "0" } })
    expect(t.failures[0]!.installHeaderSent).toBe(false)
    expect(t.failures[0]!.installFingerprint).toBeUndefined()
    expect(t.findings).toContain(
      "Identity header not sent on 1 request: the install identity is turned off (opted out), so the gateway could tell this install apart only by its network.",
    )
  })

  test("other providers are not recorded", async () => {
    sim.configure({ ...BASE, freeDailyLimit: 0, fallbackDailyLimit: 0 })
    sim.reset()
    const t = await turn("mine/big-pickle", {
      config: { provider: { mine: { npm: "@ai-sdk/openai-compatible", options: { baseURL: sim.zenBaseURL }, models: { "big-pickle": {} } } } },
    })
    expect(t.result.ok).toBe(false)
    expect(t.failures).toHaveLength(0)
    expect(await fs.readdir(path.join(t.made.dataDir, "log")).catch(() => [])).not.toContain(SessionDiagnostics.FILE_NAME)
  })
})
