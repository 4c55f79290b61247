/**
 * Turn parsed hydration queries into the workspace billing summary. Strict
 * about the fields the summary needs, tolerant of everything else.
 */
import { FieldReader, asRecord, describe } from "./check.ts"
import { UsageError } from "./errors.ts"
import { type HydrationResult, PageError, type QueryResult } from "./hydration/index.ts"
import { type TimedUsageWindow, type UsageWindow, readWindow, withoutSeconds } from "./windows.ts"

/** Money in the billing record is in micro-cents: 1 USD = 100,000,000. */
export const MICRO_CENTS_PER_USD = 100_000_000

export interface ZenBilling {
  workspaceID: string
  balanceUSD: number
  /** This month so far (the workspace's own monthly boundary); null when the page has no figure. */
  monthlyUsageUSD: number | null
  /** Workspace spend limit in dollars; null when none is set. */
  monthlyLimitUSD: number | null
  reload: {
    enabled: boolean
    amountUSD: number | null
    triggerUSD: number | null
    error: string | null
  }
  /** "black-<plan>", "go", or null. */
  subscription: string | null
  black?: { plan: string; rolling: TimedUsageWindow; weekly: TimedUsageWindow }
  go?: { rolling: UsageWindow | null; weekly: UsageWindow | null; monthly: UsageWindow | null }
}

export interface QueryKey {
  name: string
  args: unknown[] | undefined
}

/** `billing.get["wrk_..."]` -> name `billing.get`, args `["wrk_..."]`. */
export function parseQueryKey(key: string): QueryKey {
  const name = queryName(key)
  if (name === key) return { name: key, args: undefined }
  try {
    const args: unknown = JSON.parse(key.slice(name.length))
    return { name, args: Array.isArray(args) ? args : undefined }
  } catch {
    return { name, args: undefined }
  }
}

/** The part of a query key before its arguments; cheap, so keys can be filtered before `JSON.parse`. */
function queryName(key: string): string {
  const open = key.indexOf("[")
  return open < 0 ? key : key.slice(0, open)
}

/** Whether `queryName(key) === name`, without slicing. */
function hasQueryName(key: string, name: string): boolean {
  if (!key.startsWith(name)) return false
  return key.length === name.length ? !name.includes("[") : key.charCodeAt(name.length) === 91 && !name.includes("[")
}

function workspaceArg(k: QueryKey): string | undefined {
  for (const a of k.args ?? []) {
    if (typeof a === "string" && a.startsWith("wrk_")) return a
    if (typeof a === "object" && a !== null) {
      for (const v of Object.values(a)) if (typeof v === "string" && v.startsWith("wrk_")) return v
    }
  }
  return undefined
}

interface Found {
  key: string
  workspaceID: string
  result: QueryResult
}

function findQueries(h: HydrationResult, name: string): Found[] {
  const out: Found[] = []
  // Keys first: a lazily built result map only materialises the entries asked for.
  for (const key of h.queries.keys()) {
    if (!hasQueryName(key, name)) continue
    const k = parseQueryKey(key)
    const ws = workspaceArg(k)
    const result = ws ? h.queries.get(key) : undefined
    if (ws && result) out.push({ key, workspaceID: ws, result })
  }
  return out
}

export interface BillingOptions {
  workspaceID?: string
  /** Clock for turning relative resets into instants (tests pin it). */
  now?: number
}

export function billingFromHydration(h: HydrationResult, options: BillingOptions = {}): ZenBilling {
  const now = options.now ?? Date.now()
  if (!h.hydrationFound) {
    throw new UsageError("parse_failed", "no hydration data found in the page (expected inline <script> with _$HY.r[...] entries); the page format may have changed")
  }
  const billing = pickBilling(h, options.workspaceID)
  const value = settledValue(billing)
  const r = asRecord(billing.key, value)
  const out = readBillingRecord(r, billing.workspaceID)

  const sub = findQueries(h, "subscription.get").find((f) => f.workspaceID === billing.workspaceID)
  if (sub) {
    const subValue = settledValue(sub)
    if (subValue !== null && subValue !== undefined) {
      const s = asRecord(sub.key, subValue)
      const plan = s.optionalPlan("plan") ?? planOf(out.subscription)
      if (plan === null) throw new UsageError("parse_failed", `${sub.key}: field "plan": expected a plan string, found ${describe(s.raw("plan"))}`)
      out.black = {
        plan,
        rolling: readWindow(s.requiredRecord("rollingUsage"), now),
        weekly: readWindow(s.requiredRecord("weeklyUsage"), now),
      }
    }
  }

  const go = findGoWindows(h, billing.workspaceID, now)
  if (go) out.go = go
  return out
}

