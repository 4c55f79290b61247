import { describe, expect, test } from "bun:test"
import { type Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { ProviderError } from "../src/provider"
import { SessionRetry } from "../src/session"

const NOW = Date.parse("2026-11-21T10:02:57Z")
const record = (status: number, headers: Record<string, string> = {}, body = "") => ProviderError.classify({ status, headers, body }, NOW)
const overloaded = record(529)
const fixed = (r: number) => () => r

describe("SessionRetry.next", () => {
  test("quota, billing, auth and request errors stop at once, whatever their retry-after", () => {
    const free = record(429, { "retry-after": "50223" }, JSON.stringify({ type: "error", error: { type: "FreeUsageLimitError", message: "x" } }))
    expect(SessionRetry.next(free, 1)).toEqual({ action: "stop", reason: "not_retryable", resetAt: "2026-11-22T00:00:00.000Z" })
    const shortFree = record(429, { "retry-after": "1" }, JSON.stringify({ type: "error", error: { type: "FreeUsageLimitError", message: "x" } }))
    expect(SessionRetry.next(shortFree, 1).action).toBe("stop")
    for (const type of ["GoUsageLimitError", "BlackUsageLimitError", "AuthError", "CreditsError", "MonthlyLimitError", "UserLimitError", "ModelError", "RegionError"]) {
      const info = record(429, { "retry-after": "2" }, JSON.stringify({ type: "error", error: { type, message: "x" } }))
      expect(SessionRetry.next(info, 1)).toMatchObject({ action: "stop", reason: "not_retryable" })
    }
    expect(SessionRetry.next(record(400), 1).action).toBe("stop")
    expect(SessionRetry.next(ProviderError.classify(new DOMException("aborted", "AbortError")), 1).action).toBe("stop")
  })

  test("the gate, an outdated client, refused models and OpenCode's upstream accounts stop at once too", () => {
    const gateway = (type: string, message = "x") => JSON.stringify({ type: "error", error: { type, message } })
    const infos = [
      record(403, { "retry-after": "1" }, gateway("FreeTierError", "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode")),
      // A proxy's re-wrap of the same refusal, under a type that alone would read as a server error.
      record(502, {}, JSON.stringify({ error: { message: "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode", type: "upstream_error" } })),
      // 426 whatever the body, even one that looks transient.
      record(426, { "retry-after": "1" }, JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "x" } })),
      record(403, {}, gateway("ModelAccessError")),
      record(403, {}, gateway("DataPolicyError")),
      record(429, { "retry-after": "1" }, gateway("SubscriptionUsageLimitError")),
      record(429, {}, JSON.stringify({ error: { message: "Error from provider (OpenAI): quota", type: "insufficient_quota", code: "insufficient_quota" } })),
      record(402, {}, JSON.stringify({ error: { message: "Error from provider (DeepSeek): Insufficient Balance" } })),
    ]
    expect(infos.map((i) => i.kind)).toEqual([
      "free_tier_gated",
      "free_tier_gated",
      "client_outdated",
      "model_access_denied",
      "data_policy_blocked",
      "subscription_usage_limit",
      "credits_exhausted",
      "credits_exhausted",
    ])
    for (const info of infos) expect(SessionRetry.next(info, 1)).toMatchObject({ action: "stop", reason: "not_retryable" })
  })

  test("backoff grows with each attempt, within the jitter band, up to the cap", () => {
    const options = { maxAttempts: 10 }
    const low = [1, 2, 3, 4, 5].map((a) => SessionRetry.next(overloaded, a, { ...options, random: fixed(0) }))
    const high = [1, 2, 3, 4, 5].map((a) => SessionRetry.next(overloaded, a, { ...options, random: fixed(0.999999) }))
    const delays = (ds: SessionRetry.Decision[]) => ds.map((d) => (d.action === "retry" ? d.delayMs : -1))
    expect(delays(low)).toEqual([1600, 3200, 6400, 12800, 24000])
    expect(delays(high)).toEqual([2400, 4800, 9600, 19200, 30000])
    // Grows even from the top of one band to the bottom of the next.
    for (let i = 0; i < 3; i++) expect(delays(low)[i + 1]!).toBeGreaterThan(delays(high)[i]!)
  })

  test("jitter stays within ±JITTER for any random value, including broken ones", () => {
    for (const r of [0, 0.1, 0.5, 0.9, 0.999, -3, 7, NaN, Infinity]) {
      const d = SessionRetry.next(overloaded, 2, { random: fixed(r) })
      if (d.action !== "retry") throw new Error("expected a retry")
      const base = SessionRetry.INITIAL_DELAY_MS * SessionRetry.BACKOFF_FACTOR
      expect(d.delayMs).toBeGreaterThanOrEqual(base * (1 - SessionRetry.JITTER))
      expect(d.delayMs).toBeLessThanOrEqual(base * (1 + SessionRetry.JITTER))
    }
  })

  test("retry-after is honoured: never earlier, at most the bounded wait", () => {
    const info = record(429, { "retry-after": "7" })
    for (const r of [0, 0.5, 0.99]) {
      const d = SessionRetry.next(info, 1, { random: fixed(r) })
      expect(d.action).toBe("retry")
      if (d.action === "retry") {
        expect(d.delayMs).toBeGreaterThanOrEqual(7000)
        expect(d.delayMs).toBeLessThanOrEqual(7000 * (1 + SessionRetry.JITTER))
      }
    }
    const atCap = SessionRetry.next(record(429, { "retry-after": "60" }), 1, { random: fixed(0.99) })
    expect(atCap).toEqual({ action: "retry", delayMs: SessionRetry.MAX_WAIT_MS })
  })

  test("a transient retry-after above the cap stops with the reset time instead of sleeping", () => {
    const d = SessionRetry.next(record(503, { "retry-after": "61" }), 1)
    expect(d).toEqual({ action: "stop", reason: "wait_too_long", resetAt: "2026-11-21T10:03:58.000Z" })
    const rateLimited = record(429, { "retry-after": "3600" }, JSON.stringify({ type: "error", error: { type: "RateLimitError", message: "x" } }))
    expect(SessionRetry.next(rateLimited, 1)).toMatchObject({ action: "stop", reason: "wait_too_long" })
  })

  test("attempts are bounded", () => {
    const decisions = [1, 2, 3, 4, 5].map((a) => SessionRetry.next(overloaded, a).action)
    expect(SessionRetry.MAX_ATTEMPTS).toBe(4)
    expect(decisions).toEqual(["retry", "retry", "retry", "stop", "stop"])
    expect(SessionRetry.next(overloaded, 4)).toMatchObject({ reason: "attempts_exhausted" })
  })

  test("policy() uses the record the processor attached", () => {
    const decide = SessionRetry.policy({ random: fixed(0.5) })
    expect(decide({ attempt: 1, error: new Error("irrelevant"), streamedText: false, info: overloaded })).toEqual({ action: "retry", delayMs: 2000 })
  })

  test("a failure that took half the first-byte deadline or more is tried like a timeout: once more at most", () => {
    const decide = SessionRetry.policy({ random: fixed(0.5) })
    const at = (attempt: number, elapsedMs: number) => decide({ attempt, error: new Error("504"), streamedText: false, info: record(504), elapsedMs, firstByteMs: 90_000 })
    expect(at(1, 89_000)).toEqual({ action: "retry", delayMs: 2000 })
    expect(at(2, 89_000)).toMatchObject({ action: "stop", reason: "attempts_exhausted" })
    expect(at(2, 45_000)).toMatchObject({ action: "stop", reason: "attempts_exhausted" })
    // Just under the share, and without the timing (another caller's failure), the usual four attempts.
    expect(at(2, 44_999)).toMatchObject({ action: "retry" })
    expect(at(3, 100)).toMatchObject({ action: "retry" })
    expect(decide({ attempt: 3, error: new Error("504"), streamedText: false, info: record(504) })).toMatchObject({ action: "retry" })
    // A caller's own lower bound still holds.
    expect(SessionRetry.policy({ maxAttempts: 1 })({ attempt: 1, error: null, streamedText: false, info: record(504), elapsedMs: 89_000, firstByteMs: 90_000 })).toMatchObject({
      action: "stop",
    })
  })

  test("the upsell line is kept exactly and only for the free limit", () => {
    expect(SessionRetry.GO_UPSELL_MESSAGE).toBe("Free usage exceeded, subscribe to Go https://opencode.ai/go")
    expect(SessionRetry.upsell({ kind: "free_usage_limit" })).toBe(SessionRetry.GO_UPSELL_MESSAGE)
    expect(SessionRetry.upsell({ kind: "go_usage_limit" })).toBeUndefined()
  })
})

