import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import * as Identifier from "../src/id/id"
import { Provider, ProviderError } from "../src/provider"
import { SessionProcessor, SessionRetry } from "../src/session"
import { makeInstall, type TestInstall } from "./fixture/install"
import { gatewayAccounts, MIDNIGHT, START } from "./fixture/gateway-accounts"

/**
 * Every body of gateway-drift-2026.md sections 1, 3 and 4, three times: (a) pasted as the research
 * note gives it (the pure classifier, no context), (b) as the simulator puts it on the wire, and
 * (c) through the runtime (the ai SDK, SessionProcessor.process and the retry policy). Each gives
 * the same kind, origin and action, and advice that says whose problem it is: the free-tier gate
 * is not a key problem, and a failure of OpenCode's own account with a provider behind the gateway
 * never sends the user to their key, balance or spend limit.
 */

const { KEY, BASE } = gatewayAccounts("taxonomy")
const NOW = Date.parse(START)
const FREE_TIER_TEXT = "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode"
const GO_WEEKLY_TEXT =
  "Weekly usage limit reached. Resets in 2 days. To continue using this model now, enable usage from your available balance: https://opencode.ai/workspace/wrk_go/go"
const INTERNAL = JSON.stringify({ type: "error", error: { type: "error", message: "Internal server error" } })
/** What must never be said about a failure on OpenCode's side of the gateway. */
const NOT_THE_USERS = [/auth set/i, /API key/i, /balance/i, /credits/i, /spend/i]

const gateway = (type: string, message: string, metadata?: Record<string, unknown>) =>
  JSON.stringify({ type: "error", error: { type, message }, ...(metadata !== undefined ? { metadata } : {}) })

interface Row {
  name: string
  /** (a) The failure as the research note gives it. */
  paste: { status: number; headers?: Record<string, string>; body: string }
  /** (b, c) How the simulator produces it; `proxy` puts a relay that re-wraps error bodies in front. */
  sim: { config?: Partial<SimConfigInput>; model: string; key?: string; session?: string; proxy?: "string" | "nested" }
  expected: Partial<ProviderError.Info> & Pick<ProviderError.Info, "kind" | "origin" | "action">
  /** Said in the user message. */
  says?: (string | RegExp)[]
  /** Never said in the user message. */
  never?: RegExp[]
}

const paid = "opencode/claude-sonnet-4-5"
const free = "opencode/big-pickle"
const fault = (f: Record<string, unknown>) => ({ faults: [{ count: -1, ...f }] }) as Partial<SimConfigInput>

