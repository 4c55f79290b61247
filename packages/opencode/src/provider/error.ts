import { z } from "zod"
import { SecretSet } from "@pawwork/secrets"
import { bounded, scrub } from "../util/scrub"
import { DeadlineError, KIND as DEADLINE_KIND } from "./deadline-error"
import { type Facts, gather, headerReader, unwrapNested } from "./error-facts"
import { RELAY_HEADER } from "./relay-answer"
import * as ErrorMessage from "./error-message"
import * as RetryAfter from "./retry-after"

/**
 * One normalized record for any provider failure: an ai SDK APICallError, an error part of a
 * stream, a network failure, or a raw `{ status, headers, body }` pasted by a user. The facts are
 * gathered by error-facts.ts; this module decides the kind and origin. Facts only: whether and
 * when to retry is session/retry.ts's call, the words are error-message.ts's.
 *
 * The body's error type decides before the status code: the gateway's quota errors reach clients
 * as 400/401/403/429 through proxies, and Go's even as 200. Upstream messages are localised, so
 * text is consulted only when a provider sent neither a type nor a code that says more.
 */

export const KINDS = [
  "free_usage_limit",
  "go_usage_limit",
  "subscription_usage_limit",
  "rate_limit",
  "credits_exhausted",
  "spend_limit",
  "auth",
  "model_unavailable",
  "region_blocked",
  "free_tier_gated",
  "client_outdated",
  "model_access_denied",
  "data_policy_blocked",
  "relay_limit",
  "overloaded",
  "server_error",
  "network",
  "first_byte_timeout",
  "stream_stalled",
  "wait_budget_exhausted",
  "context_overflow",
  "request_too_large",
  "invalid_request",
  "unknown",
] as const
export const Kind = z.enum(KINDS)
export type Kind = z.infer<typeof Kind>

/**
 * Whose side a failure is on. `gateway`: the OpenCode gateway answered about this user's request
 * with one of its own error types (account, limits, plan, region, the free-tier client gate, an
 * outdated client). `upstream`: any other HTTP answer: the model provider behind the gateway
 * (`Error from provider (<Name>)`, or unprefixed as the gateway passes stream errors on), the
 * gateway's generic `Internal server error`, a proxy's page; for a custom provider, that provider
 * itself. `network`: no HTTP answer. `local`: the runtime decided (a cancel, a local deadline).
 */
export const ORIGINS = ["gateway", "upstream", "network", "local"] as const
export const Origin = z.enum(ORIGINS)
export type Origin = z.infer<typeof Origin>

export const QuotaScope = z.enum([
  "ip-daily",
  "key-minute",
  "workspace-5h",
  "workspace-weekly",
  "workspace-monthly",
  "balance",
  "spend-limit",
  // A PawWork relay's allowances (packages/relay): per install, per address, new installs per address, its budget, streams in flight.
  "relay-install",
  "relay-ip",
  "relay-new-install",
  "relay-budget",
  "relay-concurrency",
])
export type QuotaScope = z.infer<typeof QuotaScope>

const MESSAGE_MAX = 300

export const Info = z.strictObject({
  kind: Kind,
  /** Waiting a bounded time (at most BOUNDED_WAIT_MS) can make the same request succeed. */
  retryable: z.boolean(),
  action: z.enum(["retry", "stop"]),
  origin: Origin,
  /** HTTP status; null when no HTTP answer arrived (network) or it is unknown (stream error). */
  statusCode: z.number().int().min(100).max(599).nullable(),
  /** The body's `error.type` (gateway class name or provider type). */
  upstreamType: z.string().max(64).nullable(),
  /** The body's `error.code` (OpenAI-style), or the network error code. */
  upstreamCode: z.string().max(64).nullable(),
  /** The upstream model provider named by the gateway's `Error from provider (<name>)` prefix. */
  provider: z.string().max(64).nullable(),
  quotaScope: QuotaScope.nullable(),
  /** Go window name from the body's metadata: "5 hour", "weekly", "monthly". */
  limitName: z.string().max(32).nullable(),
  workspaceID: z.string().max(64).nullable(),
  retryAfterRaw: z.string().max(64).nullable(),
  retryAfterMs: z.number().int().min(0).nullable(),
  /**
   * The answer came from a PawWork relay (its `x-pawwork-relay` header). A gateway error it passed
   * through is then about the relay's own key and address, not this user's (RELAY_TYPES aside,
   * which are the relay's own refusals).
   */
  relayed: z.boolean(),
  /** When waiting stops helping to be needed: now + retry-after, as an ISO time. */
  resetAt: z.iso.datetime().nullable(),
  /** The upstream text, scrubbed of anything credential-shaped and bounded. */
  message: z.string().max(MESSAGE_MAX),
  /** What to tell the user (error-message.ts). */
  userMessage: z.string().min(1),
})
export type Info = z.infer<typeof Info>

