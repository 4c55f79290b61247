import * as ErrorMessage from "../provider/error-message"
import type { WindowName } from "./meters"
import { LABEL, type Pace } from "./windows"

/** Every sentence the quota warnings and `status` say, in one place. */

/** "Thu 14:00" in the user's time zone (TZ), as the reset times elsewhere are shown. */
export function clock(ms: number): string {
  const tz = process.env.TZ
  if (!format || format.tz !== tz)
    format = { tz, f: new Intl.DateTimeFormat("en-GB", { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) }
  return format.f.format(ms)
}
let format: { tz: string | undefined; f: Intl.DateTimeFormat } | undefined

/** "2 d 3 h", "45 min": a duration without the "in". */
export function duration(ms: number): string {
  return ErrorMessage.relative(Math.max(ms, 1)).replace(/^in /, "")
}

/** "at 01:00 Sun (your time), in 13 h 57 min" */
export const when = ErrorMessage.when

export function thresholdWarning(window: WindowName, percent: number, threshold: number, resetsAt: string, now: number): string {
  return `OpenCode Go: your ${LABEL[window]} window is at ${percent} % (past ${threshold} %); it resets ${when(resetsAt, now)}.`
}

export function blockedWarning(window: WindowName, resetsAt: string, now: number): string {
  return `OpenCode Go: your ${LABEL[window]} window is used up; Go models are refused until it resets ${when(resetsAt, now)}.`
}

export function restoredNotice(window: WindowName): string {
  return `OpenCode Go: your ${LABEL[window]} window has reset; Go models can be used again.`
}

export function paceLine(window: WindowName, p: Pace): string {
  if (p.runsOutAt === null || p.beforeResetMs === null) return `at this rate the ${LABEL[window]} window lasts until its reset (about ${p.atResetPercent} % used by then)`
  return `at this rate the ${LABEL[window]} window runs out ${clock(p.runsOutAt)}, ${duration(p.beforeResetMs)} before its reset`
}

export const FREE_ALLOWANCE =
  "OpenCode does not publish the free allowance. It is counted per network (client IP address) per UTC day and shared by every install on the same network, VPN exit or carrier NAT, so this install's count is only part of what the gateway counts."