const rows: Row[] = [
  // Section 1: the free tier gated on the client.
  {
    name: "403 FreeTierError (anonymous, a session id not in OpenCode's shape)",
    paste: { status: 403, body: gateway("FreeTierError", FREE_TIER_TEXT) },
    sim: { model: free, session: "ses_taxonomy_not_canonical" },
    expected: { kind: "free_tier_gated", origin: "gateway", action: "stop", retryable: false, statusCode: 403, provider: null },
    says: ["only to its own app", "not a key problem", "`auth set opencode`", "OpenCode Go"],
    never: [/rejected/i, /invalid/i, /resets/i],
  },
  {
    name: "FreeTierError re-wrapped by a proxy as upstream_error (opencode2api #38)",
    paste: { status: 500, body: JSON.stringify({ error: { code: null, message: FREE_TIER_TEXT, param: null, type: "upstream_error" } }) },
    sim: { model: free, session: "ses_taxonomy_not_canonical", proxy: "string" },
    expected: { kind: "free_tier_gated", origin: "gateway", action: "stop", upstreamType: "upstream_error" },
    says: ["not a key problem", "`auth set opencode`"],
    never: [/rejected/i],
  },
  {
    name: "426 Upgrade Required, whatever the body",
    paste: { status: 426, body: "Upgrade Required" },
    sim: { model: free, config: { freeTierGate: "session+ua", minClientVersion: "999.0.0" } },
    expected: { kind: "client_outdated", origin: "gateway", action: "stop", statusCode: 426 },
    says: ["refused this client's version", "PawWork reports its own version, not OpenCode's", "not a key problem", "`auth set opencode`"],
    never: [/rejected/i, /invalid/i, /fix/i],
  },
  // Sections 3 and 4: the gateway's own types, the user's account.
  {
    name: "429 FreeUsageLimitError with RateLimitError's text",
    paste: { status: 429, headers: { "retry-after": "50223" }, body: gateway("FreeUsageLimitError", "Rate limit exceeded. Please try again later.", {}) },
    sim: { model: free, config: { freeDailyLimit: 0, fallbackDailyLimit: 0 } },
    expected: { kind: "free_usage_limit", origin: "gateway", action: "stop", quotaScope: "ip-daily", resetAt: MIDNIGHT },
    says: ["per network per day", "`auth set opencode`"],
  },
  {
    name: "429 RateLimitError with the same text: only the type tells them apart",
    paste: { status: 429, headers: { "retry-after": "60" }, body: gateway("RateLimitError", "Rate limit exceeded. Please try again later.") },
    sim: { model: paid, key: KEY.paid, config: { paidRateLimitPerMinute: 0 } },
    expected: { kind: "rate_limit", origin: "gateway", action: "retry", quotaScope: "key-minute" },
    says: ["this API key"],
  },
  {
    name: "429 GoUsageLimitError, weekly, the new message and metadata",
    paste: { status: 429, headers: { "retry-after": "172800" }, body: gateway("GoUsageLimitError", GO_WEEKLY_TEXT, { workspace: "wrk_go", limitName: "weekly" }) },
    sim: { model: "opencode-go/glm-5", key: KEY.goWeekly },
    expected: { kind: "go_usage_limit", origin: "gateway", action: "stop", limitName: "weekly", quotaScope: "workspace-weekly", workspaceID: "wrk_go" },
    says: ["OpenCode Go weekly usage limit"],
  },
  {
    name: "GoUsageLimitError re-wrapped by a proxy as upstream_error: the window from the text, not a provider's rate limit",
    paste: { status: 429, body: JSON.stringify({ error: { code: null, message: GO_WEEKLY_TEXT, param: null, type: "upstream_error" } }) },
    sim: { model: "opencode-go/glm-5", key: KEY.goWeekly, proxy: "string" },
    expected: { kind: "go_usage_limit", origin: "gateway", action: "stop", limitName: "weekly", quotaScope: "workspace-weekly" },
    says: ["OpenCode Go weekly usage limit"],
    never: [/rate limiting/i],
  },
  {
    name: "BlackUsageLimitError re-wrapped by a proxy as upstream_error",
    paste: { status: 429, body: JSON.stringify({ error: { code: null, message: "Subscription quota exceeded. Retry in 3hr 12min.", param: null, type: "upstream_error" } }) },
    sim: { model: paid, key: KEY.black, proxy: "string" },
    expected: { kind: "subscription_usage_limit", origin: "gateway", action: "stop" },
    says: ["subscription"],
    never: [/rate limiting/i],
  },
  {
    name: "429 BlackUsageLimitError, metadata {}",
    paste: { status: 429, headers: { "retry-after": "11520" }, body: gateway("BlackUsageLimitError", "Subscription quota exceeded. Retry in 3hr 12min", {}) },
    sim: { model: paid, key: KEY.black },
    expected: { kind: "subscription_usage_limit", origin: "gateway", action: "stop" },
    says: ["subscription"],
  },
  {
    name: "429 SubscriptionUsageLimitError (the older name), no metadata",
    paste: { status: 429, headers: { "retry-after": "11520" }, body: gateway("SubscriptionUsageLimitError", "Subscription quota exceeded. Retry in 3hr 12min") },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 429, type: "SubscriptionUsageLimitError", message: "Subscription quota exceeded. Retry in 3hr 12min" }) },
    expected: { kind: "subscription_usage_limit", origin: "gateway", action: "stop", upstreamType: "SubscriptionUsageLimitError" },
    says: ["subscription"],
  },
  {
    name: "401 CreditsError, no metadata",
    paste: { status: 401, body: gateway("CreditsError", "Insufficient balance") },
    sim: { model: paid, key: KEY.broke },
    expected: { kind: "credits_exhausted", origin: "gateway", action: "stop", quotaScope: "balance" },
    says: ["no balance left", "Add credits"],
  },
  {
    name: "401 MonthlyLimitError, no metadata",
    paste: { status: 401, body: gateway("MonthlyLimitError", "Monthly spending limit reached") },
    sim: { model: paid, key: KEY.monthly },
    expected: { kind: "spend_limit", origin: "gateway", action: "stop", upstreamType: "MonthlyLimitError" },
    says: ["monthly spending limit"],
  },
  {
    name: "401 UserLimitError, no metadata",
    paste: { status: 401, body: gateway("UserLimitError", "Your spending limit is reached") },
    sim: { model: paid, key: KEY.capped },
    expected: { kind: "spend_limit", origin: "gateway", action: "stop", upstreamType: "UserLimitError" },
    says: ["Your spending limit"],
  },
  {
    name: "401 AuthError, no metadata",
    paste: { status: 401, body: gateway("AuthError", "Invalid API key.") },
    sim: { model: paid, key: KEY.unknown },
    expected: { kind: "auth", origin: "gateway", action: "stop", upstreamType: "AuthError" },
    says: ["rejected"],
  },
  {
    name: "401 AuthError for a flagged or blocked workspace: 'Request blocked by upstream provider.' (row 16)",
    paste: { status: 401, body: gateway("AuthError", "Request blocked by upstream provider.") },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 401, type: "AuthError", message: "Request blocked by upstream provider." }) },
    expected: { kind: "auth", origin: "gateway", action: "stop", upstreamType: "AuthError" },
    says: ["blocked", "workspace", "not the key"],
    never: [/re-enter it with/i, /auth set/, /rejected the credentials/i],
  },
  {
    name: "400 MissingSessionID from the Go endpoint (section 1): the gateway's own, no key advice",
    paste: {
      status: 400,
      body: gateway("MissingSessionID", "Error from provider (Console Go): Request is missing x-opencode-session and cannot be routed efficiently. Please see https://opencode.ai/docs/go/#where-can-i-use-it"),
    },
    sim: {
      model: "opencode-go/glm-5",
      key: KEY.goOk,
      config: fault({
        status: 400,
        type: "MissingSessionID",
        message: "Error from provider (Console Go): Request is missing x-opencode-session and cannot be routed efficiently. Please see https://opencode.ai/docs/go/#where-can-i-use-it",
      }),
    },
    expected: { kind: "invalid_request", origin: "gateway", action: "stop", upstreamType: "MissingSessionID", provider: null },
    says: ["x-opencode-session"],
    never: [/API key/i, /auth set/, /balance/i],
  },
  {
    name: "401 ModelError, no metadata",
    paste: { status: 401, body: gateway("ModelError", "Model is disabled") },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 401, type: "ModelError", message: "Model is disabled" }) },
    expected: { kind: "model_unavailable", origin: "gateway", action: "stop" },
    says: ["`models`"],
  },
  {
    name: "403 RegionError",
    paste: { status: 403, body: gateway("RegionError", "Model not available in your region") },
    sim: { model: "opencode-go/minimax-m2.5", key: KEY.goOk, config: { defaultRegion: "BR" } },
    expected: { kind: "region_blocked", origin: "gateway", action: "stop" },
    says: ["region"],
  },
  {
    name: "403 ModelAccessError",
    paste: { status: 403, body: gateway("ModelAccessError", "Your workspace does not have access to model claude-sonnet-4-5.") },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 403, type: "ModelAccessError", message: "Your workspace does not have access to model claude-sonnet-4-5." }) },
    expected: { kind: "model_access_denied", origin: "gateway", action: "stop", upstreamType: "ModelAccessError" },
    says: ["does not give you access to this model", "workspace admin"],
    never: [/rejected/i],
  },
  {
    name: "403 DataPolicyError",
    paste: { status: 403, body: gateway("DataPolicyError", "Model claude-sonnet-4-5 requires accepting its provider's data policy.") },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 403, type: "DataPolicyError", message: "Model claude-sonnet-4-5 requires accepting its provider's data policy." }) },
    expected: { kind: "data_policy_blocked", origin: "gateway", action: "stop", upstreamType: "DataPolicyError" },
    says: ["data policy", "workspace admin"],
    never: [/rejected/i],
  },
  {
    name: "403 EntitlementError",
    paste: { status: 403, body: gateway("EntitlementError", "OpenCode Go subscription required.") },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 403, type: "EntitlementError", message: "OpenCode Go subscription required." }) },
    expected: { kind: "auth", origin: "gateway", action: "stop", upstreamType: "EntitlementError" },
    says: ["no OpenCode Go subscription"],
    never: [/rejected/i],
  },
  // Section 4: OpenCode's own accounts with the providers behind the gateway.
  {
    name: "OpenAI 429 insufficient_quota, passed through",
    paste: {
      status: 429,
      body: JSON.stringify({
        error: {
          message: "Error from provider (OpenAI): You exceeded your current quota, please check your plan and billing details.",
          type: "insufficient_quota",
          param: null,
          code: "insufficient_quota",
        },
      }),
    },
    sim: {
      model: paid,
      key: KEY.paid,
      config: fault({
        status: 429,
        provider: "OpenAI",
        body: JSON.stringify({ error: { message: "You exceeded your current quota, please check your plan and billing details.", type: "insufficient_quota", param: null, code: "insufficient_quota" } }),
      }),
    },
    expected: { kind: "credits_exhausted", origin: "upstream", action: "stop", provider: "OpenAI" },
    says: ["OpenAI", "OpenCode's own account", "another model"],
    never: NOT_THE_USERS,
  },
  {
    name: "DeepSeek 402 Insufficient Balance, passed through",
    paste: { status: 402, body: JSON.stringify({ error: { message: "Error from provider (DeepSeek): Insufficient Balance", type: "unknown_error", param: null, code: "invalid_request_error" } }) },
    sim: {
      model: paid,
      key: KEY.paid,
      config: fault({ status: 402, provider: "DeepSeek", body: JSON.stringify({ error: { message: "Insufficient Balance", type: "unknown_error", param: null, code: "invalid_request_error" } }) }),
    },
    expected: { kind: "credits_exhausted", origin: "upstream", action: "stop" },
    says: ["OpenCode's own account", "another model"],
    never: NOT_THE_USERS,
  },
  {
    name: "Fireworks 401 invalid_api_key, passed through",
    paste: {
      status: 401,
      body: JSON.stringify({ error: { object: "error", message: "Error from provider (Fireworks): The API key you provided is invalid.", type: "invalid_request_error", code: "invalid_api_key" } }),
    },
    sim: {
      model: paid,
      key: KEY.paid,
      config: fault({
        status: 401,
        provider: "Fireworks",
        body: JSON.stringify({ error: { object: "error", message: "The API key you provided is invalid.", type: "invalid_request_error", code: "invalid_api_key" } }),
      }),
    },
    expected: { kind: "auth", origin: "upstream", action: "stop" },
    says: ["OpenCode's own account", "not your key"],
    never: [...NOT_THE_USERS, /rejected/i],
  },
  {
    name: "Anthropic 529 overloaded, passed through",
    paste: { status: 529, body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Error from provider (Anthropic): Overloaded" } }) },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 529, provider: "anthropic" }) },
    expected: { kind: "overloaded", origin: "upstream", action: "retry", retryable: true },
    says: ["overloaded", "not your quota or account"],
    never: NOT_THE_USERS,
  },
  {
    name: "a non-JSON upstream answer: the gateway's generic 500",
    paste: { status: 500, body: INTERNAL },
    sim: { model: paid, key: KEY.paid, config: fault({ status: 502, kind: "raw", body: "<html><body>upstream fell over</body></html>" }) },
    expected: { kind: "server_error", origin: "upstream", action: "retry" },
    says: ["internal error"],
    never: NOT_THE_USERS,
  },
  {
    name: "a gateway body nested as a JSON string in a relay's error",
    paste: { status: 500, body: JSON.stringify({ error: { message: gateway("FreeUsageLimitError", "Rate limit exceeded. Please try again later.", {}) } }) },
    sim: { model: free, config: { freeDailyLimit: 0, fallbackDailyLimit: 0 }, proxy: "nested" },
    expected: { kind: "free_usage_limit", origin: "gateway", action: "stop", quotaScope: "ip-daily", resetAt: MIDNIGHT, upstreamType: "FreeUsageLimitError" },
    says: ["per network per day"],
  },
]