/** Longest wait that still counts as "bounded": beyond it a transient error is not worth holding a turn open. */
export const BOUNDED_WAIT_MS = 60_000
export { MAX_SCAN_CHARS } from "./error-facts"

// A first-byte timeout is worth a fresh try (a hung connection or gateway node); how many is retry.ts's call.
const TRANSIENT = new Set<Kind>(["rate_limit", "overloaded", "server_error", "network", "first_byte_timeout"])

// The gateway's own error classes (research notes: "The limiters", gateway-drift section 4). Exact
// names, case-sensitive. Every one of them is origin `gateway`.
const GATEWAY: Record<string, { kind: Kind; scope?: QuotaScope }> = {
  FreeUsageLimitError: { kind: "free_usage_limit", scope: "ip-daily" },
  FreeTierError: { kind: "free_tier_gated" },
  GoUsageLimitError: { kind: "go_usage_limit" },
  BlackUsageLimitError: { kind: "subscription_usage_limit" },
  // The older name of BlackUsageLimitError; it carried no metadata.
  SubscriptionUsageLimitError: { kind: "subscription_usage_limit" },
  RateLimitError: { kind: "rate_limit", scope: "key-minute" },
  AuthError: { kind: "auth" },
  EntitlementError: { kind: "auth" },
  CreditsError: { kind: "credits_exhausted", scope: "balance" },
  MonthlyLimitError: { kind: "spend_limit", scope: "spend-limit" },
  UserLimitError: { kind: "spend_limit", scope: "spend-limit" },
  ModelError: { kind: "model_unavailable" },
  RegionError: { kind: "region_blocked" },
  ModelAccessError: { kind: "model_access_denied" },
  DataPolicyError: { kind: "data_policy_blocked" },
  // A PawWork relay's own refusals (packages/relay/src/refusal.ts): its daily allowances are spent
  // until 00:00 UTC; a full set of streams frees within seconds; its store being down is a short outage.
  InstallLimitError: { kind: "relay_limit", scope: "relay-install" },
  IpLimitError: { kind: "relay_limit", scope: "relay-ip" },
  NewInstallLimitError: { kind: "relay_limit", scope: "relay-new-install" },
  RelayBudgetError: { kind: "relay_limit", scope: "relay-budget" },
  ConcurrencyLimitError: { kind: "rate_limit", scope: "relay-concurrency" },
  RelayUnavailableError: { kind: "server_error" },
  RequestTooLargeError: { kind: "request_too_large" },
  BadRequestError: { kind: "invalid_request" },
  // The Go endpoint's answer to a request without `x-opencode-session` (third-party reports).
  MissingSessionID: { kind: "invalid_request" },
  NotFoundError: { kind: "invalid_request" },
}

// Passed-through provider types and codes (OpenAI, Anthropic, OpenRouter, ...) that say exactly
// what happened. Compared lower-case.
const SPECIFIC: Record<string, Kind> = {
  overloaded_error: "overloaded",
  overloaded: "overloaded",
  rate_limit_error: "rate_limit",
  rate_limit_exceeded: "rate_limit",
  rate_limit: "rate_limit",
  too_many_requests: "rate_limit",
  requests: "rate_limit",
  tokens: "rate_limit",
  context_length_exceeded: "context_overflow",
  context_window_exceeded: "context_overflow",
  // Anthropic's 413: the request's bytes, not its tokens.
  request_too_large: "request_too_large",
  insufficient_quota: "credits_exhausted",
  billing_hard_limit_reached: "credits_exhausted",
  authentication_error: "auth",
  invalid_api_key: "auth",
  permission_error: "auth",
  permission_denied: "auth",
  unauthorized: "auth",
  model_not_found: "model_unavailable",
  not_found_error: "model_unavailable",
}

// Types that only say "server side" or "client side": the status code or, failing that, the text
// may say more.
const GENERIC: Record<string, Kind> = {
  server_error: "server_error",
  api_error: "server_error",
  internal_error: "server_error",
  internal_server_error: "server_error",
  invalid_request_error: "invalid_request",
  invalid_request: "invalid_request",
  bad_request: "invalid_request",
}

const REFINABLE = new Set<Kind | null>([null, "invalid_request", "server_error", "unknown"])

/**
 * The record with every trace of the given secrets removed, in every text field: a backstop
 * behind classify's own removal, for records made without the secrets at hand.
 */
