import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import * as Identifier from "../src/id/id"
import { Provider, ProviderError } from "../src/provider"
import { SessionProcessor, SessionRetry } from "../src/session"
import { makeInstall, type TestInstall } from "./fixture/install"
import { gatewayAccounts, MIDNIGHT, START } from "./fixture/gateway-accounts"

/**
 * Every error the gateway sends, twice: as the simulator puts it on the wire (classified from a raw
 * fetch) and as it reaches the runtime through the ai SDK (SessionProcessor.process on an isolated
 * install pointed at the simulator). Both must give the same normalized kind, and a failure that
 * stops must stop after exactly one request and without sleeping.
 */

const { KEY, BASE } = gatewayAccounts("sim")

let sim: Simulator
const installs: TestInstall[] = []

beforeAll(async () => {
  sim = await startSimulator({ now: START, frozenClock: true, config: BASE })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

async function install(key?: string, config: Record<string, unknown> = {}) {
  const made = await makeInstall(key ? { OPENCODE_API_KEY: key } : {})
  installs.push(made)
  await made.writeConfig({
    ...config,
    provider: {
      opencode: { options: { baseURL: sim.zenBaseURL }, ...(config.opencode as object | undefined) },
      "opencode-go": { options: { baseURL: sim.goBaseURL } },
    },
  })
  return made
}

const chatRequests = () => sim.requests().filter((r) => r.path.endsWith("/chat/completions")).length

/** The runtime path: real provider resolution, the ai SDK, the processor and the retry policy. */
async function runtime(model: string, key?: string, config?: Record<string, unknown>) {
  const made = await install(key, config)
  const [providerID, modelID] = model.split("/") as [string, string]
  const resolved = await Provider.getModel(providerID, modelID, made.env)
  const sleeps: number[] = []
  const before = chatRequests()
  const result = await SessionProcessor.process({
    model: resolved,
    sessionID: Identifier.create("session"),
    requestID: "msg_taxonomy",
    messages: [{ role: "user", content: "hello" }],
    decide: SessionRetry.policy({ random: () => 0.5 }),
    sleep: async (ms) => void sleeps.push(ms),
    now: () => sim.clock.now().getTime(),
    // Room for every wait the policy allows, so the last record is the gateway error's own; the
    // turn's default wait budget cutting a retry-after: 60 short is deadline-sim.test.ts's subject.
    timeouts: { turnWaitBudgetMs: SessionRetry.MAX_ATTEMPTS * SessionRetry.MAX_WAIT_MS },
  })
  return { result, sleeps, requests: chatRequests() - before }
}

/** The wire path: one raw request, classified from status, headers and body as a user would paste them. */
async function wire(model: string, key?: string) {
  const [providerID, modelID] = model.split("/") as [string, string]
  const base = providerID === "opencode-go" ? sim.goBaseURL : sim.zenBaseURL
  const response = await fetch(`${base}/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${key ?? "public"}`,
      "x-opencode-client": "cli",
      "x-opencode-session": Identifier.create("session"),
    },
    body: JSON.stringify({ model: modelID, stream: true, messages: [{ role: "user", content: "hello" }] }),
  })
  const raw = { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }
  return ProviderError.classify(raw, sim.clock.now().getTime())
}

interface Row {
  name: string
  model: string
  key?: string
  config?: Partial<SimConfigInput>
  install?: Record<string, unknown>
  expected: Partial<ProviderError.Info>
  /** Skip the wire comparison (mid-stream errors have no single status/body to paste). */
  runtimeOnly?: boolean
}

const free = (name: string, extra: Partial<Row> = {}): Row => ({
  name,
  model: "opencode/big-pickle",
  config: { freeDailyLimit: 0, fallbackDailyLimit: 0 },
  expected: { kind: "free_usage_limit", quotaScope: "ip-daily", statusCode: 429, resetAt: MIDNIGHT, retryAfterMs: 50_223_000 },
  ...extra,
})

