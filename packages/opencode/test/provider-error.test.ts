import { describe, expect, test } from "bun:test"
import { APICallError } from "ai"
import { ProviderError } from "../src/provider"
import { keyShapedSecret } from "./fixture/install"

const NOW = Date.parse("2026-11-21T10:02:57Z")
const gateway = (type: string, metadata?: Record<string, unknown>, message = "Message localisé") =>
  JSON.stringify({ type: "error", error: { type, message }, ...(metadata ? { metadata } : {}) })

type Row = [name: string, input: unknown, expected: Partial<ProviderError.Info>]

// Every gateway error type of the research note, plus what passes through from upstream providers.
const rows: Row[] = [
  [
    "free daily limit",
    { status: 429, headers: { "retry-after": "50223" }, body: gateway("FreeUsageLimitError", {}) },
    { kind: "free_usage_limit", action: "stop", retryable: false, quotaScope: "ip-daily", retryAfterMs: 50_223_000, resetAt: "2026-11-22T00:00:00.000Z" },
  ],
  [
    "free limit through a proxy as 403 without retry-after",
    { status: 403, body: gateway("FreeUsageLimitError", {}) },
    { kind: "free_usage_limit", statusCode: 403, resetAt: "2026-11-22T00:00:00.000Z", retryAfterRaw: null },
  ],
  ["paid per-key rate limit", { status: 429, headers: { "retry-after": "60" }, body: gateway("RateLimitError", {}) }, { kind: "rate_limit", retryable: true, action: "retry", quotaScope: "key-minute", retryAfterMs: 60_000 }],
  ["auth", { status: 401, body: gateway("AuthError") }, { kind: "auth", action: "stop", upstreamType: "AuthError" }],
  ["credits", { status: 401, body: gateway("CreditsError") }, { kind: "credits_exhausted", quotaScope: "balance", action: "stop" }],
  ["workspace monthly limit", { status: 401, body: gateway("MonthlyLimitError") }, { kind: "spend_limit", quotaScope: "spend-limit" }],
  ["member limit", { status: 401, body: gateway("UserLimitError") }, { kind: "spend_limit", quotaScope: "spend-limit", upstreamType: "UserLimitError" }],
  ["model not offered", { status: 401, body: gateway("ModelError") }, { kind: "model_unavailable", action: "stop" }],
  ["region", { status: 403, body: gateway("RegionError") }, { kind: "region_blocked", action: "stop" }],
  [
    "Go 5 hour window",
    { status: 429, headers: { "retry-after": "3600" }, body: gateway("GoUsageLimitError", { workspace: "wrk_123", limitName: "5 hour" }) },
    { kind: "go_usage_limit", quotaScope: "workspace-5h", limitName: "5 hour", workspaceID: "wrk_123", action: "stop", resetAt: "2026-11-21T11:02:57.000Z" },
  ],
  [
    "Go weekly window answered 200",
    { status: 200, headers: { "retry-after": "68400" }, body: gateway("GoUsageLimitError", { workspace: "wrk_1", limitName: "weekly" }, "Weekly usage limit reached. Resets in 19hr") },
    { kind: "go_usage_limit", statusCode: 200, quotaScope: "workspace-weekly", action: "stop" },
  ],
  ["Go monthly window", { status: 429, body: gateway("GoUsageLimitError", { workspace: "wrk_1", limitName: "monthly" }) }, { kind: "go_usage_limit", quotaScope: "workspace-monthly" }],
  ["Black window", { status: 429, headers: { "retry-after": "7200" }, body: gateway("BlackUsageLimitError", {}) }, { kind: "subscription_usage_limit", action: "stop" }],
  ["Go usage endpoint without subscription", { status: 403, body: gateway("EntitlementError") }, { kind: "auth" }],
  ["gateway internal error", { status: 500, body: JSON.stringify({ type: "error", error: { type: "error", message: "Internal server error" } }) }, { kind: "server_error", retryable: true }],
  // Upstream passthrough: Anthropic, OpenAI, OpenRouter shapes.
  [
    "Anthropic overloaded",
    { status: 529, body: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Error from provider (anthropic): Overloaded" } }) },
    { kind: "overloaded", retryable: true, provider: "anthropic" },
  ],
  ["Anthropic rate limit", { status: 429, body: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "x" } }) }, { kind: "rate_limit", quotaScope: null, retryable: true }],
  [
    "Anthropic prompt too long",
    { status: 400, body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" } }) },
    { kind: "context_overflow", action: "stop" },
  ],
  [
    "OpenAI context length",
    { status: 400, body: JSON.stringify({ error: { message: "too long", type: "invalid_request_error", code: "context_length_exceeded" } }) },
    { kind: "context_overflow", upstreamCode: "context_length_exceeded" },
  ],
  // A size limit in bytes (a proxy, a relay, a provider's front door) is not the context window.
  ["bare 413 from a proxy", { status: 413, body: "" }, { kind: "request_too_large", action: "stop", retryable: false }],
  [
    "Anthropic request_too_large",
    { status: 413, body: JSON.stringify({ type: "error", error: { type: "request_too_large", message: "Request exceeds the maximum allowed number of bytes." } }) },
    { kind: "request_too_large", action: "stop" },
  ],
  [
    "PawWork relay body limit",
    { status: 413, body: JSON.stringify({ type: "error", error: { type: "RequestTooLargeError", message: "The request body is larger than the relay accepts (1048576 bytes)." } }) },
    { kind: "request_too_large", origin: "gateway", upstreamType: "RequestTooLargeError" },
  ],
  ["OpenAI rate limit", { status: 429, body: JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }) }, { kind: "rate_limit" }],
  ["OpenAI insufficient quota", { status: 429, body: JSON.stringify({ error: { message: "quota", type: "insufficient_quota", code: "insufficient_quota" } }) }, { kind: "credits_exhausted", action: "stop" }],
  ["OpenAI server error", { status: 500, body: JSON.stringify({ error: { message: "oops", type: "server_error", code: "server_error" } }) }, { kind: "server_error", retryable: true }],
  ["OpenRouter numeric code", { status: 200, body: JSON.stringify({ error: { message: "Provider returned error", code: 502, metadata: { provider_name: "x" } } }) }, { kind: "server_error", statusCode: 502 }],
  ["OpenRouter 429 rate limit", { status: 429, body: JSON.stringify({ error: { message: "Rate limit exceeded", code: 429 } }) }, { kind: "rate_limit" }],
  ["text-only overload", { status: 500, body: JSON.stringify({ error: { message: "The server is overloaded, try later" } }) }, { kind: "overloaded" }],
  // Broken and odd answers.
  ["HTML 502 page", { status: 502, body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>" }, { kind: "server_error", message: "502 Bad Gateway" }],
  ["HTML 503 page", { status: 503, body: "<!doctype html><h1>Service Unavailable</h1>" }, { kind: "overloaded" }],
  ["empty 529", { status: 529, body: "" }, { kind: "overloaded", message: "" }],
  ["empty 401", { status: 401 }, { kind: "auth" }],
  ["truncated JSON keeps the type", { status: 429, body: gateway("FreeUsageLimitError", {}).slice(0, 70) }, { kind: "free_usage_limit" }],
  ["non-JSON text", { status: 400, body: "bad request, sorry" }, { kind: "invalid_request", message: "bad request, sorry" }],
  ["a body that is an array", { status: 400, body: "[1,2,3]" }, { kind: "invalid_request" }],
  ["body given as an object", { status: 429, body: { type: "error", error: { type: "FreeUsageLimitError", message: "m" } } }, { kind: "free_usage_limit" }],
  ["stream error payload", { message: "Error from provider (openai): overloaded", type: "overloaded_error" }, { kind: "overloaded", statusCode: null }],
  ["stream error wrapper", { type: "error", error: { type: "GoUsageLimitError", message: "x" }, metadata: { limitName: "weekly", workspace: "wrk_9" } }, { kind: "go_usage_limit", quotaScope: "workspace-weekly", workspaceID: "wrk_9" }],
  ["pasted body string", gateway("CreditsError"), { kind: "credits_exhausted", statusCode: null }],
  ["unknown 418", { status: 418, body: "{}" }, { kind: "invalid_request" }],
  ["status only 200, no error body", { status: 200, body: "{}" }, { kind: "unknown", action: "stop" }],
  ["nothing", undefined, { kind: "unknown" }],
  // Network failures.
  [
    "fetch TypeError with ECONNREFUSED cause",
    new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) }),
    { kind: "network", retryable: true, upstreamCode: "ECONNREFUSED" },
  ],
  ["Bun connection refused", Object.assign(new Error("Unable to connect. Is the computer able to access the url?"), { code: "ConnectionRefused" }), { kind: "network", retryable: true }],
  ["ECONNRESET", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), { kind: "network", retryable: true }],
  ["timeout", new DOMException("The operation timed out.", "TimeoutError"), { kind: "network", retryable: true }],
  ["user abort", new DOMException("The operation was aborted.", "AbortError"), { kind: "network", retryable: false, action: "stop", userMessage: "The request was cancelled." }],
  ["DNS failure", Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" }), { kind: "network", retryable: false }],
  [
    "SDK-wrapped connection failure",
    new APICallError({ message: "Cannot connect to API: x", url: "http://x", requestBodyValues: {}, cause: Object.assign(new Error("x"), { code: "ECONNRESET" }), isRetryable: true }),
    { kind: "network", statusCode: null, retryable: true },
  ],
]