function planOf(subscription: string | null): string | null {
  return subscription?.startsWith("black-") ? subscription.slice("black-".length) : null
}

function pickBilling(h: HydrationResult, workspaceID: string | undefined): Found {
  const all = findQueries(h, "billing.get")
  const failed = [...h.failedKeys].filter(([key]) => parseQueryKey(key).name === "billing.get")
  const matching = workspaceID ? all.filter((f) => f.workspaceID === workspaceID) : all
  const first = matching[0]
  if (first && matching.length === 1) return first
  if (matching.length > 1) {
    throw new UsageError(
      "parse_failed",
      `the page holds billing for several workspaces (${matching.map((f) => f.workspaceID).join(", ")}); pass the workspace id`,
    )
  }
  const failedHere = failed.find(([key]) => !workspaceID || key.includes(workspaceID))
  if (failedHere) throw new UsageError("parse_failed", `${failedHere[0]} is in the page but could not be parsed: ${failedHere[1]}`)
  const where = workspaceID ? ` for ${workspaceID}` : ""
  throw new UsageError(
    "not_admin",
    `the page has no billing data${where}: the signed-in account is probably not an admin of this workspace (only admins see billing)`,
  )
}

function settledValue(f: Found): unknown {
  if (f.result.status === "fulfilled") return f.result.value
  if (f.result.status === "pending") {
    throw new UsageError("parse_failed", `${f.key} was never settled in the page (truncated download or changed streaming format)`)
  }
  const e = f.result.error
  const message = e instanceof PageError ? e.message : typeof e === "string" ? e : describe(e)
  throw new UsageError("page_error", `the page reports ${f.key} failed: ${message.slice(0, 200)}`)
}

function readBillingRecord(r: FieldReader, workspaceID: string): ZenBilling {
  const balance = r.requiredNumber("balance")
  const monthlyUsage = r.optionalNumber("monthlyUsage")
  const blackSub = r.optionalRecord("subscription")
  const lite = r.optionalRecord("lite")
  let subscription: string | null = null
  if (blackSub) {
    const plan = blackSub.optionalPlan("plan") ?? r.optionalPlan("subscriptionPlan")
    subscription = plan === null ? "black" : `black-${plan}`
  }
  else if (lite) subscription = "go"
  return {
    workspaceID,
    balanceUSD: balance / MICRO_CENTS_PER_USD,
    monthlyUsageUSD: monthlyUsage === null ? null : monthlyUsage / MICRO_CENTS_PER_USD,
    monthlyLimitUSD: r.optionalNumber("monthlyLimit"),
    reload: {
      // An unset flag means auto-reload was never turned on.
      enabled: r.optionalBoolean("reload") ?? false,
      amountUSD: r.optionalNumber("reloadAmount"),
      triggerUSD: r.optionalNumber("reloadTrigger"),
      error: r.optionalString("reloadError"),
    },
    subscription,
  }
}

/**
 * The Go page embeds its windows under a query whose name mentions Go/lite;
 * recognise it by shape so renamed queries still work.
 */
function findGoWindows(h: HydrationResult, workspaceID: string, now: number): ZenBilling["go"] | undefined {
  for (const key of h.queries.keys()) {
    const name = queryName(key)
    if (name === "billing.get" || name === "subscription.get" || !/\b(?:lite|go)\b/i.test(name.replaceAll(".", " "))) continue
    const k = parseQueryKey(key)
    if (workspaceArg(k) !== workspaceID) continue
    const result = h.queries.get(key)
    if (result?.status !== "fulfilled") continue
    let r: FieldReader
    try {
      r = asRecord(key, result.value)
    } catch {
      continue
    }
    const pick = (a: string, b: string): UsageWindow | null => {
      const w = r.optionalRecord(r.raw(a) !== undefined ? a : b)
      return w ? withoutSeconds(readWindow(w, now)) : null
    }
    const rolling = pick("rollingUsage", "rolling")
    const weekly = pick("weeklyUsage", "weekly")
    const monthly = pick("monthlyUsage", "monthly")
    if (rolling || weekly || monthly) return { rolling, weekly, monthly }
  }
  return undefined
}
