/**
 * GET a console API endpoint (`/console/api/…`) and map its answer: the JSON body, or a UsageError
 * whose code says what happened and what to do. The console API is internal and undocumented
 * (console-api-2026.md); errors are `{"_tag": …}` bodies, read by tag first, status second.
 */
import { UsageError } from "../errors.ts"
import { type FetchLike, excerptOf, isRedirect, locationOf, readBounded, safeURL, send } from "../http.ts"

/** Console bodies are small JSON; an org list of a large account stays far below this. */
const MAX_BODY_BYTES = 1024 * 1024

export type ConsoleAuth = { kind: "cookie"; header: string } | { kind: "bearer"; token: string }

export interface ConsoleContext {
  /** Origin (and optional base path) of the console, no trailing slash. */
  base: string
  auth: ConsoleAuth
  secrets: readonly (string | undefined)[]
  fetch: FetchLike
  timeoutMs: number
}

export async function getConsoleJson(ctx: ConsoleContext, path: string, orgID?: string): Promise<unknown> {
  const url = `${ctx.base}${path}`
  const headers: Record<string, string> = { accept: "application/json", "user-agent": "pawwork-usage (experimental)" }
  if (ctx.auth.kind === "cookie") headers.cookie = ctx.auth.header
  else headers.authorization = `Bearer ${ctx.auth.token}`
  if (orgID !== undefined) headers["x-org-id"] = orgID
  const res = await send(ctx.fetch, url, { method: "GET", redirect: "manual", headers }, ctx.secrets, ctx.timeoutMs)
  const where = safeURL(url)
  if (isRedirect(res.status)) {
    const loc = locationOf(res, url)
    await res.body?.cancel().catch(() => {})
    // Never followed: the credential must not travel to wherever it points.
    if (loc && /\/login\b|\/auth(?:\/|$)|\/sign-?in\b/i.test(loc.pathname)) throw sessionExpired(ctx, `${where} redirected to ${loc.pathname}`)
    throw new UsageError("http_error", `${where} answered ${res.status}, a redirect to ${loc ? safeURL(loc.toString()) : "nowhere"}; the console API has moved or --base-url is wrong`, { status: res.status, secrets: ctx.secrets })
  }
  let read: { text: string; truncated: boolean }
  try {
    read = await readBounded(res, MAX_BODY_BYTES)
  } catch (e) {
    // The deadline covers the body too: a server that sends headers and then stalls is cut off here.
    const why = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? `timed out after ${ctx.timeoutMs < 1000 ? `${ctx.timeoutMs} ms` : `${Math.round(ctx.timeoutMs / 1000)} s`}` : "the connection broke"
    throw new UsageError("network", `reading the answer of ${where} failed (${res.status}): ${why}; check connectivity or --base-url`, { status: res.status, secrets: ctx.secrets, cause: e })
  }
  if (read.truncated) throw new UsageError("parse_failed", `${where} answered ${res.status} with a body over ${MAX_BODY_BYTES / 1024} KiB; stopped reading it`, { status: res.status, secrets: ctx.secrets })
  let body: unknown
  let json = true
  try {
    body = JSON.parse(read.text)
  } catch {
    json = false
  }
  if (res.status >= 200 && res.status < 300) {
    if (!json) throw new UsageError("parse_failed", `${where} answered ${res.status} with a body that is not JSON (${excerptOf(read.text, ctx.secrets) || "empty"}); the console API changed, or --base-url is not the console`, { status: res.status, secrets: ctx.secrets })
    return body
  }
  throw consoleError(ctx, res.status, json ? body : undefined, read.text, where, orgID)
}

function tagOf(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined
  const tag = (body as Record<string, unknown>)._tag
  return typeof tag === "string" ? tag.slice(0, 60) : undefined
}

function messageOf(body: unknown): string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return ""
  const m = (body as Record<string, unknown>).message
  return typeof m === "string" ? m.slice(0, 200) : ""
}

function consoleError(ctx: ConsoleContext, status: number, body: unknown, text: string, where: string, orgID: string | undefined): UsageError {
  const tag = tagOf(body)
  const said = messageOf(body)
  const detail = `${status}${tag ? ` ${tag}` : ""}${said ? `: ${said}` : ""}`
  const opts = { status, secrets: ctx.secrets }
  if (tag === "Unauthorized" || (status === 401 && !tag)) return sessionExpired(ctx, `${where} answered ${detail}`)
  // A bare BadRequest is the other form reported for a missing x-org-id (console-api-2026.md); with
  // an org sent it is something else, left to http_error.
  if (tag === "OrgRequired" || (tag === "BadRequest" && orgID === undefined)) {
    return new UsageError("org_required", `the console needs to know which org to read (${detail}); pass --org <org_…> (bun run cli usage zen lists them when the account has several)`, opts)
  }
  if (tag === "SsoRequired") {
    return new UsageError("sso_required", `the org requires single sign-on (${detail}): sign in to opencode.ai through your company's SSO in the browser, then copy the new __Host-console_session cookie`, opts)
  }
  if (tag === "Forbidden" || (status === 403 && !tag)) {
    return new UsageError("forbidden", `the console refused this account (${detail}): its usage and billing are shown only to admins of the org; use an admin's session or a service-account key of the org`, opts)
  }
  // Only the console's own NotFound for a read that named an org is about the org: an untagged 404,
  // or one for the org list, is what a --base-url that is not the console's origin gets.
  if (tag === "NotFound" && orgID !== undefined) {
    return new UsageError("org_not_found", `org ${orgID} was not found for this account (${detail}); run without --org to use the account's org, or check the id`, opts)
  }
  const shown = said ? detail : `${detail}${excerptOf(text, ctx.secrets) ? `: ${excerptOf(text, ctx.secrets)}` : ""}`
  if (status === 404) {
    return new UsageError("http_error", `${where} answered ${shown}: there is no console API there; check --base-url (the site's origin, such as https://opencode.ai), or the console API has moved`, opts)
  }
  return new UsageError("http_error", `${where} answered ${shown}; retry later, and report it if it persists`, opts)
}

function sessionExpired(ctx: ConsoleContext, detail: string): UsageError {
  const what =
    ctx.auth.kind === "bearer"
      ? "the service-account key was rejected: check it is an OpenCode console key (oc_sk_…) that has not been revoked"
      : "the console session is missing or expired (an old `auth` cookie is refused too): sign in at opencode.ai, copy a fresh __Host-console_session cookie"
  return new UsageError("session_expired", `${what} (${detail})`, { secrets: ctx.secrets })
}
