import { describe, expect, test } from "bun:test"
import { APICallError } from "ai"
import { ProviderError } from "../src/provider"

/**
 * ProviderError.classify against 12,000 random and mutated inputs from a seeded generator: it never
 * throws, every result is a valid record, its fields agree with each other, and a planted key never
 * survives. The seed is fixed so a failure reproduces; the case number is in the message.
 */

const CASES = 12_000
const SECRET = `sk-PLANTED-${"9f".repeat(20)}`

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = mulberry32(0x5eed_2026)
const int = (n: number) => Math.floor(random() * n)
const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!

const GATEWAY_TYPES = [
  "FreeUsageLimitError",
  "GoUsageLimitError",
  "BlackUsageLimitError",
  "RateLimitError",
  "AuthError",
  "CreditsError",
  "MonthlyLimitError",
  "UserLimitError",
  "ModelError",
  "RegionError",
  "EntitlementError",
  "FreeTierError",
  "ModelAccessError",
  "DataPolicyError",
  "SubscriptionUsageLimitError",
  "MissingSessionID",
  "upstream_error",
  "error",
  "overloaded_error",
  "rate_limit_error",
  "invalid_request_error",
  "server_error",
  "",
  "constructor",
  "__proto__",
  "toString",
]

const SEEDS: (() => string)[] = [
  () => JSON.stringify({ type: "error", error: { type: pick(GATEWAY_TYPES), message: `Error from provider (anthropic): boom ${SECRET}` }, metadata: { workspace: "wrk_1", limitName: pick(["5 hour", "weekly", "monthly", "", "x".repeat(100)]) } }),
  () => JSON.stringify({ error: { message: `key ${SECRET} rejected`, type: pick(GATEWAY_TYPES), code: pick(["rate_limit_exceeded", "context_length_exceeded", 429, 502, null, "insufficient_quota"]) } }),
  () => JSON.stringify({ error: { message: "Provider returned error", code: int(700) - 50, metadata: { raw: SECRET } } }),
  () => `<html><head><title>${int(600)} Error ${SECRET}</title></head><body>${"<div>".repeat(int(50))}</body></html>`,
  () => "",
  () => "   \n\t",
  () => `Authorization: Bearer ${SECRET}`,
  () => "[".repeat(int(5000)) + "]".repeat(int(5000)),
  () => JSON.stringify({ type: "error", error: { type: "FreeUsageLimitError", message: "x".repeat(int(200_000)) } }),
  () => JSON.stringify(randomValue(4)) ?? "",
  // Relays: a gateway body nested as a string (any depth), or only its text under the relay's type.
  () => {
    let text = pick(SEEDS.slice(0, 3))()
    for (let n = int(6); n > 0; n--) text = JSON.stringify({ error: { message: pick(["", "429: ", "x".repeat(int(300))]) + text, type: pick(GATEWAY_TYPES) } })
    return text
  },
  () => JSON.stringify({ error: { code: null, message: `Error from provider (${pick(["Console", "Console Go", "OpenAI", "DeepSeek", ""])}): ${pick(["OpenCode's free tier can only be used from within OpenCode", "Insufficient Balance", `key ${SECRET}`])}`, type: pick(GATEWAY_TYPES) } }),
]

