import { SecretSet } from "@pawwork/secrets"

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
  /** Console: no or expired session, or a rejected key (401 Unauthorized). */
  | "session_expired"
  /** Console: an org must be chosen (400 OrgRequired, or the account has several). */
  | "org_required"
  /** Console: the org is unknown to this account (404 NotFound, or not in the account's list). */
  | "org_not_found"
  /** Console: the org requires single sign-on (403 SsoRequired). */
  | "sso_required"
  /** Console: signed in but not allowed, e.g. not an admin of the org (403 Forbidden). */
  | "forbidden"
  /** The legacy billing page redirected to the new console: the workspace has migrated. */
  | "console_moved"

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
  "session_expired",
  "org_required",
  "org_not_found",
  "sso_required",
  "forbidden",
  "console_moved",
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

// Pattern rules catch secrets we were not told about (for example a server echoing a header back).
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/(\bbearer\s+)[^\s"'<>,;]+/gi, `$1${REDACTED}`],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/(\b(?:auth|session|sid|token|key|api[_-]?key|cookie|__Secure-[\w-]+|__Host-[\w-]+)\s*[=:]\s*)[^\s;&"'<>,]{6,}/gi, `$1${REDACTED}`],
  // Long opaque runs (sealed sessions, JWT parts). Excludes "/" so URL paths and workspace ids survive.
  [/[A-Za-z0-9+_\-.=%~]{40,}/g, REDACTED],
]

/**
 * Remove every trace of the known secrets from `text` (in any shape an echo takes, and any 8
 * characters of one: see @pawwork/secrets), then anything shaped like a credential. Give a cookie
 * header as its values (`cookieSecrets`): its names are not secret.
 */
export function scrub(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = SecretSet.of(secrets).remove(text, REDACTED)
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement)
  return out
}

/**
 * The secret values of a Cookie header (a leading `Cookie:` tolerated; `;` or line breaks between
 * cookies): each cookie's value, or the part itself when it has no `=`. A server that echoes one
 * cookie, or a piece of one, is caught.
 */
export function cookieSecrets(raw: string): string[] {
  const header = raw.trim().replace(/^cookie\s*:\s*/i, "")
  // Line breaks separate cookies as `;` does (a file with one cookie per line, see console/cookies.ts).
  return header.split(/[;\r\n]/).map((part) => part.slice(part.indexOf("=") + 1).trim())
}
