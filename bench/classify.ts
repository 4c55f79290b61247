/**
 * classify_per_sec: ProviderError.classify on a mixed corpus (gateway quota errors as APICallErrors
 * and raw bodies, provider passthrough, HTML pages, network errors, stream error payloads), one
 * core, records kept so nothing is optimised away. Target: at least 100,000 a second, so
 * classifying every failed attempt (and every line support pastes) costs nothing noticeable.
 */
import { APICallError } from "ai"
import { ProviderError } from "../packages/opencode/src/provider"

const NOW = Date.parse("2026-11-21T10:02:57Z")
const gateway = (type: string, metadata?: Record<string, unknown>) =>
  JSON.stringify({ type: "error", error: { type, message: "Limite d'utilisation atteinte" }, ...(metadata ? { metadata } : {}) })
const api = (status: number, body: string, headers: Record<string, string> = {}) =>
  new APICallError({ message: "x", url: "https://opencode.ai/zen/v1/chat/completions", requestBodyValues: {}, statusCode: status, responseHeaders: { "content-type": "application/json", ...headers }, responseBody: body })

const CORPUS: unknown[] = [
  api(429, gateway("FreeUsageLimitError", {}), { "retry-after": "50223" }),
  api(429, gateway("GoUsageLimitError", { workspace: "wrk_01JABC", limitName: "5 hour" }), { "retry-after": "18000" }),
  api(429, gateway("RateLimitError", {}), { "retry-after": "60" }),
  api(401, gateway("CreditsError")),
  api(401, gateway("AuthError")),
  api(403, gateway("RegionError")),
  api(529, JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Error from provider (anthropic): Overloaded" } })),
  api(400, JSON.stringify({ error: { message: "This model's maximum context length is 128000 tokens", type: "invalid_request_error", code: "context_length_exceeded" } })),
  api(502, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502</h1></center></body></html>"),
  api(503, ""),
  { status: 429, headers: { "retry-after": "Sat, 21 Nov 2026 10:03:57 GMT" }, body: gateway("BlackUsageLimitError", {}) },
  { status: 200, headers: {}, body: JSON.stringify({ error: { message: "Provider returned error", code: 502, metadata: { provider_name: "x" } } }) },
  { message: "Error from provider (openai): Rate limit exceeded", type: "requests", code: "rate_limit_exceeded" },
  new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" }) }),
  new DOMException("The operation was aborted.", "AbortError"),
  new APICallError({ message: "Cannot connect to API: socket hang up", url: "x", requestBodyValues: {}, cause: Object.assign(new Error("x"), { code: "ECONNRESET" }), isRetryable: true }),
]

export async function bench(): Promise<Record<string, number>> {
  const kinds = new Set<string>()
  const run = (n: number) => {
    for (let i = 0; i < n; i++) kinds.add(ProviderError.classify(CORPUS[i % CORPUS.length], NOW).kind)
  }
  run(20_000) // warm-up
  let count = 0
  const started = performance.now()
  while (performance.now() - started < 1_000) {
    run(CORPUS.length * 100)
    count += CORPUS.length * 100
  }
  const seconds = (performance.now() - started) / 1000
  if (kinds.size < 10) throw new Error("bench: the corpus no longer covers the taxonomy")
  return { classify_per_sec: Math.round(count / seconds) }
}
