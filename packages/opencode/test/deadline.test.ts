import { describe, expect, test } from "bun:test"
import { Config } from "../src/config"
import { SessionDeadline } from "../src/session"

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