export function withoutSecrets(info: Info, secrets: SecretSet | readonly (string | undefined)[]): Info {
  const set = secrets instanceof SecretSet ? secrets : SecretSet.of(secrets)
  const out: Record<string, unknown> = { ...info }
  for (const [field, value] of Object.entries(out)) if (typeof value === "string") out[field] = set.remove(value)
  return out as Info
}

/** What the caller knows about the request: where its key came from, and the secret values it carried. */
export interface Context extends ErrorMessage.UserMessageContext {
  /**
   * The secret values the request carried (see Provider.secretsOf). A gateway may echo them in any
   * shape and in any field or header; every trace is removed (@pawwork/secrets) before anything is
   * read, classified or cut to length, so no fragment survives.
   */
  secrets?: SecretSet | readonly (string | undefined)[]
}

/**
 * Never throws: whatever it is given, a valid record comes back. `context` says where the request's
 * key came from (a rejected env key is fixed differently from a saved one) and which secret values
 * the request carried, so none of them can reach the record.
 */
export function classify(input: unknown, now: number | Date = Date.now(), context?: Context): Info {
  let at = typeof now === "number" ? now : now instanceof Date ? now.getTime() : NaN
  if (!Number.isFinite(at) || Math.abs(at) > 8e15) at = Date.now()
  try {
    return build(gather(input), at, context)
  } catch {
    // A hostile input (throwing getters, revoked proxies) still gets a record.
    return finish(
      {
        kind: "unknown",
        retryable: false,
        action: "stop",
        // Nothing readable arrived: not the runtime's decision, not a named gateway answer.
        origin: "upstream",
        statusCode: null,
        upstreamType: null,
        upstreamCode: null,
        provider: null,
        quotaScope: null,
        limitName: null,
        workspaceID: null,
        retryAfterRaw: null,
        retryAfterMs: null,
        relayed: false,
        resetAt: null,
        message: "",
      },
      at,
    )
  }
}

/** A failed turn, thrown with its normalized record and how the retry policy ended it. */
export class ProviderFailure extends Error {
  readonly attempts: number
  /** The retry policy's stop reason (session/retry.ts), when it had one. */
  readonly stopReason: string | undefined
  constructor(
    readonly info: Info,
    options: { cause?: unknown; attempts?: number; stopReason?: string } = {},
  ) {
    super(info.userMessage, { cause: options.cause })
    this.name = "ProviderFailure"
    this.attempts = options.attempts ?? 1
    this.stopReason = options.stopReason
  }
  static isInstance(value: unknown): value is ProviderFailure {
    return value instanceof ProviderFailure
  }
}

export function isTransient(kind: Kind) {
  return TRANSIENT.has(kind)
}