const rows: Row[] = [
  free("FreeUsageLimitError: anonymous"),
  free("FreeUsageLimitError: with a key (the limit is per network, key or not)", { key: KEY.paid }),
  {
    name: "RateLimitError: paid model, per key per minute",
    model: "opencode/claude-sonnet-4-5",
    key: KEY.paid,
    config: { paidRateLimitPerMinute: 0 },
    expected: { kind: "rate_limit", quotaScope: "key-minute", statusCode: 429, retryAfterMs: 60_000, retryable: true },
  },
  { name: "AuthError: unknown key", model: "opencode/claude-sonnet-4-5", key: KEY.unknown, expected: { kind: "auth", statusCode: 401, upstreamType: "AuthError" } },
  { name: "CreditsError: no balance", model: "opencode/claude-sonnet-4-5", key: KEY.broke, expected: { kind: "credits_exhausted", quotaScope: "balance", statusCode: 401 } },
  { name: "MonthlyLimitError", model: "opencode/claude-sonnet-4-5", key: KEY.monthly, expected: { kind: "spend_limit", upstreamType: "MonthlyLimitError" } },
  { name: "UserLimitError", model: "opencode/claude-sonnet-4-5", key: KEY.capped, expected: { kind: "spend_limit", upstreamType: "UserLimitError" } },
  {
    name: "ModelError: a model the gateway does not offer",
    model: "opencode/not-offered",
    key: KEY.paid,
    install: { opencode: { models: { "not-offered": { name: "Not offered" } } } },
    expected: { kind: "model_unavailable", upstreamType: "ModelError" },
  },
  { name: "RegionError", model: "opencode-go/minimax-m2.5", key: KEY.goOk, config: { defaultRegion: "BR" }, expected: { kind: "region_blocked", statusCode: 403 } },
  {
    name: "GoUsageLimitError: 5 hour",
    model: "opencode-go/glm-5",
    key: KEY.go5h,
    expected: { kind: "go_usage_limit", limitName: "5 hour", quotaScope: "workspace-5h", workspaceID: "wrk_go", statusCode: 429 },
  },
  { name: "GoUsageLimitError: weekly", model: "opencode-go/glm-5", key: KEY.goWeekly, expected: { kind: "go_usage_limit", limitName: "weekly", quotaScope: "workspace-weekly" } },
  { name: "GoUsageLimitError: monthly", model: "opencode-go/glm-5", key: KEY.goMonthly, expected: { kind: "go_usage_limit", limitName: "monthly", quotaScope: "workspace-monthly" } },
  {
    name: "GoUsageLimitError answered with HTTP 200",
    model: "opencode-go/glm-5",
    key: KEY.go5h,
    config: { goLimitStatus: 200 },
    expected: { kind: "go_usage_limit", statusCode: 200, quotaScope: "workspace-5h", workspaceID: "wrk_go" },
  },
  { name: "BlackUsageLimitError", model: "opencode/claude-sonnet-4-5", key: KEY.black, expected: { kind: "subscription_usage_limit", statusCode: 429 } },
  {
    name: "internal error (500, type error)",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 500, kind: "internal", count: -1 }] },
    expected: { kind: "server_error", statusCode: 500, retryable: true },
  },
  {
    name: "Anthropic overloaded passthrough (529)",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 529, provider: "anthropic", count: -1 }] },
    expected: { kind: "overloaded", statusCode: 529, provider: "anthropic", upstreamType: "overloaded_error" },
  },
  {
    name: "OpenAI rate limit passthrough (429, no retry-after)",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 429, provider: "openai", count: -1, headers: { "retry-after": "5" } }] },
    expected: { kind: "rate_limit", upstreamCode: "rate_limit_exceeded", retryAfterRaw: null, quotaScope: null },
  },
  {
    name: "OpenAI context length passthrough",
    model: "opencode/big-pickle",
    config: {
      faults: [
        { status: 400, provider: "openai", count: -1, body: JSON.stringify({ error: { message: "maximum context length exceeded", type: "invalid_request_error", code: "context_length_exceeded" } }) },
      ],
    },
    expected: { kind: "context_overflow", statusCode: 400, provider: "openai" },
  },
  {
    name: "OpenRouter passthrough (502, numeric code)",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 502, provider: "openrouter", count: -1 }] },
    expected: { kind: "server_error", statusCode: 502, upstreamCode: "502" },
  },
  // The gateway turns a non-JSON upstream body into its own 500; these come from in front of it (a CDN, a proxy).
  { name: "HTML error page (502)", model: "opencode/big-pickle", config: { faults: [{ status: 502, kind: "html", source: "edge", count: -1 }] }, expected: { kind: "server_error", statusCode: 502 } },
  { name: "empty body (503)", model: "opencode/big-pickle", config: { faults: [{ status: 503, kind: "empty", source: "edge", count: -1 }] }, expected: { kind: "overloaded", statusCode: 503, upstreamType: null } },
  {
    name: "plain-text body (500)",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 500, kind: "raw", source: "edge", body: "upstream exploded", count: -1 }] },
    expected: { kind: "server_error", statusCode: 500 },
  },
  {
    // The gateway raises its errors before the upstream call: on a streamed request this is the HTTP answer, never an event.
    name: "FreeUsageLimitError on a streamed request",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 429, type: "FreeUsageLimitError", afterChunks: 0, count: -1 }] },
    expected: { kind: "free_usage_limit", resetAt: MIDNIGHT },
    runtimeOnly: true,
  },
  {
    name: "Anthropic overloaded mid-stream",
    model: "opencode/big-pickle",
    config: { faults: [{ status: 529, provider: "anthropic", afterChunks: 0, count: -1 }] },
    expected: { kind: "overloaded" },
    runtimeOnly: true,
  },
]

