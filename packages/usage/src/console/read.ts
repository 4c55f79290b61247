/**
 * `usage zen` as OpenCode's dashboard is since 2026-09-20: the console API first (org, balance, Go
 * meters, 30-day spend), and the legacy billing page only where it still applies (workspaces with
 * a Black subscription, reached with the old `auth` cookie). One answer, each part naming its source.
 */
import type { ZenBilling } from "../billing.ts"
import { UsageError, cookieSecrets } from "../errors.ts"
import { DEFAULT_TIMEOUT_MS, type FetchLike, UNSENDABLE, trimBase } from "../http.ts"
import { WORKSPACE_ID, fetchZenBilling } from "../zen.ts"
import { type ConsoleContext, getConsoleJson } from "./client.ts"
import { sessionCookies } from "./cookies.ts"
import {
  type BillingStatus,
  type GoStatus,
  type Org,
  type UsageSummary,
  parseBillingStatus,
  parseCurrentOrg,
  parseGoStatus,
  parseOrgs,
  parseUsageSummary,
} from "./payloads.ts"

export const CONSOLE_PATHS = {
  orgs: "/console/api/orgs",
  currentOrg: "/console/api/orgs/current",
  billing: "/console/api/billing/status",
  go: "/console/api/go/status",
  summary: "/console/api/usage/summary?range=30d",
} as const

export interface ReadZenUsageOptions {
  baseURL: string
  /** A pasted Cookie header (or a bare console session value); only the sessions are sent. */
  cookie?: string
  /** A console service-account key (`oc_sk_…`), sent as Bearer instead of a cookie. */
  apiKey?: string
  /** `org_…` or `wrk_…`: skips discovery. */
  org?: string
  fetch?: FetchLike
  timeoutMs?: number
  now?: number
}

export interface LegacyPart {
  source: string
  billing: ZenBilling
}

export interface ZenUsage {
  org: (Org & { source: string }) | null
  balance: (BillingStatus & { source: string }) | null
  /** `subscribed: false` is an answer (no Go subscription), not a failure. */
  go: ({ subscribed: true; source: string } & GoStatus) | { subscribed: false; source: string } | null
  spend30d: (UsageSummary & { source: string }) | null
  legacy: LegacyPart | null
  /** What was not read and why, in words (no Go subscription, legacy page not served, …). */
  notes: string[]
}

export async function readZenUsage(options: ReadZenUsageOptions): Promise<ZenUsage> {
  const base = trimBase(options.baseURL)
  const apiKey = options.apiKey?.trim()
  const raw = options.cookie ?? ""
  const secrets = [...cookieSecrets(raw), options.apiKey, apiKey]
  const fetchImpl = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const cookies = apiKey ? { console: undefined, legacy: undefined } : sessionCookies(raw)
  // Said here, before any request, rather than as the HTTP client's "invalid header value" (network)
  // or the server's 400 (http_error), neither of which says what to fix.
  if ([cookies.console, cookies.legacy].some((c) => c !== undefined && UNSENDABLE.test(c))) {
    throw new UsageError(
      "bad_args",
      "a session cookie contains a control or invisible character (an escape, a NUL, a zero-width space), or one past Latin-1 (a curly quote, a dash), that no HTTP request can carry: copy the cookie's value again, and keep only name=value pairs separated by `; ` or line breaks",
      { secrets },
    )
  }

  if (!apiKey && !cookies.console) {
    if (cookies.legacy) return legacyOnly(base, cookies.legacy, options, secrets)
    throw new UsageError(
      "session_expired",
      "no console session in the given cookies: copy the __Host-console_session cookie of a signed-in opencode.ai tab (developer tools → Application/Storage → Cookies), or use a service-account key with --api-key-env",
      { secrets },
    )
  }
  const ctx: ConsoleContext = {
    base,
    auth: apiKey ? { kind: "bearer", token: apiKey } : { kind: "cookie", header: cookies.console ?? "" },
    secrets,
    fetch: fetchImpl,
    timeoutMs,
  }
  const org = await chooseOrg(ctx, options.org)
  const orgID = org.id
  const [billing, go, summary] = await Promise.allSettled([
    getConsoleJson(ctx, CONSOLE_PATHS.billing, orgID).then(drifted(parseBillingStatus, secrets)),
    getConsoleJson(ctx, CONSOLE_PATHS.go, orgID).then(drifted(parseGoStatus, secrets)),
    getConsoleJson(ctx, CONSOLE_PATHS.summary, orgID).then(drifted(parseUsageSummary, secrets)),
  ])
  // All three or nothing: a half-read answer could pass for a whole one. The first failure, in the
  // order a person reads the answer, is the one reported.
  for (const r of [billing, go, summary]) if (r.status === "rejected") throw r.reason
  const value = <T>(r: PromiseSettledResult<T>): T => (r as PromiseFulfilledResult<T>).value
  const goStatus = value(go)
  const notes: string[] = []
  if (!goStatus) notes.push("No OpenCode Go subscription in this org: no Go meters to show.")
  const answer: ZenUsage = {
    org: { ...org, source: org.source },
    balance: { ...value(billing), source: CONSOLE_PATHS.billing },
    go: goStatus ? { subscribed: true, source: CONSOLE_PATHS.go, ...goStatus } : { subscribed: false, source: CONSOLE_PATHS.go },
    spend30d: { ...value(summary), source: CONSOLE_PATHS.summary },
    legacy: null,
    notes,
  }
  const legacyID = WORKSPACE_ID.test(orgID) ? orgID : undefined
  if (cookies.legacy && !legacyID) {
    // The old dashboard's last-used workspace could be another org's: never merge it under this one.
    notes.push(`The legacy billing page (for Black windows) is addressed by a wrk_ workspace id, and org ${orgID} is not one: pass --workspace wrk_… to read it too.`)
  } else if (cookies.legacy) {
    try {
      answer.legacy = await readLegacy(base, cookies.legacy, legacyID, options, secrets)
    } catch (e) {
      if (!(e instanceof UsageError)) throw e
      // The console answered; the legacy page only adds Black figures, so its refusal is a note.
      notes.push(
        e.code === "console_moved"
          ? "The legacy billing page is not served for this workspace (it has moved to the console), so there are no Black windows to add."
          : `The legacy billing page (for Black windows) could not be read [${e.code}]: ${e.message}`,
      )
    }
  } else if (!apiKey) {
    notes.push("Black windows come only from the legacy billing page, which needs the old `auth` cookie; it was not in the given cookies, so it was not read.")
  }
  return answer
}