function build(facts: Facts, now: number, context: Context | undefined): Info {
  let kind: Kind | null = null
  let scope: QuotaScope | null = null
  const secrets = context?.secrets instanceof SecretSet ? context.secrets : SecretSet.of(context?.secrets ?? [])
  withoutEchoes(facts, secrets)
  unwrapNested(facts, (type) => Object.hasOwn(GATEWAY, type))
  const gatewayType = gatewayTypeOf(facts)
  const gateway = gatewayType === null ? undefined : GATEWAY[gatewayType]
  // A status inside the body (OpenRouter) says more than a 200 that carried it.
  const status = facts.status !== null && facts.status >= 400 ? facts.status : (facts.bodyStatus ?? facts.status)
  if (facts.status === 426) {
    // Upgrade Required is the gateway refusing this client version, whatever the body says.
    kind = "client_outdated"
  } else if (gateway) {
    kind = gateway.kind
    scope = gateway.scope ?? null
  } else if (facts.network && facts.type === null && (facts.status === null || facts.status < 400)) {
    kind = "network"
  } else {
    kind = lookup(SPECIFIC, facts.type) ?? lookup(SPECIFIC, facts.code)
    if (kind === null) {
      kind = statusKind(facts.status) ?? lookup(GENERIC, facts.type) ?? lookup(GENERIC, facts.code) ?? statusKind(facts.bodyStatus)
      // Last resort, for providers that send nothing more specific than a generic class.
      if (REFINABLE.has(kind)) kind = textHint(facts.message ?? facts.errorText) ?? kind
      // The gateway answers a bad key with a typed 401; its own 403s are policy refusals (region,
      // access, data policy, the free-tier gate). A 403 in its name with a type this runtime does
      // not know is therefore not a key problem, and must not send the user to fix one.
      if (kind === "auth" && facts.status === 403 && isConsole(providerName(facts.message) ?? providerName(facts.wrapper))) kind = "unknown"
    }
  }
  kind ??= "unknown"
  if (kind === "go_usage_limit" || kind === "subscription_usage_limit") scope = windowScope(facts.limitName)
  // What the turn was waiting on when its wait budget ran out: the last failure, which may itself be a timeout.
  const cause = DeadlineError.isInstance(facts.deadline?.cause) ? DEADLINE_KIND[facts.deadline.cause.deadline] : kind
  if (facts.deadline) kind = DEADLINE_KIND[facts.deadline.deadline]

  const header = headerReader(facts.headers)
  // An over-long retry-after is cut to 64 characters later: a secret in it goes first, whole.
  const headers = (name: string) => {
    const value = header(name)
    return value === null ? null : secrets.remove(value)
  }
  const retryAfter = RetryAfter.parse(headers("retry-after-ms"), headers("retry-after"), now)
  let retryAfterMs = retryAfter.ms
  let resetAt = retryAfterMs === null ? null : iso(now + retryAfterMs)
  if (kind === "free_usage_limit") {
    // The free allowance is a UTC day: the reset is the next UTC midnight. retry-after is whole
    // seconds (and absent when a proxy dropped it), so the midnight is more exact than now + it.
    const midnight = nextUTCMidnight(now)
    if (retryAfterMs === null) {
      retryAfterMs = midnight - now
      resetAt = iso(midnight)
    } else if (Math.abs(now + retryAfterMs - midnight) <= 2_000) resetAt = iso(midnight)
  }
  const network = kind === "network" ? facts.network : null
  const retryable = TRANSIENT.has(kind) && network?.retryable !== false && (retryAfterMs === null || retryAfterMs <= BOUNDED_WAIT_MS)
  const message = facts.message ?? facts.errorText ?? ""
  const named = providerName(facts.message) ?? providerName(facts.wrapper)
  const origin = originOf(kind, facts, gatewayType !== null || isConsole(named))
  return finish(
    {
      kind,
      retryable,
      action: retryable ? "retry" : "stop",
      origin,
      statusCode: status,
      upstreamType: token(facts.type),
      upstreamCode: token(facts.code ?? network?.code ?? null),
      // Only a provider behind the gateway is named: `Console` is the gateway itself, and a gateway
      // error type is the gateway's whatever its text says.
      provider: origin === "upstream" ? named : null,
      quotaScope: scope,
      limitName: facts.limitName === null ? null : bounded(facts.limitName, 32) || null,
      workspaceID: token(facts.workspace),
      retryAfterRaw: retryAfter.raw,
      retryAfterMs,
      relayed: header(RELAY_HEADER) !== null,
      resetAt,
      message: bounded(message, MESSAGE_MAX),
    },
    now,
    facts.deadline ? { ...context, deadline: { name: facts.deadline.deadline, ms: facts.deadline.ms, ...facts.deadline.wait, cause } } : context,
  )
}

/** Every text the answer gave, each field on its own: a key may come back split over type, code and metadata. */
function withoutEchoes(facts: Facts, secrets: SecretSet) {
  if (secrets.empty) return
  for (const field of ["type", "code", "message", "errorText", "workspace", "limitName", "wrapper"] as const) {
    const value = facts[field]
    if (value !== null) facts[field] = secrets.remove(value)
  }
}

function finish(info: Omit<Info, "userMessage">, now: number, context?: ErrorMessage.UserMessageContext): Info {
  return { ...info, userMessage: ErrorMessage.user(info, now, context) }
}

/**
 * The gateway's own (English) words for the errors a user must not see misnamed, kept when a proxy
 * drops the type but passes the text on: the free-tier gate, and the Go and Black windows, which
 * would otherwise read as a provider's rate limit and be retried (research rows 10 and 11).
 */
const FREE_TIER_TEXT = /free tier can only be used from within OpenCode/i
const GO_LIMIT_TEXT = /\b(5-hour|weekly|monthly) usage limit reached\. Resets in /i
const BLACK_LIMIT_TEXT = /\bSubscription quota exceeded\. Retry in /i
/** `Console` (and `Console Go`) in the provider prefix is the gateway itself, not a provider behind it. */
const CONSOLE = /^Console(?: |$)/
function isConsole(name: string | null): boolean {
  return name !== null && CONSOLE.test(name)
}

/**
 * The gateway error class the answer carries: its `error.type`, or FreeTierError, GoUsageLimitError
 * or BlackUsageLimitError recognised by its text when a proxy re-wrapped it under its own type
 * (`upstream_error`, opencode2api #38); a Go window's name is then read from the text too. Text is
 * the fallback only: the type decides whenever it is there.
 */
