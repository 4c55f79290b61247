import { describe, expect, test } from "bun:test"
import { formatUSD, microCentsToUSD, percentOf, readMicroCents, usdToMicroCents } from "../src/console/money.ts"
import { expectCode } from "./helpers.ts"

describe("console money", () => {
  test("micro-cents to exact dollars and back, up to 1e18 and negative", () => {
    const values = [0n, 1n, -1n, 99n, 100_000_000n, -100_000_000n, 123_456_789n, -123_456_789n, 10n ** 18n, -(10n ** 18n), 10n ** 18n - 1n, 999_999_999_999_999_999n]
    // A deterministic spread over every magnitude up to 1e18, both signs.
    let x = 0x9e3779b97f4a7c15n
    for (let i = 0; i < 2000; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n
      const v = x % (10n ** BigInt(1 + (i % 18)) + 1n)
      values.push(i % 2 ? -v : v)
    }
    for (const v of values) expect(usdToMicroCents(microCentsToUSD(v))).toBe(v)
  })

  test("exact dollar strings keep every micro-cent", () => {
    expect(microCentsToUSD(2_200_000_000n)).toBe("22.00")
    expect(microCentsToUSD(-123_456_789n)).toBe("-1.23456789")
    expect(microCentsToUSD(1n)).toBe("0.00000001")
    expect(microCentsToUSD(10n ** 18n + 1n)).toBe("10000000000.00000001")
  })

  test("dollars and cents for people, half a cent away from zero", () => {
    expect(formatUSD(2_200_000_000n)).toBe("$22.00")
    expect(formatUSD(-123_456_789n)).toBe("-$1.23")
    expect(formatUSD(500_000n)).toBe("$0.01")
    expect(formatUSD(499_999n)).toBe("$0.00")
    expect(formatUSD(-400_000n)).toBe("$0.00")
    expect(formatUSD(10n ** 18n)).toBe("$10,000,000,000.00")
    // 2^53 + 1 micro-cents: a float would print ...0.99 or lose the last digit.
    expect(formatUSD(9_007_199_254_740_993n * 1_000_000n)).toBe("$90,071,992,547,409.93")
  })

  test("percent is used / limit, in integers", () => {
    expect(percentOf(420_000_000n, 1_200_000_000n)).toBe(35)
    expect(percentOf(3_512_345_678n, 6_000_000_000n)).toBe(58.5)
    expect(percentOf(3_000_000_000n, 3_000_000_000n)).toBe(100)
    expect(percentOf(0n, 0n)).toBe(0)
    expect(percentOf(1n, 0n)).toBe(100)
    expect(percentOf(10n ** 18n, 3n * 10n ** 17n)).toBe(333.3)
  })

  test("only decimal strings and safe integers are money", () => {
    expect(readMicroCents("e", "f", "-42")).toBe(-42n)
    expect(readMicroCents("e", "f", "1000000000000000000")).toBe(10n ** 18n)
    expect(readMicroCents("e", "f", 42)).toBe(42n)
    for (const bad of ["22.00", "1e9", " 1", "+1", "01", "", "0x10", "9".repeat(31), 1.5, 2 ** 60, Number.NaN, null, undefined, true, {}]) {
      const e = expectCode(() => readMicroCents("billing", "balanceMicroCents", bad), "parse_failed")
      expect(e.message).toContain('"balanceMicroCents"')
    }
  })
})
