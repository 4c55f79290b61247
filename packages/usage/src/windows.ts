/**
 * Usage windows (Go and Black). Upstream sends either an absolute `resetsAt`
 * or a relative `resetInSec`, and `percent` or `usagePercent`; normalise both.
 */
import { type FieldReader, fieldError } from "./check.ts"

export interface UsageWindow {
  /** 0-100 as reported (may exceed 100 if upstream says so). */
  percent: number
  /** "ok" or "rate-limited" upstream; other strings are passed through. */
  status: string
  /** ISO 8601 instant the window resets. */
  resetsAt: string
}

export interface TimedUsageWindow extends UsageWindow {
  /** Seconds from the time of reading until the reset (never negative). */
  resetInSec: number
}

export function readWindow(r: FieldReader, now: number): TimedUsageWindow {
  const percentField = r.raw("usagePercent") !== undefined ? "usagePercent" : "percent"
  const percent = r.requiredNumber(percentField)
  const status = r.requiredString("status")
  const at = r.raw("resetsAt")
  let resetsAtMs: number
  if (at instanceof Date || typeof at === "string") {
    resetsAtMs = at instanceof Date ? at.getTime() : Date.parse(at)
    if (!Number.isFinite(resetsAtMs)) throw fieldError(r.entry, "resetsAt", "an ISO date", at)
  } else if (at === undefined || at === null) {
    const inSec = r.raw("resetInSec")
    if (typeof inSec !== "number" || !Number.isFinite(inSec)) throw fieldError(r.entry, "resetInSec", "a number of seconds (or resetsAt)", inSec)
    resetsAtMs = now + inSec * 1000
  } else throw fieldError(r.entry, "resetsAt", "an ISO date", at)
  return {
    percent,
    status,
    resetInSec: Math.max(0, Math.round((resetsAtMs - now) / 1000)),
    resetsAt: new Date(resetsAtMs).toISOString(),
  }
}

export function withoutSeconds(w: TimedUsageWindow): UsageWindow {
  return { percent: w.percent, status: w.status, resetsAt: w.resetsAt }
}
