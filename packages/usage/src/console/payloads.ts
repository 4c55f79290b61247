/**
 * The console API's JSON bodies (console-api-2026.md), read strictly where a figure is needed and
 * tolerantly elsewhere: unknown fields are ignored, a needed field that is missing or of another
 * type is `parse_failed` naming it, never a guessed number. Money stays BigInt (money.ts).
 */
import { FieldReader, asRecord, describe, fieldError } from "../check.ts"
import { UsageError } from "../errors.ts"
import { isRecord } from "../hydration/index.ts"
import { readMicroCents } from "./money.ts"

/** `org_` (current) or `wrk_` (legacy, still accepted) ids, as the console's x-org-id check takes them. */
export const ORG_ID = /^(?:org|wrk)_[0-9A-Za-z]{1,64}$/

export interface Org {
  id: string
  name: string | null
}

export interface CurrentOrg extends Org {
  /** null when the body does not say. */
  hasGoSubscription: boolean | null
}

export interface BillingStatus {
  billingMode: "prepaid" | "credit" | string
  mode: string | null
  balanceMicroCents: bigint
  /** Another figure than the balance (what can be spent now); shown apart, never in its place. */
  availableMicroCents: bigint | null
}

export interface GoMeter {
  usedMicroCents: bigint
  limitMicroCents: bigint
  /** ISO instant, or null when neither the meter nor the subscription period gives one. */
  resetsAt: string | null
  /** Where resetsAt came from: the meter itself, or the subscription's period end (month). */
  resetFrom: "meter" | "period_end" | null
}

export interface GoStatus {
  product: string | null
  cancelAtPeriodEnd: boolean | null
  periodStartsAt: string | null
  periodEndsAt: string | null
  fiveHour: GoMeter | null
  week: GoMeter | null
  month: GoMeter | null
}

export interface UsageSummary {
  totalRequests: number
  totalInputTokens: number
  totalOutputTokens: number
  totalCacheReadTokens: number | null
  totalCacheWrite5mTokens: number | null
  totalCacheWrite1hTokens: number | null
  totalCostMicroCents: bigint
}

const ORGS = "console /console/api/orgs"
const CURRENT = "console /console/api/orgs/current"
const BILLING = "console /console/api/billing/status"
const GO = "console /console/api/go/status"
const SUMMARY = "console /console/api/usage/summary"

export function parseOrgs(body: unknown): Org[] {
  if (!Array.isArray(body)) throw new UsageError("parse_failed", `${ORGS}: expected an array of orgs, found ${describe(body)}`)
  return body.slice(0, 1000).map((item, i) => readOrg(asRecord(`${ORGS}[${i}]`, item)))
}

export function parseCurrentOrg(body: unknown): CurrentOrg {
  const r = asRecord(CURRENT, body)
  return { ...readOrg(r), hasGoSubscription: r.optionalBoolean("hasGoSubscription") }
}

function readOrg(r: FieldReader): Org {
  const id = r.requiredString("id")
  if (!ORG_ID.test(id)) throw fieldError(r.entry, "id", "an org id (org_… or wrk_…)", id)
  return { id, name: r.optionalString("name") }
}

export function parseBillingStatus(body: unknown): BillingStatus {
  const r = asRecord(BILLING, body)
  const billingMode = r.requiredString("billingMode")
  const available = r.raw("availableMicroCents")
  return {
    billingMode,
    mode: r.optionalString("mode"),
    balanceMicroCents: readMicroCents(BILLING, "balanceMicroCents", r.raw("balanceMicroCents")),
    availableMicroCents: available === undefined || available === null ? null : readMicroCents(BILLING, "availableMicroCents", available),
  }
}

/** A `null` body or `access: null` is no Go subscription: `null`, not an error. */
export function parseGoStatus(body: unknown): GoStatus | null {
  if (body === null) return null
  const r = asRecord(GO, body)
  const access = r.raw("access")
  if (access === null || access === undefined) {
    // `access` is how the console says whether there is a subscription: a body without it has drifted.
    if (access === undefined) throw fieldError(GO, "access", "an object or null", access)
    return null
  }
  const a = r.requiredRecord("access")
  const periodEndsAt = optionalInstant(a, "endsAt")
  const meters = a.requiredRecord("meters")
  return {
    product: optionalName(r, "product"),
    cancelAtPeriodEnd: a.optionalBoolean("cancelAtPeriodEnd") ?? r.optionalBoolean("cancelAtPeriodEnd"),
    periodStartsAt: optionalInstant(a, "startsAt"),
    periodEndsAt,
    fiveHour: readMeter(meters, "fiveHour", null),
    week: readMeter(meters, "week", null),
    // The month meter has no reset of its own: it ends with the subscription period.
    month: readMeter(meters, "month", periodEndsAt),
  }
}

function readMeter(meters: FieldReader, name: string, periodEnd: string | null): GoMeter | null {
  const m = meters.optionalRecord(name)
  if (!m) return null
  const own = optionalInstant(m, "resetsAt")
  return {
    usedMicroCents: readMicroCents(m.entry, "usedMicroCents", m.raw("usedMicroCents")),
    limitMicroCents: readMicroCents(m.entry, "limitMicroCents", m.raw("limitMicroCents")),
    resetsAt: own ?? periodEnd,
    resetFrom: own ? "meter" : periodEnd ? "period_end" : null,
  }
}

/** The product may be a name or an object naming it; only a name is shown. */
function optionalName(r: FieldReader, field: string): string | null {
  const v = r.raw(field)
  if (typeof v === "string") return v
  if (isRecord(v)) {
    const inner = new FieldReader(`${r.entry}.${field}`, v)
    for (const k of ["name", "id", "plan"]) {
      const s = inner.raw(k)
      if (typeof s === "string") return s
    }
  }
  return null
}

/** An ISO 8601 date-time with its zone: Date.parse alone takes "12" for 2001-12-01. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i
/** Epoch milliseconds from 2001 on; a count of seconds (1.8e9 today) is below it, refused rather than read as 1970. */
const MIN_EPOCH_MS = 1e12

function optionalInstant(r: FieldReader, field: string): string | null {
  const v = r.raw(field)
  if (v === undefined || v === null) return null
  const ms =
    typeof v === "string" && ISO_INSTANT.test(v) ? Date.parse(v) : typeof v === "number" && Number.isSafeInteger(v) && v >= MIN_EPOCH_MS ? v : Number.NaN
  if (!Number.isFinite(ms)) throw fieldError(r.entry, field, "an ISO 8601 date-time (or epoch milliseconds)", v)
  return new Date(ms).toISOString()
}

export function parseUsageSummary(body: unknown): UsageSummary {
  const r = asRecord(SUMMARY, body)
  return {
    totalRequests: count(r, "totalRequests"),
    totalInputTokens: count(r, "totalInputTokens"),
    totalOutputTokens: count(r, "totalOutputTokens"),
    totalCacheReadTokens: optionalCount(r, "totalCacheReadTokens"),
    totalCacheWrite5mTokens: optionalCount(r, "totalCacheWrite5mTokens"),
    totalCacheWrite1hTokens: optionalCount(r, "totalCacheWrite1hTokens"),
    totalCostMicroCents: readMicroCents(SUMMARY, "totalCostMicroCents", r.raw("totalCostMicroCents")),
  }
}

function count(r: FieldReader, field: string): number {
  const v = r.raw(field)
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v
  throw fieldError(r.entry, field, "a whole number", v)
}

function optionalCount(r: FieldReader, field: string): number | null {
  return r.raw(field) === undefined || r.raw(field) === null ? null : count(r, field)
}
