import type { GoWindow, WindowName } from "./meters"

/**
 * What a set of Go windows means, as pure functions: which thresholds a window has crossed, which
 * window blocks, and at what pace a window is being used. No I/O, no clock but the one given.
 */

export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 95]

/** The order the gateway checks Go windows in: with several spent, it names the first of these. */
export const CHECK_ORDER: readonly WindowName[] = ["weekly", "monthly", "5 hour"]

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
/** Each window's length. A month is taken as 30 days for the pace (months differ by up to 3 days). */
export const LENGTH_MS: Record<WindowName, number> = { "5 hour": 5 * HOUR_MS, weekly: 7 * DAY_MS, monthly: 30 * DAY_MS }

export const LABEL: Record<WindowName, string> = { "5 hour": "5-hour", weekly: "weekly", monthly: "monthly" }

/** The thresholds at or below `percent`, ascending. */
export function crossed(percent: number, thresholds: readonly number[]): number[] {
  return [...new Set(thresholds)].filter((t) => percent >= t).sort((a, b) => a - b)
}

/** A window the gateway is refusing on: reported rate-limited, or fully used. */
export function isBlocked(w: Pick<GoWindow, "status" | "percent">): boolean {
  return w.status === "rate-limited" || w.percent >= 100
}

/** The window that blocks, in the gateway's check order, or undefined. Windows already reset are ignored. */
export function blocking<W extends Pick<GoWindow, "name" | "status" | "percent" | "resetsAt">>(windows: readonly W[], now: number): W | undefined {
  for (const name of CHECK_ORDER) {
    const w = windows.find((x) => x.name === name)
    if (w && isBlocked(w) && Date.parse(w.resetsAt) > now) return w
  }
  return undefined
}

/**
 * One window period, as a name part: its reset rounded to the hour. The usage API gives the reset
 * either as a time or as seconds from now (a second of jitter); periods are hours apart, so the
 * rounded reset names the same period in every process that reads it.
 */
export function periodKey(resetsAt: string | number): string {
  const ms = typeof resetsAt === "number" ? resetsAt : Date.parse(resetsAt)
  const hour = Math.round(ms / HOUR_MS) * HOUR_MS
  return new Date(hour).toISOString().slice(0, 13).replace(/[-T]/g, "")
}

export interface Pace {
  /** When the window would be used up at the pace so far; null when it would last until its reset. */
  runsOutAt: number | null
  /** How long before the reset it would run out (ms), when it would. */
  beforeResetMs: number | null
  /** Percent used by the reset at this pace (capped at 100). */
  atResetPercent: number
}

/**
 * The pace so far, extrapolated: percent used over the time since the window opened (its reset
 * minus its length). Null when nothing is used yet, the window is spent, or too little of it has
 * passed (under 5 %) for a pace to mean anything.
 */
export function pace(w: Pick<GoWindow, "name" | "percent" | "resetsAt">, now: number): Pace | null {
  const reset = Date.parse(w.resetsAt)
  const length = LENGTH_MS[w.name]
  if (!Number.isFinite(reset) || w.percent <= 0 || w.percent >= 100 || reset <= now) return null
  const elapsed = now - (reset - length)
  if (elapsed < length * 0.05 || elapsed <= 0) return null
  const perMs = w.percent / elapsed
  const runsOutAt = now + (100 - w.percent) / perMs
  const atResetPercent = Math.min(100, w.percent + perMs * (reset - now))
  if (runsOutAt >= reset) return { runsOutAt: null, beforeResetMs: null, atResetPercent: Math.round(atResetPercent) }
  return { runsOutAt: Math.round(runsOutAt), beforeResetMs: Math.round(reset - runsOutAt), atResetPercent: 100 }
}