describe("ProviderError.classify", () => {
  for (const [name, input, expected] of rows) {
    test(name, () => {
      const info = ProviderError.classify(input, NOW)
      expect(ProviderError.Info.parse(info)).toEqual(info)
      expect(info).toMatchObject(expected)
    })
  }

  test("an APICallError is classified from its body, headers and status", () => {
    const error = new APICallError({
      message: "Free usage limit reached",
      url: "http://sim/zen/v1/chat/completions",
      requestBodyValues: {},
      statusCode: 429,
      responseHeaders: { "retry-after": "50223", "content-type": "application/json" },
      responseBody: gateway("FreeUsageLimitError", {}),
      isRetryable: true,
    })
    expect(ProviderError.classify(error, NOW)).toMatchObject({ kind: "free_usage_limit", statusCode: 429, retryAfterMs: 50_223_000, action: "stop" })
  })

  test("the body's type decides over the status, the status over the text", () => {
    expect(ProviderError.classify({ status: 500, body: gateway("AuthError", undefined, "rate limit overloaded") }, NOW).kind).toBe("auth")
    expect(ProviderError.classify({ status: 401, body: JSON.stringify({ error: { message: "overloaded" } }) }, NOW).kind).toBe("auth")
    // The same localised text, any language: the type is what counts.
    for (const message of ["Free usage limit reached", "Limite d'utilisation gratuite atteinte", "已达到免费使用额度上限"])
      expect(ProviderError.classify({ status: 429, body: gateway("FreeUsageLimitError", {}, message) }, NOW).kind).toBe("free_usage_limit")
  })

  test("retry-after forms: ms header, HTTP-date, past date, junk", () => {
    const at = (headers: Record<string, string>) => ProviderError.classify({ status: 503, headers, body: "" }, NOW)
    expect(at({ "retry-after-ms": "1500", "retry-after": "9" })).toMatchObject({ retryAfterMs: 1500, retryable: true })
    expect(at({ "Retry-After": "Sat, 21 Nov 2026 10:03:27 GMT" })).toMatchObject({ retryAfterMs: 30_000, resetAt: "2026-11-21T10:03:27.000Z" })
    expect(at({ "retry-after": "Sat, 21 Nov 2026 09:00:00 GMT" })).toMatchObject({ retryAfterMs: 0 })
    expect(at({ "retry-after": "2.5" })).toMatchObject({ retryAfterMs: 2500 })
    for (const junk of ["-5", "soon", "1e400", "99999999999999", "NaN", ""]) expect(at({ "retry-after": junk }).retryAfterMs).toBeNull()
    // A transient error that asks for more than the bounded wait is not retryable: waiting is not bounded.
    expect(at({ "retry-after": "3600" })).toMatchObject({ kind: "overloaded", retryable: false, action: "stop", resetAt: "2026-11-21T11:02:57.000Z" })
  })

  test("credentials in an upstream message are scrubbed", () => {
    const key = keyShapedSecret("sk")
    const hex = crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "")
    const body = JSON.stringify({
      error: { type: "AuthError", message: `Invalid key ${key}; Authorization: Bearer ${hex} cookie: auth=${hex}; api_key=${key.slice(3)}` },
    })
    const info = ProviderError.classify({ status: 401, body }, NOW)
    const everything = JSON.stringify(info)
    expect(everything).not.toContain(key)
    expect(everything).not.toContain(key.slice(3))
    expect(everything).not.toContain(hex)
    expect(info.message).toContain("[redacted]")
  })

  test("the message is bounded however large the body", () => {
    const huge = JSON.stringify({ error: { type: "server_error", message: "x ".repeat(200_000) } })
    const info = ProviderError.classify({ status: 500, body: huge }, NOW)
    expect(info.message.length).toBeLessThanOrEqual(300)
    expect(info.kind).toBe("server_error")
  })

  test("hostile objects do not throw", () => {
    const throwing = new Proxy({}, { get: () => { throw new Error("boom") }, ownKeys: () => { throw new Error("boom") } })
    expect(ProviderError.classify(throwing, NOW).kind).toBe("unknown")
    const cyclic: Record<string, unknown> = { name: "Error" }
    cyclic.cause = cyclic
    expect(ProviderError.classify(Object.assign(new Error("x"), { cause: cyclic }), NOW).kind).toBe("unknown")
  })
})
