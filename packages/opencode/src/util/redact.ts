import { bounded } from "./scrub"

/**
 * The shape of a user's config for a support bundle, built from an allow-list: object keys,
 * booleans, numbers and null stay, and a string stays only where the field is known to be harmless
 * (the package, display names, the models chosen, a base URL cut to scheme, host and path). Every
 * other string, array elements included, becomes "<redacted>", whatever its key is called: a
 * deny-list of "secret-looking" names misses `accessKeyId`, `clientCredential`, `privateKey` or a
 * token in an MCP command line, and a missed name is a leaked credential. Structure is what support
 * needs: which providers, which options are set, which base URLs.
 */

export const REDACTED = "<redacted>"

const MAX_DEPTH = 24
const MAX_ENTRIES = 500

type Keep = "text" | "url"
// Fields whose string value is harmless, by path; "*" is any object key (never an array element).
const KEEP: [path: string[], keep: Keep][] = [
  [["$schema"], "url"],
  [["model"], "text"],
  [["small_model"], "text"],
  [["provider", "*", "npm"], "text"],
  [["provider", "*", "name"], "text"],
  [["provider", "*", "options", "baseURL"], "url"],
  [["provider", "*", "models", "*", "name"], "text"],
]
// `type` anywhere (mcp "local"/"remote", auth kinds): kept only when it is a short plain identifier.
const IDENT = /^[A-Za-z][A-Za-z0-9_.-]{0,23}$/
// `"apiKey": "{env:MY_KEY}"` names where the key comes from, never the key: the bundle reads the raw
// file, so the reference was never substituted.
const ENV_REFERENCE = /^\{env:[A-Za-z_][A-Za-z0-9_]{0,127}\}$/

export function redact(value: unknown): unknown {
  return walk(value, [], 0)
}

// `path` holds object keys; an array element is `null`, so no allow-listed path runs through arrays.
function walk(value: unknown, path: (string | null)[], depth: number): unknown {
  if (depth > MAX_DEPTH) return "<too deep>"
  if (typeof value === "string") return keep(value, path)
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value
  if (Array.isArray(value)) return value.slice(0, MAX_ENTRIES).map((v) => walk(v, [...path, null], depth + 1))
  if (typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value).slice(0, MAX_ENTRIES)) out[bounded(k, 128)] = walk(v, [...path, k], depth + 1)
    return out
  }
  return undefined
}

function keep(value: string, path: (string | null)[]): string {
  if (ENV_REFERENCE.test(value)) return value
  const rule = KEEP.find(([pattern]) => pattern.length === path.length && pattern.every((p, i) => path[i] !== null && (p === "*" || p === path[i])))
  if (rule) return rule[1] === "url" ? webURL(value) : bounded(value, 200) || REDACTED
  if (path.at(-1) === "type" && IDENT.test(value)) return value
  return REDACTED
}

// An allow-listed URL field holding something other than an http(s) URL is not what it claims to be.
function webURL(raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return REDACTED
  }
  return url.protocol === "http:" || url.protocol === "https:" ? safeURL(raw) : REDACTED
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
