/**
 * Which cookies of a pasted jar go where. A browser's Cookie header holds every cookie of the site
 * (analytics, preferences, other sessions); only the session each page needs is sent, so nothing
 * else of the user's leaves this machine: the console's session to the console API, the old `auth`
 * session only to the legacy billing page.
 */
import { normaliseCookie } from "../zen.ts"

/** The console's session: `__Host-console_session` over https, `console_session` on plain http. */
export const CONSOLE_COOKIES = ["__Host-console_session", "console_session"] as const
/** The old dashboard's session, which only the legacy billing page still takes. */
export const LEGACY_COOKIE = "auth"

/**
 * name=value pairs of a Cookie header (a leading `Cookie:` tolerated), in order, names as given.
 * A line break separates cookies too: a file with one cookie per line is a natural way to keep both
 * sessions, and no cookie value can hold one.
 */
export function cookiePairs(raw: string): [string, string][] {
  const out: [string, string][] = []
  for (const part of normaliseCookie(raw).split(/[;\r\n]/)) {
    const eq = part.indexOf("=")
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (name && value) out.push([name, value])
  }
  return out
}

/** A Cookie header with only the named cookies, or undefined when the jar has none of them. */
export function pickCookies(raw: string, names: readonly string[]): string | undefined {
  const kept = cookiePairs(raw).filter(([name]) => names.includes(name))
  return kept.length === 0 ? undefined : kept.map(([n, v]) => `${n}=${v}`).join("; ")
}

export interface SessionCookies {
  /** For /console/api/…: the console session cookie(s) only. */
  console: string | undefined
  /** For /workspace/<id>/billing: the `auth` cookie only. */
  legacy: string | undefined
}

export function sessionCookies(raw: string): SessionCookies {
  // A bare value with no name is taken as the console session: it is what the README tells users to copy.
  const header = normaliseCookie(raw)
  if (header && !header.includes("=")) return { console: `${CONSOLE_COOKIES[0]}=${header}`, legacy: undefined }
  return { console: pickCookies(raw, CONSOLE_COOKIES), legacy: pickCookies(raw, [LEGACY_COOKIE]) }
}