function checkAdvice(row: Row, userMessage: string) {
  for (const text of row.says ?? []) expect(userMessage).toMatch(typeof text === "string" ? new RegExp(text.replace(/[.*+?^${}()|[\]\\`]/g, "\\$&")) : text)
  for (const pattern of row.never ?? []) expect(userMessage).not.toMatch(pattern)
}

describe("(a) the research note's bodies, pasted", () => {
  for (const row of rows) {
    test(row.name, () => {
      const info = ProviderError.classify(row.paste, NOW)
      expect(ProviderError.Info.parse(info)).toEqual(info)
      expect(info).toMatchObject(row.expected)
      checkAdvice(row, info.userMessage)
    })
  }
})

let sim: Simulator
const installs: TestInstall[] = []
const proxies: ReturnType<typeof Bun.serve>[] = []
let relay: Record<"string" | "nested", string>

beforeAll(async () => {
  sim = await startSimulator({ now: START, frozenClock: true, config: BASE })
  relay = { string: rewrappingRelay(sim.url, "string"), nested: rewrappingRelay(sim.url, "nested") }
})
afterAll(async () => {
  for (const proxy of proxies) proxy.stop(true)
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

/**
 * A relay in front of the gateway that re-wraps every error in its own shape, as third-party
 * proxies do: "string" keeps only the gateway's text (opencode2api's `upstream_error`), "nested"
 * puts the whole gateway body, as a string, in its own message. Headers are not passed on.
 */
function rewrappingRelay(target: string, mode: "string" | "nested"): string {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      const headers = new Headers(request.headers)
      headers.delete("host")
      headers.delete("content-length")
      const answer = await fetch(new URL(url.pathname + url.search, target), { method: request.method, headers, body: await request.arrayBuffer() })
      if (answer.ok) return new Response(answer.body, { status: answer.status, headers: { "content-type": answer.headers.get("content-type") ?? "text/plain" } })
      const text = await answer.text()
      if (mode === "nested") return Response.json({ error: { message: text } }, { status: answer.status })
      let message = text
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message
      } catch {}
      return Response.json({ error: { code: null, message, param: null, type: "upstream_error" } }, { status: answer.status })
    },
  })
  proxies.push(server)
  return `http://127.0.0.1:${server.port}`
}

function origin(row: Row) {
  return row.sim.proxy ? relay[row.sim.proxy] : sim.url
}

const chatRequests = () => sim.requests().filter((r) => r.path.endsWith("/chat/completions")).length

/** (b) One raw request as the runtime would send it, classified from what came back. */
async function wire(row: Row) {
  const [providerID, modelID] = row.sim.model.split("/") as [string, string]
  const path = providerID === "opencode-go" ? "/zen/go/v1" : "/zen/v1"
  const response = await fetch(`${origin(row)}${path}/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${row.sim.key ?? "public"}`,
      "x-opencode-client": "cli",
      "x-opencode-session": row.sim.session ?? Identifier.create("session"),
      "user-agent": "opencode/latest/1.18.3/cli",
    },
    body: JSON.stringify({ model: modelID, stream: true, messages: [{ role: "user", content: "hello" }] }),
  })
  const raw = { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }
  return ProviderError.classify(raw, sim.clock.now().getTime(), { providerID })
}

/** (c) The runtime: provider resolution, the ai SDK, the processor and the retry policy. */
async function runtime(row: Row) {
  const made = await makeInstall(row.sim.key ? { OPENCODE_API_KEY: row.sim.key } : {})
  installs.push(made)
  const base = origin(row)
  await made.writeConfig({ provider: { opencode: { options: { baseURL: `${base}/zen/v1` } }, "opencode-go": { options: { baseURL: `${base}/zen/go/v1` } } } })
  const [providerID, modelID] = row.sim.model.split("/") as [string, string]
  const model = await Provider.getModel(providerID, modelID, made.env)
  const sleeps: number[] = []
  const records: ProviderError.Info[] = []
  const before = chatRequests()
  const result = await SessionProcessor.process({
    onFailure: (failure) => void records.push(failure.info),
    model,
    sessionID: row.sim.session ?? Identifier.create("session"),
    requestID: Identifier.ascending("message"),
    messages: [{ role: "user", content: "hello" }],
    decide: SessionRetry.policy({ random: () => 0.5 }),
    sleep: async (ms) => void sleeps.push(ms),
    now: () => sim.clock.now().getTime(),
  })
  return { result, sleeps, records, requests: chatRequests() - before }
}

describe("(b) as the simulator sends it and (c) through the runtime", () => {
  for (const row of rows) {
    test(row.name, async () => {
      // configure() merges: the gate's settings go back to the defaults before each row.
      sim.configure({ ...BASE, freeTierGate: "session", minClientVersion: "1.17.0", ...row.sim.config })
      sim.reset()
      const sent = await wire(row)
      expect(ProviderError.Info.parse(sent)).toEqual(sent)
      expect(sent).toMatchObject(row.expected)
      checkAdvice(row, sent.userMessage)

      sim.reset()
      const { result, sleeps, records, requests } = await runtime(row)
      if (result.ok) throw new Error(`expected ${row.name} to fail the turn`)
      // The first attempt's record is the answer itself; how a retried turn ends (attempts, the
      // wait budget) is the retry policy's business, tested on its own.
      const first = records[0]!
      expect(ProviderError.Info.parse(first)).toEqual(first)
      expect(first).toMatchObject(row.expected)
      checkAdvice(row, first.userMessage)
      if (row.expected.action === "stop") {
        // Stopped at once: one request, no sleep, whatever retry-after came with it.
        expect(result.failure).toEqual(first)
        expect(requests).toBe(1)
        expect(sleeps).toEqual([])
      } else {
        expect(requests).toBeGreaterThan(1)
        expect(sleeps.length).toBe(requests - 1)
      }
    })
  }
})

describe("origin and nesting, one rule at a time", () => {
  const classify = (input: unknown, context?: ProviderError.Context) => ProviderError.classify(input, NOW, context)

  test("no HTTP answer is network; a cancel is the runtime's own (local)", () => {
    expect(classify(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toMatchObject({ kind: "network", origin: "network" })
    expect(classify(new DOMException("The operation was aborted.", "AbortError"))).toMatchObject({ kind: "network", origin: "local", action: "stop" })
  })

  test("`Console` and `Console Go` in the prefix are the gateway itself, named nowhere as a provider", () => {
    const missing = classify({
      status: 400,
      body: gateway("MissingSessionID", "Error from provider (Console Go): Request is missing x-opencode-session and cannot be routed efficiently."),
    })
    expect(missing).toMatchObject({ kind: "invalid_request", origin: "gateway", provider: null })
    const untyped = classify({ status: 403, body: JSON.stringify({ error: { message: "Error from provider (Console): something new" } }) })
    expect(untyped).toMatchObject({ origin: "gateway", provider: null })
  })

  test("an unprefixed provider answer: OpenCode's side behind an opencode* provider, the user's own key at a custom provider", () => {
    const body = JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } })
    const behind = classify({ status: 401, body }, { providerID: "opencode", authSource: "env", authEnvVar: "OPENCODE_API_KEY" })
    expect(behind).toMatchObject({ kind: "auth", origin: "upstream" })
    for (const pattern of NOT_THE_USERS) expect(behind.userMessage).not.toMatch(pattern)
    const mine = classify({ status: 401, body }, { providerID: "mine", authSource: "config" })
    expect(mine).toMatchObject({ kind: "auth", origin: "upstream" })
    expect(mine.userMessage).toContain("fix or remove provider.mine.options.apiKey")
  })

  test("nesting is read a bounded number of levels deep, and never throws", () => {
    const inner = gateway("FreeUsageLimitError", "Rate limit exceeded. Please try again later.", {})
    const wrap = (text: string) => JSON.stringify({ error: { message: text } })
    expect(classify({ status: 500, body: wrap(wrap(wrap(inner))) })).toMatchObject({ kind: "free_usage_limit", origin: "gateway" })
    // One wrapper more is past the bound: the gateway type is not reached.
    const deep = classify({ status: 500, body: wrap(wrap(wrap(wrap(inner)))) })
    expect(deep).toMatchObject({ origin: "upstream", upstreamType: null })
    expect(deep.kind).not.toBe("free_usage_limit")
    // A prefix before the nested body (relays write "429 Too Many Requests: {...}").
    expect(classify({ status: 502, body: wrap(`upstream said 429: ${inner}`) })).toMatchObject({ kind: "free_usage_limit" })
    // Cut short, the type is still picked out; garbage and braces in plain text are left alone.
    expect(classify({ status: 429, body: wrap(inner.slice(0, 60)) })).toMatchObject({ kind: "free_usage_limit" })
    for (const text of ["{", "{{{{", "value {x} out of range", "{\"error\":" + "[".repeat(5000), "{\"type\":\"error\",\"error\":{\"type\":\"__proto__\"}}"])
      expect(ProviderError.Info.safeParse(classify({ status: 400, body: wrap(text) })).success).toBe(true)
  })

  test("the type decides over the free-tier text, and the text alone only where no gateway type came", () => {
    const limited = classify({ status: 429, body: gateway("FreeUsageLimitError", FREE_TIER_TEXT, {}) })
    expect(limited.kind).toBe("free_usage_limit")
    const typed = classify({ status: 401, body: gateway("AuthError", `${FREE_TIER_TEXT}?`) })
    expect(typed.kind).toBe("auth")
  })
})