/** A console body that drifted: the parser names the field; this adds what that means and what to do. */
function drifted<T>(parse: (body: unknown) => T, secrets: readonly (string | undefined)[]): (body: unknown) => T {
  return (body) => {
    try {
      return parse(body)
    } catch (e) {
      if (!(e instanceof UsageError) || e.code !== "parse_failed") throw e
      throw new UsageError(
        "parse_failed",
        `${e.message}. The console API changed, so nothing is shown rather than a wrong figure: report it with this message (packages/usage/README.md, "Reporting parser drift")`,
        { secrets },
      )
    }
  }
}

/** The org to read: the one given, else the account's only one (a key's own org). */
async function chooseOrg(ctx: ConsoleContext, given: string | undefined): Promise<Org & { source: string }> {
  if (given !== undefined) return { id: given, name: null, source: "--org" }
  if (ctx.auth.kind === "bearer") {
    // A service-account key belongs to one org, which the console reports without x-org-id.
    const current = drifted(parseCurrentOrg, ctx.secrets)(await getConsoleJson(ctx, CONSOLE_PATHS.currentOrg))
    return { id: current.id, name: current.name, source: CONSOLE_PATHS.currentOrg }
  }
  const orgs = drifted(parseOrgs, ctx.secrets)(await getConsoleJson(ctx, CONSOLE_PATHS.orgs))
  const only = orgs[0]
  if (orgs.length === 1 && only) return { ...only, source: CONSOLE_PATHS.orgs }
  if (orgs.length === 0) {
    throw new UsageError("org_not_found", "the console lists no org for this account: sign in with the account that owns the workspace, or pass --org <org_…>", { secrets: ctx.secrets })
  }
  const listed = orgs
    .slice(0, 10)
    .map((o) => (o.name ? `${o.id} (${o.name})` : o.id))
    .join(", ")
  throw new UsageError("org_required", `this account belongs to ${orgs.length} orgs: pass --org with one of ${listed}${orgs.length > 10 ? ", …" : ""}`, { secrets: ctx.secrets })
}

async function readLegacy(base: string, cookie: string, workspaceID: string | undefined, options: ReadZenUsageOptions, secrets: (string | undefined)[]): Promise<LegacyPart> {
  try {
    const billing = await fetchZenBilling({ baseURL: base, cookie, workspaceID, fetch: options.fetch, timeoutMs: options.timeoutMs, now: options.now })
    return { source: `/workspace/${billing.workspaceID}/billing`, billing }
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(e.code, e.message, { status: e.status, secrets })
    throw e
  }
}

/** Only the old `auth` cookie was given: the legacy page is the one source that can take it. */
async function legacyOnly(base: string, cookie: string, options: ReadZenUsageOptions, secrets: (string | undefined)[]): Promise<ZenUsage> {
  const org = options.org
  const workspaceID = org !== undefined && WORKSPACE_ID.test(org) ? org : undefined
  if (org !== undefined && workspaceID === undefined) {
    throw new UsageError("bad_args", `the legacy billing page takes a wrk_ workspace id, not ${org}; with an org_ id, give the console session cookie (__Host-console_session) instead of the old auth cookie`, { secrets })
  }
  try {
    const legacy = await readLegacy(base, cookie, workspaceID, options, secrets)
    return {
      org: null,
      balance: null,
      go: null,
      spend30d: null,
      legacy,
      notes: ["Read from the legacy billing page only (the old `auth` cookie): the console's balance, Go meters and 30-day spend need the __Host-console_session cookie."],
    }
  } catch (e) {
    if (e instanceof UsageError && e.code === "console_moved") {
      throw new UsageError(
        "console_moved",
        `${e.message}. The old \`auth\` cookie cannot read the new console: copy the __Host-console_session cookie of a signed-in opencode.ai tab (developer tools → Application/Storage → Cookies) into a file and run \`bun run cli usage zen --cookie-file <file>\`, or use a service-account key with \`--api-key-env <VAR>\``,
        { status: e.status, secrets },
      )
    }
    throw e
  }
}
