/**
 * Every console body of console-api-2026.md, hand-written in test/fixtures/console/, parsed exactly;
 * drifted bodies are parse_failed naming the field, never a number.
 */
import { describe, expect, test } from "bun:test"
import { parseBillingStatus, parseCurrentOrg, parseGoStatus, parseOrgs, parseUsageSummary } from "../src/console/payloads.ts"
import { expectCode, fixture } from "./helpers.ts"

const json = (name: string): unknown => JSON.parse(fixture(`console/${name}.json`))

describe("documented shapes", () => {
  test("orgs and the current org", () => {
    expect(parseOrgs(json("orgs"))).toEqual([
      { id: "org_01JQ7XK3M9TZ4B8N2C6D5E1F0G", name: "Paw Work" },
      { id: "wrk_01K6XGM22R6FM8JVABE9XDQXGH", name: "Old Workspace" },
    ])
    expect(parseCurrentOrg(json("orgs-current"))).toEqual({ id: "org_01JQ7XK3M9TZ4B8N2C6D5E1F0G", name: "Paw Work", hasGoSubscription: true })
  })

  test("billing status: prepaid, credit with a negative balance, beyond a float", () => {
    expect(parseBillingStatus(json("billing-prepaid"))).toEqual({ billingMode: "prepaid", mode: "pay-as-you-go", balanceMicroCents: 2_200_000_000n, availableMicroCents: 2_150_000_000n })
    expect(parseBillingStatus(json("billing-credit-negative"))).toEqual({ billingMode: "credit", mode: "invoiceable", balanceMicroCents: -123_456_789n, availableMicroCents: 49_876_543_211n })
    expect(parseBillingStatus(json("billing-huge")).balanceMicroCents).toBe(1_000_000_000_000_000_001n)
    expect(parseBillingStatus(json("billing-huge")).availableMicroCents).toBeNull()
  })

  test("Go status with every meter; the month resets at the period end", () => {
    expect(parseGoStatus(json("go-status"))).toEqual({
      product: "go",
      cancelAtPeriodEnd: false,
      periodStartsAt: "2026-11-05T09:30:00.000Z",
      periodEndsAt: "2026-12-05T09:30:00.000Z",
      fiveHour: { usedMicroCents: 420_000_000n, limitMicroCents: 1_200_000_000n, resetsAt: "2026-11-21T15:00:00.000Z", resetFrom: "meter" },
      week: { usedMicroCents: 3_000_000_000n, limitMicroCents: 3_000_000_000n, resetsAt: "2026-11-23T00:00:00.000Z", resetFrom: "meter" },
      month: { usedMicroCents: 3_512_345_678n, limitMicroCents: 6_000_000_000n, resetsAt: "2026-12-05T09:30:00.000Z", resetFrom: "period_end" },
    })
  })

  test("an instant as ISO 8601 (with or without milliseconds or a zone offset) or as epoch milliseconds", () => {
    const at = (resetsAt: unknown) =>
      parseGoStatus({ access: { endsAt: null, meters: { week: { limitMicroCents: "1", usedMicroCents: "0", resetsAt } } } })?.week?.resetsAt
    expect(at("2026-11-23T00:00:00Z")).toBe("2026-11-23T00:00:00.000Z")
    expect(at("2026-11-23T01:00:00.123+01:00")).toBe("2026-11-23T00:00:00.123Z")
    expect(at("2026-11-23 00:00:00Z")).toBe("2026-11-23T00:00:00.000Z")
    expect(at(1_795_392_000_000)).toBe("2026-11-23T00:00:00.000Z")
    for (const bad of ["2026-11-23", "2026-11-23T00:00:00", "Nov 23 2026", "1795392000", 1_795_392_000, 12.5, true]) expectCode(() => at(bad), "parse_failed")
  })

  test("an idle 5-hour meter has no reset; missing optional meters are null", () => {
    const idle = parseGoStatus(json("go-status-idle-five-hour"))
    expect(idle?.fiveHour).toEqual({ usedMicroCents: 0n, limitMicroCents: 3_000_000_000n, resetsAt: null, resetFrom: null })
    expect(idle?.cancelAtPeriodEnd).toBe(true)
    const some = parseGoStatus(json("go-status-missing-meters"))
    expect(some?.fiveHour).toBeNull()
    expect(some?.week).toBeNull()
    expect(some?.month?.resetsAt).toBe("2026-12-05T09:30:00.000Z")
  })

  test("no Go subscription: a null body or access null", () => {
    expect(parseGoStatus(json("go-status-null"))).toBeNull()
    expect(parseGoStatus(json("go-status-access-null"))).toBeNull()
  })

  test("usage summary, with and without the cache figures", () => {
    expect(parseUsageSummary(json("usage-summary"))).toEqual({
      totalRequests: 1234,
      totalInputTokens: 5_678_901,
      totalOutputTokens: 234_567,
      totalCacheReadTokens: 4_000_000,
      totalCacheWrite5mTokens: 12_000,
      totalCacheWrite1hTokens: 0,
      totalCostMicroCents: 1_987_654_321n,
    })
    const minimal = parseUsageSummary(json("usage-summary-minimal"))
    expect(minimal.totalCacheReadTokens).toBeNull()
    expect(minimal.totalCostMicroCents).toBe(0n)
  })
})

describe("drift is parse_failed naming the field", () => {
  const cases: [string, (b: unknown) => unknown, string][] = [
    ["drift-billing-renamed", parseBillingStatus, '"balanceMicroCents"'],
    ["drift-billing-float", parseBillingStatus, '"balanceMicroCents"'],
    ["drift-billing-dollars", parseBillingStatus, '"balanceMicroCents"'],
    ["drift-go-no-access", parseGoStatus, '"access"'],
    ["drift-go-used-renamed", parseGoStatus, '"usedMicroCents"'],
    ["drift-go-meters-missing", parseGoStatus, '"meters"'],
    // Dates that Date.parse would take for another instant: "12" is 2001-12-01, 1796463000 ms is 1970.
    ["drift-go-reset-seconds", parseGoStatus, '"resetsAt"'],
    ["drift-go-ends-epoch-seconds", parseGoStatus, '"endsAt"'],
    ["drift-summary-string-count", parseUsageSummary, '"totalRequests"'],
    ["drift-summary-cost-missing", parseUsageSummary, '"totalCostMicroCents"'],
    ["drift-orgs-id-renamed", parseOrgs, '"id"'],
  ]
  for (const [name, parse, field] of cases) {
    test(name, () => {
      const e = expectCode(() => parse(json(name)), "parse_failed")
      expect(e.message).toContain(field)
    })
  }

  test("an org list that is not a list, and an error body where data was expected", () => {
    expect(expectCode(() => parseOrgs(json("drift-orgs-object")), "parse_failed").message).toContain("expected an array")
    expect(expectCode(() => parseBillingStatus(json("error-unauthorized")), "parse_failed").message).toContain('"billingMode"')
    expect(expectCode(() => parseBillingStatus([]), "parse_failed").message).toContain("expected an object")
  })

  test("a hostile body cannot reach a prototype", () => {
    const body = JSON.parse('{"__proto__":{"balanceMicroCents":"1"},"billingMode":"prepaid"}')
    expectCode(() => parseBillingStatus(body), "parse_failed")
    expect(({} as Record<string, unknown>).balanceMicroCents).toBeUndefined()
  })
})
