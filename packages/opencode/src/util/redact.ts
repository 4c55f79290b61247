import { bounded } from "./scrub"

/**
 * The shape of a user's config with every secret taken out, for a support bundle: values under
 * credential-like keys and all header values become "<redacted>", URLs lose userinfo and query,
 * every other string is scrubbed and bounded. Header names and the rest of the structure stay,
 * because "which providers, which base URLs, which options" is what support needs to see.
 */

export const REDACTED = "<redacted>"

// Property names whose values are credentials, whatever their shape.
const SECRET_KEY = /^(api[-_]?key|key|token|secret|password|passwd|authorization|cookie|credentials?|auth)$|(api[-_]?key|secret|password|token)$/i
const URL_KEY = /url$/i
const MAX_DEPTH = 24
const MAX_ENTRIES = 500

export function redact(value: unknown, key = "", depth = 0): unknown {
  if (depth > MAX_DEPTH) return "<too deep>"
  if (SECRET_KEY.test(key) && value !== null && value !== undefined) return REDACTED
  if (/^headers$/i.test(key) && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const out: Record<string, string> = {}
    for (const name of Object.keys(value).slice(0, MAX_ENTRIES)) out[bounded(name, 128)] = REDACTED
    return out
  }
  if (typeof value === "string") return URL_KEY.test(key) ? safeURL(value) : bounded(value, 500)
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value
  if (Array.isArray(value)) return value.slice(0, MAX_ENTRIES).map((v) => redact(v, "", depth + 1))
  if (typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value).slice(0, MAX_ENTRIES)) out[bounded(k, 128)] = redact(v, k, depth + 1)
    return out
  }
  return undefined
}

/** Scheme, host, port and path: userinfo, query and fragment may hold credentials. */
export function safeURL(raw: string): string {
  try {
    const url = new URL(raw)
    return bounded(`${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, ""), 512)
  } catch {
    return bounded(raw.replace(/[?#].*$/s, "").replace(/\/\/[^/@]*@/, "//"), 512)
  }
}
