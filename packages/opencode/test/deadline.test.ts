import { describe, expect, test } from "bun:test"
import { Config } from "../src/config"
import { ProviderError, ProviderErrorMessage } from "../src/provider"
import { DeadlineError } from "../src/provider/deadline-error"
import { SessionDeadline, SessionRetry } from "../src/session"

const parse = (timeouts: unknown) => Config.parse("/home/u/.config/opencode/opencode.json", JSON.stringify({ pawwork: { timeouts } }), {})
const problem = (timeouts: unknown) => {
  try {
    parse(timeouts)
  } catch (error) {
    expect(error).toBeInstanceOf(Config.ConfigInvalidError)
    return (error as Error).message
  }
  throw new Error("expected the config to be refused")
}

describe("pawwork.timeouts in opencode.json", () => {
  test("valid values load as given", () => {
    expect(parse({ firstByteMs: 500, streamIdleMs: 60_000, responseMs: 900_000, turnWaitBudgetMs: 0 }).pawwork?.timeouts).toEqual({
      firstByteMs: 500,
      streamIdleMs: 60_000,
      responseMs: 900_000,
      turnWaitBudgetMs: 0,
    })
  })

  test("a bad value is refused with the field, the problem and the file named", () => {
    expect(problem({ firstByteMs: "90s" })).toContain("pawwork.timeouts.firstByteMs: expected a number of milliseconds")
    expect(problem({ streamIdleMs: 1.5 })).toContain("pawwork.timeouts.streamIdleMs: expected a whole number of milliseconds")
    expect(problem({ responseMs: 10 })).toContain("pawwork.timeouts.responseMs: must be at least 100 (milliseconds)")
    expect(problem({ turnWaitBudgetMs: -1 })).toContain("pawwork.timeouts.turnWaitBudgetMs: must be at least 0")
    // Past a day a timer overflows and fires at once, or never: neither is a deadline.
    expect(problem({ firstByteMs: 2 ** 31 })).toContain("must be at most 86400000")
    expect(problem({ firstByteMs: "90s" })).toContain("/home/u/.config/opencode/opencode.json")
  })

  test("a misspelt field is an error, not a deadline silently left at its default", () => {
    expect(problem({ firstbyteMs: 1000 })).toContain(
      'pawwork.timeouts: unknown field "firstbyteMs"; the fields are firstByteMs, streamIdleMs, responseMs and turnWaitBudgetMs',
    )
  })
})

describe("SessionDeadline.resolve", () => {
  test("unset fields take the defaults", () => {
    expect(SessionDeadline.resolve()).toEqual(SessionDeadline.DEFAULTS)
    expect(SessionDeadline.resolve({ streamIdleMs: 500 })).toEqual({ ...SessionDeadline.DEFAULTS, streamIdleMs: 500 })
  })

  test("the defaults are the documented ones", () => {
    expect(SessionDeadline.DEFAULTS).toEqual({ firstByteMs: 90_000, streamIdleMs: 120_000, responseMs: 600_000, turnWaitBudgetMs: 90_000 })
  })
})

describe("what a deadline becomes", () => {
  const at = Date.parse("2026-11-30T10:00:00Z")
  const classify = (error: unknown) => ProviderError.classify(error, at, { providerID: "opencode" })

  test("each deadline has its own kind, and a message saying what stalled and for how long", () => {
    const none = classify(new DeadlineError("first_byte", 90_000))
    expect(none).toMatchObject({ kind: "first_byte_timeout", origin: "network", retryable: true, statusCode: null })
    expect(none.userMessage).toStartWith("No answer from the provider within 90 s:")
    const idle = classify(new DeadlineError("stream_idle", 120_000))
    expect(idle).toMatchObject({ kind: "stream_stalled", origin: "network", retryable: false })
    expect(idle.userMessage).toStartWith("The provider stopped sending its answer: nothing arrived for 2 min.")
    const slow = classify(new DeadlineError("response", 600_000))
    expect(slow).toMatchObject({ kind: "stream_stalled", retryable: false })
    expect(slow.userMessage).toContain("still not finished after 10 min")
    expect(slow.userMessage).toContain("pawwork.timeouts.responseMs")
  })

  test("a spent wait budget keeps what the turn was waiting on", () => {
    const cause = { status: 429, headers: { "retry-after": "60" }, body: { type: "error", error: { type: "RateLimitError", message: "Rate limit exceeded." } } }
    const info = classify(new DeadlineError("wait_budget", 90_000, { waitedMs: 60_000, nextMs: 60_000 }, { cause }))
    expect(info).toMatchObject({ kind: "wait_budget_exhausted", origin: "local", retryable: false, statusCode: 429, upstreamType: "RateLimitError" })
    expect(info.userMessage).toStartWith("Too many requests with this API key")
    expect(info.userMessage).toContain("waiting another 60 s would take this turn past its wait budget of 90 s (it has already waited 60 s)")
  })

  test("a first-byte timeout is retried once; a stall or a spent budget never", () => {
    const none = classify(new DeadlineError("first_byte", 500))
    expect(SessionRetry.next(none, 1, { random: () => 0.5 }).action).toBe("retry")
    expect(SessionRetry.next(none, 2)).toMatchObject({ action: "stop", reason: "attempts_exhausted" })
    expect(SessionRetry.maxAttempts("first_byte_timeout")).toBe(SessionRetry.MAX_TIMEOUT_ATTEMPTS)
    expect(SessionRetry.next(classify(new DeadlineError("stream_idle", 500)), 1)).toMatchObject({ action: "stop", reason: "not_retryable" })
    expect(SessionRetry.next(classify(new DeadlineError("wait_budget", 0, { waitedMs: 0, nextMs: 1 })), 1)).toMatchObject({ action: "stop" })
  })

  test("the retry line for a timeout counts the attempts it will really make", () => {
    expect(ProviderErrorMessage.retrying({ kind: "first_byte_timeout", statusCode: null }, 2_000, 2, SessionRetry.maxAttempts("first_byte_timeout"))).toBe(
      "No answer from the provider in time; retrying in 2s (attempt 2 of 2)",
    )
  })
})

test("deadlines are said as a person says them", () => {
  expect([500, 1_000, 1_500, 90_000, 120_000, 150_000, 600_000].map(ProviderErrorMessage.span)).toEqual(["500 ms", "1 s", "1.5 s", "90 s", "2 min", "2 min 30 s", "10 min"])
})
