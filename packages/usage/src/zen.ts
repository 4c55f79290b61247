/**
 * Zen billing, read from the workspace billing page with the dashboard
 * session cookie. EXPERIMENTAL: the page is not an API and can change.
 */
import { type ZenBilling, billingFromHydration } from "./billing.ts"
import { UsageError, cookieSecrets } from "./errors.ts"
import { parseHydrationHtmlLazy } from "./hydration/index.ts"
import { DEFAULT_TIMEOUT_MS, type FetchLike, bodyExcerpt, isRedirect, locationOf, readBody, safeURL, send, trimBase } from "./http.ts"

export const DEFAULT_ZEN_BASE_URL = "https://opencode.ai"

/** `wrk_` + 26 Crockford base32 characters (case-insensitive, as URLs may be). */
export const WORKSPACE_ID = /^wrk_[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/
const WORKSPACE_IN_PATH = /\/workspace\/(wrk_[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26})(?![0-9A-Za-z])/
const MAX_REDIRECTS = 5
/**
 * A dashboard page, read over HTTP or from a saved file (`usage zen --html-file`): real ones are
 * well under 1 MiB; the parser is tested on 20 MB of noise.
 */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024

export interface FetchZenBillingOptions {
  baseURL?: string
  /** The browser's Cookie header value (a leading `Cookie:` is tolerated). */
  cookie: string
  /** Skips discovery of the last-used workspace when given. */
  workspaceID?: string
  fetch?: FetchLike
  timeoutMs?: number
  now?: number
}

export function normaliseCookie(raw: string): string {
  return raw.trim().replace(/^cookie\s*:\s*/i, "").trim()
}

export async function fetchZenBilling(options: FetchZenBillingOptions): Promise<ZenBilling> {
  const cookie = normaliseCookie(options.cookie ?? "")
  const secrets = cookieSecrets(cookie)
  if (!cookie) throw new UsageError("cookie_expired", "no session cookie given; copy the Cookie header of a signed-in opencode.ai tab")
  if (/[\r\n\0]/.test(cookie)) throw new UsageError("cookie_expired", "the cookie is malformed (it contains line breaks); save only the header value", { secrets })
  const ctx: Ctx = {
    base: trimBase(options.baseURL ?? DEFAULT_ZEN_BASE_URL),
    cookie,
    secrets,
    fetch: options.fetch ?? fetch,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  }
  if (options.workspaceID !== undefined && !WORKSPACE_ID.test(options.workspaceID)) {
    throw new UsageError("workspace_not_found", `"${options.workspaceID.slice(0, 40)}" is not a workspace id (expected wrk_ followed by 26 characters)`, { secrets })
  }
  const workspaceID = options.workspaceID ?? (await discoverWorkspace(ctx))
  const html = await getBillingPage(ctx, workspaceID)
  return parseBillingPage(html, workspaceID, options.now, true)
}

/** Parse a saved billing page (offline, for drift reports and tests). */
export function parseBillingHtml(html: string, workspaceID?: string, options: { now?: number } = {}): ZenBilling {
  return parseBillingPage(html, workspaceID, options.now, false)
}

function parseBillingPage(html: string, workspaceID: string | undefined, now: number | undefined, live: boolean): ZenBilling {
  const hydration = parseHydrationHtmlLazy(html)
  try {
    return billingFromHydration(hydration, { workspaceID, now })
  } catch (e) {
    // A login page is well-formed but has no billing: say so instead of "not admin".
    if (e instanceof UsageError && (e.code === "not_admin" || (e.code === "parse_failed" && !hydration.hydrationFound)) && looksLikeLogin(html)) {
      throw new UsageError(
        "cookie_expired",
        live ? "the server sent the sign-in page instead of billing: the cookie is expired, signed out, or for another account" : "the saved page is the sign-in page, not the billing page",
      )
    }
    throw e
  }
}

function looksLikeLogin(html: string): boolean {
  // Bounded repetitions keep this linear on hostile pages.
  return /\/auth\/authorize|\/auth\/login|<form[^>]{0,300}?(?:login|sign-?in)|http-equiv=["']?refresh[^>]{0,300}?\/auth/i.test(html)
}

interface Ctx {
  base: string
  cookie: string
  secrets: (string | undefined)[]
  fetch: FetchLike
  timeoutMs: number
}

function get(ctx: Ctx, url: string): Promise<Response> {
  return send(
    ctx.fetch,
    url,
    {
      method: "GET",
      redirect: "manual",
      headers: { cookie: ctx.cookie, accept: "text/html,application/xhtml+xml", "user-agent": "pawwork-usage (experimental)" },
    },
    ctx.secrets,
    ctx.timeoutMs,
  )
}

function isAuthLocation(u: URL): boolean {
  return /^\/auth(?:\/|$)|\/login\b|\/sign-?in\b/i.test(u.pathname)
}

/** The dashboard sends a signed-in account on to its last-seen workspace. */
async function discoverWorkspace(ctx: Ctx): Promise<string> {
  const origin = new URL(ctx.base).origin
  let url = `${ctx.base}/workspace`
  let triedRoot = false
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await get(ctx, url)
    if (isRedirect(res.status)) {
      const loc = locationOf(res, url)
      await res.body?.cancel()
      if (!loc) throw new UsageError("http_error", `${res.status} redirect without a Location from ${safeURL(url)}`, { status: res.status, secrets: ctx.secrets })
      if (isConsoleLocation(loc)) throw consoleMoved(safeURL(url), loc)
      if (isAuthLocation(loc)) throw cookieExpired(`redirected to ${loc.pathname}`)
      const id = WORKSPACE_IN_PATH.exec(loc.pathname)?.[1]
      if (id) return id
      // Never carry the session cookie to another site.
      if (loc.origin !== origin) throw new UsageError("http_error", `redirected off-site to ${loc.origin} while looking for the workspace`, { status: res.status, secrets: ctx.secrets })
      url = loc.toString()
      continue
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel()
      throw cookieExpired(`the dashboard answered ${res.status}`)
    }
    if (res.status === 404 && !triedRoot) {
      await res.body?.cancel()
      triedRoot = true
      url = `${ctx.base}/`
      continue
    }
    if (res.status === 200) {
      const html = await readBody(res, MAX_PAGE_BYTES, "the dashboard page", url, ctx.secrets)
      const id = WORKSPACE_IN_PATH.exec(res.url ? new URL(res.url, url).pathname : "")?.[1] ?? WORKSPACE_IN_PATH.exec(html)?.[1]
      if (id) return id
      if (looksLikeLogin(html)) throw cookieExpired("the dashboard showed the sign-in page")
      throw new UsageError("parse_failed", "could not find a workspace id in the dashboard; pass --workspace wrk_...", { secrets: ctx.secrets })
    }
    throw new UsageError("http_error", `${res.status} from ${safeURL(url)}: ${await bodyExcerpt(res, ctx.secrets)}`, { status: res.status, secrets: ctx.secrets })
  }
  throw new UsageError("http_error", `too many redirects while looking for the workspace (last: ${safeURL(url)})`, { secrets: ctx.secrets })
}

async function getBillingPage(ctx: Ctx, workspaceID: string): Promise<string> {
  const url = `${ctx.base}/workspace/${workspaceID}/billing`
  const res = await get(ctx, url)
  if (isRedirect(res.status)) {
    const loc = locationOf(res, url)
    await res.body?.cancel()
    if (loc && isConsoleLocation(loc)) throw consoleMoved(safeURL(url), loc)
    if (!loc || isAuthLocation(loc)) throw cookieExpired(`the billing page redirected to ${loc?.pathname ?? "(no location)"}`)
    throw new UsageError("http_error", `${res.status} redirect from the billing page to ${safeURL(loc.toString())}`, { status: res.status, secrets: ctx.secrets })
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel()
    throw cookieExpired(`the billing page answered ${res.status}`)
  }
  if (res.status === 404) {
    await res.body?.cancel()
    throw new UsageError("workspace_not_found", `workspace ${workspaceID} was not found (404)`, { status: 404, secrets: ctx.secrets })
  }
  if (res.status !== 200) {
    throw new UsageError("http_error", `${res.status} from ${safeURL(url)}: ${await bodyExcerpt(res, ctx.secrets)}`, { status: res.status, secrets: ctx.secrets })
  }
  return readBody(res, MAX_PAGE_BYTES, "the billing page", url, ctx.secrets)
}

/**
 * Since 2026-09-20 the old dashboard sends every workspace without a Black subscription to the new
 * console's sign-in (console-api-2026.md): the workspace moved, whatever the cookie.
 */
function isConsoleLocation(u: URL): boolean {
  return /^\/console(?:\/|$)/.test(u.pathname)
}

function consoleMoved(from: string, to: URL): UsageError {
  return new UsageError("console_moved", `the legacy billing page ${from} redirected to ${to.pathname}: this workspace has moved to the new console`)
}

function cookieExpired(detail: string): UsageError {
  return new UsageError("cookie_expired", `session cookie rejected (${detail}): it is expired, signed out, or for another account; copy a fresh Cookie header`)
}