describe("every gateway error, on the wire and through the runtime", () => {
  for (const row of rows) {
    test(row.name, async () => {
      sim.configure({ ...BASE, ...row.config })
      sim.reset()
      if (!row.runtimeOnly) {
        const info = await wire(row.model, row.key)
        expect(ProviderError.Info.parse(info)).toEqual(info)
        expect(info).toMatchObject(row.expected)
        sim.reset()
      }
      const { result, sleeps, requests } = await runtime(row.model, row.key, row.install)
      if (result.ok) throw new Error(`expected ${row.name} to fail the turn`)
      expect(ProviderError.Info.parse(result.failure)).toEqual(result.failure)
      expect(result.failure).toMatchObject(row.expected)
      if (result.failure.action === "stop") {
        expect(requests).toBe(1)
        expect(sleeps).toEqual([])
      } else {
        expect(result.attempts).toBe(SessionRetry.MAX_ATTEMPTS)
        expect(requests).toBe(SessionRetry.MAX_ATTEMPTS)
        expect(sleeps.length).toBe(SessionRetry.MAX_ATTEMPTS - 1)
      }
    })
  }

  test("EntitlementError from the Go usage endpoint (key without Go)", async () => {
    sim.configure(BASE)
    sim.reset()
    const response = await fetch(`${sim.goBaseURL}/usage`, { headers: { authorization: `Bearer ${KEY.paid}` } })
    const info = ProviderError.classify({ status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() })
    expect(info).toMatchObject({ kind: "auth", statusCode: 403, upstreamType: "EntitlementError", action: "stop" })
  })

  test("a server that drops every connection: network, retried within bounds, then the turn ends", async () => {
    // Not a stopped simulator's port: another process could take it in between. This listener
    // stays bound for the whole test and closes each connection unanswered, so every attempt
    // fails the same way (ECONNRESET) whatever else runs on the machine.
    const dropping = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (socket) => void socket.end(), data() {} } })
    try {
      const made = await makeInstall()
      installs.push(made)
      await made.writeConfig({ provider: { opencode: { options: { baseURL: `http://127.0.0.1:${dropping.port}/zen/v1` } } } })
      const model = await Provider.getModel("opencode", "big-pickle", made.env)
      const sleeps: number[] = []
      const result = await SessionProcessor.process({
        model,
        sessionID: "ses_net",
        requestID: "msg_net",
        messages: [{ role: "user", content: "hello" }],
        decide: SessionRetry.policy({ random: () => 0.5 }),
        sleep: async (ms) => void sleeps.push(ms),
      })
      if (result.ok) throw new Error("expected a network failure")
      expect(result.failure).toMatchObject({ kind: "network", statusCode: null, retryable: true, upstreamCode: "ECONNRESET" })
      expect(result.attempts).toBe(SessionRetry.MAX_ATTEMPTS)
      expect(sleeps).toEqual([2000, 4000, 8000])
    } finally {
      dropping.stop(true)
    }
  })
})

describe("end to end: the incident and its opposite", () => {
  test("a spent free quota ends the turn after exactly one request, resetting at the simulator's next UTC midnight", async () => {
    sim.configure({ ...BASE, freeDailyLimit: 1, fallbackDailyLimit: 1 })
    sim.reset()
    sim.clock.set(START)
    const first = await runtime("opencode/big-pickle")
    expect(first.result.ok).toBe(true)
    const { result, sleeps, requests } = await runtime("opencode/big-pickle")
    expect(requests).toBe(1)
    expect(sleeps.filter((ms) => ms > 0)).toEqual([])
    if (result.ok) throw new Error("expected the free limit")
    expect(result.attempts).toBe(1)
    expect(result.failure).toMatchObject({ kind: "free_usage_limit", action: "stop", retryAfterRaw: "50223", resetAt: MIDNIGHT })
    expect(result.failure.userMessage).toContain("per network per day")
    expect(result.failure.userMessage).toContain("in 13 h 57 min")
  })

  test("the reset follows the simulator's clock, not the machine's", async () => {
    sim.configure({ ...BASE, freeDailyLimit: 0, fallbackDailyLimit: 0 })
    sim.reset()
    sim.clock.set("2026-12-31T23:59:30Z")
    const { result } = await runtime("opencode/big-pickle")
    sim.clock.set(START)
    if (result.ok) throw new Error("expected the free limit")
    expect(result.failure).toMatchObject({ retryAfterMs: 30_000, resetAt: "2027-01-01T00:00:00.000Z", action: "stop" })
  })

  test("an injected 529 that clears after two attempts completes the turn, on the policy's delays", async () => {
    sim.configure({ ...BASE, faults: [{ status: 529, provider: "anthropic", count: 2 }] })
    sim.reset()
    const { result, sleeps, requests } = await runtime("opencode/big-pickle")
    expect(result.ok).toBe(true)
    expect(result.attempts).toBe(3)
    expect(requests).toBe(3)
    // random 0.5 sits at the middle of the jitter band: exactly the unjittered backoff.
    expect(sleeps).toEqual([SessionRetry.INITIAL_DELAY_MS, SessionRetry.INITIAL_DELAY_MS * SessionRetry.BACKOFF_FACTOR])
  })
})