function gatewayTypeOf(facts: Facts): string | null {
  if (facts.type !== null && Object.hasOwn(GATEWAY, facts.type)) return facts.type
  const full = facts.message ?? facts.errorText
  if (full === null) return null
  const message = full.length > 2000 ? full.slice(0, 2000) : full
  if (FREE_TIER_TEXT.test(message)) return "FreeTierError"
  // A provider behind the gateway may word its own plan's limits alike: its prefix says it is not the gateway.
  const named = providerName(message)
  if (named !== null && !isConsole(named)) return null
  const go = GO_LIMIT_TEXT.exec(message)
  if (go) {
    const window = go[1]!.toLowerCase()
    facts.limitName ??= window === "5-hour" ? "5 hour" : window
    return "GoUsageLimitError"
  }
  if (BLACK_LIMIT_TEXT.test(message)) return "BlackUsageLimitError"
  return null
}

// Kinds added by the local deadlines (named as strings so this table does not depend on their order of arrival).
const NETWORK_KINDS: ReadonlySet<string> = new Set(["network", "first_byte_timeout", "stream_stalled"])
const LOCAL_KINDS: ReadonlySet<string> = new Set(["wait_budget_exhausted"])

function originOf(kind: Kind, facts: Facts, fromGateway: boolean): Origin {
  if (LOCAL_KINDS.has(kind) || (kind === "network" && facts.network?.aborted)) return "local"
  if (NETWORK_KINDS.has(kind)) return "network"
  if (fromGateway || kind === "client_outdated") return "gateway"
  return "upstream"
}

function statusKind(status: number | null): Kind | null {
  if (status === null || status < 400) return null
  switch (status) {
    case 401:
    case 403:
      return "auth"
    case 402:
      return "credits_exhausted"
    case 404:
      return "model_unavailable"
    case 408:
      return "server_error"
    // A size limit of whoever answered (a proxy, a relay, the provider's front door), counted in
    // bytes: not the model's context window, which providers refuse with a 400 naming it.
    case 413:
      return "request_too_large"
    case 429:
      return "rate_limit"
    case 503:
    case 529:
      return "overloaded"
  }
  return status >= 500 ? "server_error" : "invalid_request"
}

function textHint(message: string | null): Kind | null {
  if (!message) return null
  const sample = message.length > 2000 ? message.slice(0, 2000) : message
  if (/overloaded|over capacity/i.test(sample)) return "overloaded"
  if (/context (length|window)|maximum context|prompt is too long|too many tokens|token limit/i.test(sample)) return "context_overflow"
  if (/rate.?limit|too many requests/i.test(sample)) return "rate_limit"
  // Providers that refuse a spent account or a bad key with a generic 400 (Anthropic's "Your credit
  // balance is too low", Gemini's "API key not valid"): behind the gateway that is OpenCode's
  // account, and passing the text on as is would tell the user to buy credits or fix a key. Not
  // "insufficient balance": that is also the gateway's own CreditsError text, the user's workspace.
  if (/credit balance is too low|exceeded your current quota/i.test(sample)) return "credits_exhausted"
  if (/api[ _-]?key (is )?(not valid|invalid)|invalid (x-)?api[ _-]?key|incorrect api key/i.test(sample)) return "auth"
  return null
}

function windowScope(limitName: string | null): QuotaScope | null {
  switch (limitName?.trim().toLowerCase()) {
    case "5 hour":
    case "5-hour":
    case "5h":
    case "rolling":
      return "workspace-5h"
    case "weekly":
      return "workspace-weekly"
    case "monthly":
      return "workspace-monthly"
  }
  return null
}

function providerName(message: string | null) {
  const name = message ? /^Error from provider \(([\w .:-]{1,64})\)/.exec(message)?.[1] : undefined
  return name !== undefined && scrub(name) === name ? name : null
}

function lookup(table: Record<string, Kind>, key: string | null): Kind | null {
  if (key === null) return null
  const lower = key.toLowerCase()
  return Object.hasOwn(table, lower) ? table[lower]! : null
}

// Identifiers (types, codes, workspace ids) are echoed in support output: only plain tokens pass.
function token(value: string | null): string | null {
  return value !== null && /^[A-Za-z0-9_.:-]{1,64}$/.test(value) && scrub(value) === value ? value : null
}

function iso(ms: number): string | null {
  const date = new Date(ms)
  return Number.isFinite(date.getTime()) ? date.toISOString() : null
}

const DAY_MS = 86_400_000
function nextUTCMidnight(now: number) {
  return (Math.floor(now / DAY_MS) + 1) * DAY_MS
}