describe("SessionRetry.schedule (Effect)", () => {
  // Drives Effect.retry under the TestClock: no real time passes.
  const run = (failures: ProviderError.Info[], advance: Duration.Input, join = true) =>
    Effect.runPromise(
      Effect.provide(
        Effect.gen(function* () {
          let calls = 0
          const attempt = Effect.suspend(() => {
            const failure = failures[calls++]
            return failure ? Effect.fail(failure) : Effect.succeed("ok")
          })
          const fiber = yield* Effect.forkChild(Effect.exit(Effect.retry(attempt, SessionRetry.schedule({ random: fixed(0.5) }))))
          yield* TestClock.adjust(advance)
          if (!join) {
            yield* Fiber.interrupt(fiber)
            return { exit: undefined, calls }
          }
          return { exit: yield* Fiber.join(fiber), calls }
        }),
        TestClock.layer(),
      ),
    )

  test("retries an overload on the policy's delays and succeeds", async () => {
    const { exit, calls } = await run([overloaded, overloaded], "6 seconds")
    expect(exit?._tag).toBe("Success")
    expect(calls).toBe(3)
  })

  test("does not wait for the delays to be reached early", async () => {
    // Delays at random 0.5 are 2 s then 4 s: just short of 6 s the third attempt has not run.
    expect((await run([overloaded, overloaded], "5999 millis", false)).calls).toBe(2)
    expect((await run([overloaded, overloaded], "1999 millis", false)).calls).toBe(1)
  })

  test("a spent quota fails at once, with no time passing", async () => {
    const free = record(429, {}, JSON.stringify({ type: "error", error: { type: "FreeUsageLimitError", message: "x" } }))
    const { exit, calls } = await run([free, free], "0 millis")
    expect(exit?._tag).toBe("Failure")
    expect(calls).toBe(1)
  })
})
