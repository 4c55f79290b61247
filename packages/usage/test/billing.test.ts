import { describe, expect, test } from "bun:test"
import { parseBillingHtml } from "../src/zen.ts"
import { parseQueryKey } from "../src/billing.ts"
import { WS, WS_BLACK, WS_GO, WS_OTHER, expectCode, fixture } from "./helpers.ts"

const NOW = Date.parse("2026-11-21T12:00:00.000Z")
const parse = (name: string, ws?: string) => parseBillingHtml(fixture(name), ws, { now: NOW })

describe("billing page fixtures", () => {
  test("compact helpers, noise scripts around the data", () => {
    expect(parse("compact.html")).toEqual({
      workspaceID: WS,
      balanceUSD: 22,
      monthlyUsageUSD: 0.125,
      monthlyLimitUSD: 20,
      reload: { enabled: true, amountUSD: 20, triggerUSD: 5, error: null },
      subscription: null,
    })
  })

  test("long-hand helpers, settled in a later script, Black subscription, reused date ref", () => {
    const b = parse("longhand-black.html", WS_BLACK)
    expect(b.balanceUSD).toBe(-1.5)
    expect(b.monthlyUsageUSD).toBe(42)
    expect(b.monthlyLimitUSD).toBeNull()
    expect(b.reload).toEqual({ enabled: false, amountUSD: null, triggerUSD: null, error: null })
    expect(b.subscription).toBe("black-200")
    expect(b.black).toEqual({
      plan: "200",
      rolling: { percent: 41, status: "ok", resetInSec: 8123, resetsAt: new Date(NOW + 8123_000).toISOString() },
      weekly: { percent: 100, status: "rate-limited", resetInSec: 200000, resetsAt: new Date(NOW + 200000_000).toISOString() },
    })
  })

  test("drift: reordered fields, extra fields, unknown value types, bigint money", () => {
    const b = parse("drift-reordered.html")
    expect(b.balanceUSD).toBeCloseTo(1234.56789012, 8)
    expect(b.monthlyUsageUSD).toBe(3.5)
    expect(b.monthlyLimitUSD).toBe(100)
    expect(b.reload).toEqual({ enabled: true, amountUSD: 25.5, triggerUSD: 10, error: null })
  })

  test("drift: only the balance present; optional fields come back null, never invented", () => {
    expect(parse("missing-optional.html")).toEqual({
      workspaceID: WS,
      balanceUSD: 0,
      monthlyUsageUSD: null,
      monthlyLimitUSD: null,
      reload: { enabled: false, amountUSD: null, triggerUSD: null, error: null },
      subscription: null,
    })
  })

  test("escaped strings and unicode; commented-out scripts ignored; upper-case tags", () => {
    const b = parse("escaped.html")
    expect(b.balanceUSD).toBe(1)
    expect(b.reload.error).toBe('Card "Visa" declined:\n\tcontact bank \\ see </script> <b> café 💳 done')
  })

  test("Go (lite) subscription with Go windows on the page", () => {
    const b = parse("go-lite.html")
    expect(b.workspaceID).toBe(WS_GO)
    expect(b.subscription).toBe("go")
    expect(b.monthlyUsageUSD).toBeNull()
    expect(b.go).toEqual({
      rolling: { percent: 12.5, status: "ok", resetsAt: new Date(NOW + 3600_000).toISOString() },
      weekly: { percent: 58, status: "ok", resetsAt: "2026-11-23T00:00:00.000Z" },
      monthly: { percent: 100, status: "rate-limited", resetsAt: new Date(NOW + 86400_000).toISOString() },
    })
  })

  test("forward reference patched after all scripts", () => {
    expect(parse("forward-ref.html").reload.error).toBe("late-bound error text")
  })

  test("scoped IIFE form", () => {
    expect(parse("scoped-iife.html").balanceUSD).toBe(42)
  })

  test("workspace selection when several are present", () => {
    expect(parse("multi-workspace.html", WS_OTHER).balanceUSD).toBe(2)
    expect(parse("multi-workspace.html", WS).balanceUSD).toBe(1)
    expect(expectCode(() => parse("multi-workspace.html"), "parse_failed").message).toContain(WS_OTHER)
  })

  test("query keys", () => {
    expect(parseQueryKey(`billing.get["${WS}"]`)).toEqual({ name: "billing.get", args: [WS] })
    expect(parseQueryKey("plain")).toEqual({ name: "plain", args: undefined })
  })
})

describe("billing page failures", () => {
  test("rejected query -> page_error with the page's message", () => {
    const e = expectCode(() => parse("rejected.html"), "page_error")
    expect(e.message).toContain("Billing temporarily unavailable")
  })
  test("never settled -> parse_failed", () => {
    expect(expectCode(() => parse("pending.html"), "parse_failed").message).toContain("never settled")
  })
  test("no billing entry -> not_admin", () => {
    expectCode(() => parse("not-admin.html"), "not_admin")
  })
  test("billing for another workspace only -> not_admin", () => {
    expectCode(() => parse("compact.html", WS_OTHER), "not_admin")
  })
  test("login page -> cookie_expired", () => {
    expectCode(() => parse("login.html"), "cookie_expired")
  })
  test("no hydration at all -> parse_failed", () => {
    expect(expectCode(() => parse("no-hydration.html"), "parse_failed").message).toContain("no hydration data")
  })
  test("wrong type names entry, field, expected and found", () => {
    const e = expectCode(() => parse("wrong-type.html"), "parse_failed")
    expect(e.message).toContain(`billing.get["${WS}"]`)
    expect(e.message).toContain('"balance"')
    expect(e.message).toContain("expected a finite number")
    expect(e.message).toContain('found string "22.00"')
  })
  test("missing balance is named as missing", () => {
    const html = `<script>_$HY.r["billing.get[\\"${WS}\\"]"]=Promise.resolve({monthlyUsage:1})</script>`
    expect(expectCode(() => parseBillingHtml(html), "parse_failed").message).toContain("field missing")
  })
  test("billing entry present but unparseable -> parse_failed (not not_admin)", () => {
    const html = `<script>_$HY.r["billing.get[\\"${WS}\\"]"]={balance:1 monthlyUsage:2}</script>`
    expect(expectCode(() => parseBillingHtml(html), "parse_failed").message).toContain("could not be parsed")
  })
  test("wrong type inside Black windows is named", () => {
    const html = fixture("longhand-black.html").replace("usagePercent:41", 'usagePercent:"41"')
    const e = expectCode(() => parseBillingHtml(html, WS_BLACK), "parse_failed")
    expect(e.message).toContain("rollingUsage")
    expect(e.message).toContain("usagePercent")
  })
  test("billing value that is not an object", () => {
    const html = `<script>_$HY.r["billing.get[\\"${WS}\\"]"]=Promise.resolve([1,2])</script>`
    expect(expectCode(() => parseBillingHtml(html), "parse_failed").message).toContain("expected an object, found array")
  })
  test("reload flag of the wrong type", () => {
    const html = `<script>_$HY.r["billing.get[\\"${WS}\\"]"]=Promise.resolve({balance:1,reload:"yes"})</script>`
    expect(expectCode(() => parseBillingHtml(html), "parse_failed").message).toContain('"reload"')
  })
})
