import { describe, expect, test } from "bun:test"
import { UsageError, scrub } from "../src/errors.ts"
import { errorJson, progressBar, relativeTime, renderZenHuman, toErrorLike, usd } from "../src/render.ts"
import { SECRET_COOKIE, SECRET_COOKIE_VALUE, SECRET_KEY, WS } from "./helpers.ts"

describe("render helpers", () => {
  test("progress bars clamp and label", () => {
    expect(progressBar(0)).toBe("[--------------------]   0%")
    expect(progressBar(58, 12)).toBe("[#######-----]  58%")
    expect(progressBar(100)).toBe("[####################] 100%")
    expect(progressBar(250)).toBe("[####################] 250%")
    expect(progressBar(-5)).toBe("[--------------------]  -5%")
    expect(progressBar(Number.NaN)).toBe("[--------------------]   ?%")
  })
  test("relative times", () => {
    expect(relativeTime(0, 0)).toBe("now")
    expect(relativeTime(45_000, 0)).toBe("in 45s")
    expect(relativeTime(5 * 60_000, 0)).toBe("in 5m")
    expect(relativeTime((3 * 3600 + 12 * 60) * 1000, 0)).toBe("in 3h 12m")
    expect(relativeTime((2 * 86400 + 4 * 3600) * 1000, 0)).toBe("in 2d 4h")
  })
  test("money", () => {
    expect(usd(22)).toBe("$22.00")
    expect(usd(-1.5)).toBe("-$1.50")
    expect(usd(null)).toBe("-")
  })
  test("no monthly limit and unreported usage are said in words", () => {
    const text = renderZenHuman({
      workspaceID: WS,
      balanceUSD: 1,
      monthlyUsageUSD: null,
      monthlyLimitUSD: null,
      reload: { enabled: false, amountUSD: null, triggerUSD: null, error: null },
      subscription: null,
    })
    expect(text).toContain("not reported (no monthly limit)")
    expect(text).toContain("Auto-reload        off")
  })
})

describe("secret scrubbing", () => {
  test("known secrets, cookie parts and key-shaped strings are removed", () => {
    const text = `a ${SECRET_COOKIE} b ${SECRET_COOKIE_VALUE} c ${encodeURIComponent(SECRET_COOKIE_VALUE)} d Bearer abc.def e ${SECRET_KEY} f token=abcdef123456`
    const out = scrub(text, [SECRET_COOKIE])
    expect(out).not.toContain(SECRET_COOKIE_VALUE)
    expect(out).not.toContain(encodeURIComponent(SECRET_COOKIE_VALUE))
    expect(out).not.toContain(SECRET_KEY)
    expect(out).not.toContain("abc.def")
    expect(out).not.toContain("abcdef123456")
  })
  test("workspace ids and URLs survive", () => {
    expect(scrub(`https://opencode.ai/workspace/${WS}/billing`)).toBe(`https://opencode.ai/workspace/${WS}/billing`)
  })
  test("error JSON shape", () => {
    expect(errorJson(toErrorLike(new UsageError("network", `boom ${SECRET_KEY}`)))).toEqual({ error: { code: "network", message: "boom [redacted]" } })
    expect(toErrorLike(new Error("x")).code).toBe("internal")
  })
})
