/**
 * One error type for every failure the usage readers report. Callers switch on
 * `code`; messages are for humans and are always scrubbed of secrets.
 */
export type UsageErrorCode =
  /** Session cookie missing, malformed, expired or for another account. */
  | "cookie_expired"
  /** Signed in, page rendered, but it carries no billing data for the workspace. */
  | "not_admin"
  /** The server answered 404 for the workspace. */
  | "workspace_not_found"
  /** The page or response changed shape (or has no hydration data at all). */
  | "parse_failed"
  /** The page itself reported the query as failed (a rejected promise). */
  | "page_error"
  /** Unexpected HTTP status. */
  | "http_error"
  /** The request never got an HTTP answer (DNS, refused, reset, timeout). */
  | "network"
  /** Go usage: API key missing or rejected (401 AuthError). */
  | "auth"
  /** Go usage: the key's workspace has no Go subscription (403 EntitlementError). */
  | "not_subscribed"
  /** Command line misuse (unknown flag, missing value, unreadable input). */
  | "bad_args"

export const USAGE_ERROR_CODES: readonly UsageErrorCode[] = [
  "cookie_expired",
  "not_admin",
  "workspace_not_found",
  "parse_failed",
  "page_error",
  "http_error",
  "network",
  "auth",
  "not_subscribed",
  "bad_args",
]

export interface UsageErrorOptions {
  status?: number
  /** Values that must never appear in the message (cookie, API key). */
  secrets?: readonly (string | undefined)[]
  cause?: unknown
}

export class UsageError extends Error {
  override readonly name = "UsageError"
  readonly code: UsageErrorCode
  readonly status: number | undefined

  constructor(code: UsageErrorCode, message: string, options: UsageErrorOptions = {}) {
    super(scrub(message, options.secrets), options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = options.status
  }
}

export function isUsageError(e: unknown): e is UsageError {
  return e instanceof UsageError
}

const REDACTED = "[redacted]"
// Shorter "secrets" would shred ordinary words in messages; real cookie values and keys are long.
const MIN_SECRET_LENGTH = 6

// Pattern rules catch secrets we were not told about (for example a server echoing a header back).
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/(\bbearer\s+)[^\s"'<>,;]+/gi, `$1${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/(\b(?:auth|session|sid|token|key|api[_-]?key|cookie|__Secure-[\w-]+|__Host-[\w-]+)\s*[=:]\s*)[^\s;&"'<>,]{6,}/gi, `$1${REDACTED}`],
  // Long opaque runs (sealed sessions, JWT parts). Excludes "/" so URL paths and workspace ids survive.
  [/[A-Za-z0-9+_\-.=%~]{40,}/g, REDACTED],
]

/** Remove known secrets and anything shaped like a credential from `text`. */
export function scrub(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text
  const known = expandSecrets(secrets)
  for (const s of known) out = out.split(s).join(REDACTED)
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/** A cookie header is scrubbed whole and per value, so a server echoing one cookie is caught too. */
function expandSecrets(secrets: readonly (string | undefined)[]): string[] {
  const set = new Set<string>()
  for (const raw of secrets) {
    if (!raw) continue
    const s = raw.trim()
    if (s.length >= MIN_SECRET_LENGTH) set.add(s)
    for (const part of s.split(";")) {
      const p = part.trim()
      if (p.length >= MIN_SECRET_LENGTH) set.add(p)
      const eq = p.indexOf("=")
      if (eq >= 0) {
        const value = p.slice(eq + 1).trim()
        if (value.length >= MIN_SECRET_LENGTH) {
          set.add(value)
          // Servers and logs often show cookie values percent-decoded or encoded.
          try {
            set.add(decodeURIComponent(value))
          } catch {}
          set.add(encodeURIComponent(value))
        }
      }
    }
  }
  return [...set].sort((a, b) => b.length - a.length)
}