const RETRY_AFTER = ["60", "0", "-5", "2.5", "1e400", "99999999999999999", "NaN", "soon", "", "Sat, 21 Nov 2026 10:03:27 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "٣٠", "60 ", " 60", "0x10", "Infinity", SECRET]

function randomValue(depth: number): unknown {
  switch (int(depth <= 0 ? 6 : 9)) {
    case 0:
      return null
    case 1:
      return int(2) === 0
    case 2:
      return pick([0, -1, 429, 1e308, NaN, Infinity, -0, 3.7, 2 ** 53])
    case 3:
      return pick(["", "error", SECRET, "x".repeat(int(1000)), "\u0000\uffff", "🙂"])
    case 4:
      return undefined
    case 5:
      return pick(GATEWAY_TYPES)
    case 6:
      return Array.from({ length: int(5) }, () => randomValue(depth - 1))
    case 7: {
      const out: Record<string, unknown> = {}
      for (let i = int(6); i > 0; i--) out[pick(["type", "error", "message", "code", "metadata", "status", "statusCode", "headers", "body", "cause", "name", "limitName", "workspace", "data", "value"])] = randomValue(depth - 1)
      return out
    }
    default:
      return new Uint8Array(int(64)).map(() => int(256))
  }
}

function mutate(text: string): string {
  let out = text
  for (let n = int(4); n > 0; n--) {
    const at = int(out.length + 1)
    switch (int(5)) {
      case 0:
        out = out.slice(0, at) // truncated
        break
      case 1:
        out = out.slice(0, at) + pick(['"', "{", "}", "\\", ":", ",", "\u0000", "é", "]", "null"]) + out.slice(at)
        break
      case 2:
        out = out.slice(0, at) + out.slice(at + 1 + int(10))
        break
      case 3:
        out = out + out.slice(0, int(200))
        break
      default:
        out = out.replace(pick(['"type"', '"error"', '"message"', "429", "Error"]), pick(['"typ"', '"Error"', "1", '"type":', ""]))
    }
  }
  return out
}

function randomHeaders(): unknown {
  switch (int(6)) {
    case 0:
      return undefined
    case 1:
      try {
        return new Headers(int(2) ? { "retry-after": pick(RETRY_AFTER) } : { "retry-after-ms": pick(RETRY_AFTER) })
      } catch {
        return new Headers() // a value Headers itself refuses (non-ASCII)
      }
    case 2:
      return [["Retry-After", pick(RETRY_AFTER)], ["x", 1], "junk"]
    case 3:
      return { "RETRY-AFTER": pick(RETRY_AFTER), "retry-after-ms": pick(RETRY_AFTER) }
    case 4:
      return { "retry-after": pick([60, -1, NaN, ["60"], { v: 1 }, null]) }
    default:
      return randomValue(2)
  }
}

function randomInput(): unknown {
  const body = int(4) === 0 ? pick(SEEDS)() : mutate(pick(SEEDS)())
  const status = pick<unknown>([429, 401, 403, 400, 200, 500, 502, 503, 529, 0, -1, 1e9, NaN, "429", null, undefined, 99, 600])
  switch (int(9)) {
    case 0:
    case 1:
    case 2:
      return { status, headers: randomHeaders(), body }
    case 3: {
      const headers = randomHeaders()
      return new APICallError({
        message: mutate(`Error ${SECRET}`),
        url: "http://x",
        requestBodyValues: {},
        ...(typeof status === "number" && int(4) ? { statusCode: status } : {}),
        ...(headers && typeof headers === "object" && !Array.isArray(headers) && !(headers instanceof Headers) ? { responseHeaders: headers as Record<string, string> } : {}),
        ...(int(3) ? { responseBody: body } : {}),
        ...(int(2) ? { cause: Object.assign(new Error("x"), { code: pick(["ECONNRESET", "ENOTFOUND", "weird", 5]) }) } : {}),
      })
    }
    case 4: {
      const error: Error & { code?: unknown; cause?: unknown } = int(2) ? new TypeError(pick(["fetch failed", "terminated", mutate(SECRET)])) : new Error(mutate(body))
      if (int(2)) error.code = pick(["ECONNREFUSED", "ConnectionRefused", "CERT_HAS_EXPIRED", 42, null])
      if (int(3) === 0) error.cause = error
      else if (int(2)) error.cause = randomValue(3)
      if (int(4) === 0) error.name = pick(["AbortError", "TimeoutError", "ResponseAborted"])
      return error
    }
    case 5:
      return body
    case 6:
      return randomValue(5)
    case 7: {
      const hostile = new Proxy(
        {},
        {
          get: (_t, key) => {
            if (int(3) === 0) throw new Error("getter boom")
            return key === "status" ? 429 : randomValue(1)
          },
          ownKeys: () => {
            throw new Error("ownKeys boom")
          },
        },
      )
      return int(2) ? hostile : { status: 429, headers: hostile, body: hostile }
    }
    default: {
      const cyclic: Record<string, unknown> = { status, body }
      cyclic.error = cyclic
      cyclic.cause = cyclic
      cyclic.headers = cyclic
      return cyclic
    }
  }
}

describe("ProviderError.classify on random and mutated inputs", () => {
  test(`${CASES} cases: no throw, a valid record, consistent fields, no secret`, () => {
    const kinds = new Set<string>()
    const origins = new Set<string>()
    for (let i = 0; i < CASES; i++) {
      const input = randomInput()
      const now = pick([Date.parse("2026-11-21T10:02:57Z"), NaN, 1e20, -1e20, 0, Date.now()])
      let info: ProviderError.Info
      try {
        info = ProviderError.classify(input, now)
      } catch (error) {
        throw new Error(`case ${i}: classify threw ${error}`)
      }
      const parsed = ProviderError.Info.safeParse(info)
      if (!parsed.success) throw new Error(`case ${i}: invalid record ${JSON.stringify(parsed.error.issues)} ${JSON.stringify(info)}`)
      if (info.action !== (info.retryable ? "retry" : "stop")) throw new Error(`case ${i}: action and retryable disagree`)
      if (info.retryable && !ProviderError.isTransient(info.kind)) throw new Error(`case ${i}: ${info.kind} marked retryable`)
      if (info.retryable && info.retryAfterMs !== null && info.retryAfterMs > ProviderError.BOUNDED_WAIT_MS) throw new Error(`case ${i}: unbounded wait retryable`)
      if (JSON.stringify(info).includes(SECRET)) throw new Error(`case ${i}: the planted key survived ${JSON.stringify(info)}`)
      // OpenCode's own account with a named provider: the advice (the words around the provider's own text) never points at the user's key or money.
      const advice = info.message ? info.userMessage.split(info.message).join("") : info.userMessage
      if (info.origin === "upstream" && info.provider !== null && /auth set|API key|balance|credits|spend/i.test(advice))
        throw new Error(`case ${i}: upstream advice about the user's account: ${info.userMessage}`)
      if (info.origin === "gateway" && info.provider !== null) throw new Error(`case ${i}: a gateway failure named a provider behind it`)
      origins.add(info.origin)
      kinds.add(info.kind)
    }
    // The generator reaches most of the taxonomy, so the invariants were checked on more than "unknown".
    expect(kinds.size).toBeGreaterThanOrEqual(12)
    expect([...origins].sort()).toEqual(["gateway", "local", "network", "upstream"])
  })
})
