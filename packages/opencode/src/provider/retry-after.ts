import { scrub } from "../util/scrub"

/**
 * Reads how long a server asked the client to wait: `retry-after-ms` (what OpenCode's runtime also
 * accepts), else `retry-after` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Values a server
 * could not have meant (negative, not a number, further away than a year) are kept as raw text
 * but give no delay, so a broken header never turns into a week-long sleep or a crash.
 */

/** Anything further out than this is taken as garbage, not as an instruction. */
export const MAX_MEANINGFUL_MS = 366 * 24 * 60 * 60 * 1000

export interface RetryAfter {
  /** The header value as received (bounded), or null when neither header is present. */
  raw: string | null
  /** Milliseconds to wait from `now`; 0 for a date already past; null when unusable. */
  ms: number | null
}

const NUMBER = /^\d{1,16}(?:\.\d{1,9})?$/

export function parse(retryAfterMs: string | null, retryAfter: string | null, now: number): RetryAfter {
  const msValue = retryAfterMs?.trim() ?? ""
  if (msValue && NUMBER.test(msValue)) {
    const ms = usable(Number(msValue))
    if (ms !== null) return { raw: bound(msValue), ms }
  }
  const value = retryAfter?.trim() ?? ""
  if (value) {
    if (NUMBER.test(value)) return { raw: bound(value), ms: usable(Number(value) * 1000) }
    // Only something with letters can be an HTTP-date; Date.parse alone accepts bare numbers too.
    if (value.length <= 64 && /[A-Za-z]/.test(value)) {
      const at = Date.parse(value)
      if (Number.isFinite(at)) return { raw: bound(value), ms: usable(Math.max(0, at - now)) }
    }
    return { raw: bound(value), ms: null }
  }
  return { raw: msValue ? bound(msValue) : null, ms: null }
}

function usable(ms: number): number | null {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MEANINGFUL_MS) return null
  return Math.ceil(ms)
}

function bound(value: string) {
  // Header values are printed in support output: keep them short and printable.
  const printable = scrub(value.slice(0, 256)).replace(/[^\x20-\x7e]/g, "?")
  return printable.length > 64 ? printable.slice(0, 63) + "…" : printable
}
