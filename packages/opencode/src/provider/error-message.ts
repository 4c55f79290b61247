import type { Info } from "./error"
import { RELAY_TYPES } from "./relay-answer"
import type { AuthSource } from "./provider"
import type { Deadline } from "./deadline-error"

/**
 * Every sentence PawWork says about a provider failure, in one place so the CLI and the desktop UI
 * tell the same truth. Each says what happened, whether waiting helps and until when, and what
 * to do. Nothing here promises per-device free usage: the free allowance is per network.
 */

type Facts = Omit<Info, "userMessage">

export const GO_URL = "https://opencode.ai/go"

/**
 * What a caller knows about the failed request that the record does not: where its key came from
 * (the record is built from the answer alone). Only the `auth` kind uses it; without it the auth
 * message names every place a key can come from instead of guessing one.
 */
export interface UserMessageContext {
  /** `Provider.Credential.source` of the key the request went out with. */
  authSource?: AuthSource
  /** `Provider.Credential.envVar`, when `authSource` is `env`. */
  authEnvVar?: string
  /** The provider id, for `auth set <id>` and the opencode.json path; default `<provider>`. */
  providerID?: string
  /**
   * The turn's own deadline that ended it (provider/deadline-error.ts), for the deadline kinds: which
   * one, how long it was, and for a spent wait budget what had been waited and what failed meanwhile.
   */
  deadline?: { name: Deadline; ms: number; waitedMs?: number; nextMs?: number; cause?: Info["kind"] }
}

export function user(info: Facts, now: number, context?: UserMessageContext): string {
  const reset = info.resetAt ? ` It resets ${when(info.resetAt, now)}.` : ""
  const http = info.statusCode ? ` (HTTP ${info.statusCode})` : ""
  const detail = info.message ? `: ${info.message}` : ""
  if (onOpenCodeSide(info, context)) {
    const said = upstreamAccount(info, http)
    if (said) return said
  }
  if (isRelayAccount(info)) return relayAccount(info, reset)
  switch (info.kind) {
    case "free_usage_limit":
      return (
        "OpenCode's free models are limited per network per day, and everyone on the same network or VPN shares that allowance; it has been used up." +
        reset +
        ` To keep working now, save an OpenCode API key with \`auth set opencode\`, or subscribe to OpenCode Go: ${GO_URL}`
      )
    case "go_usage_limit":
      // The gateway's own way on (research row 11): Go may draw on the workspace balance once that is allowed.
      return `Your OpenCode Go ${windowName(info.limitName)}usage limit is reached.${reset} Until then, let Go use your workspace balance (a setting on the workspace's Go page in OpenCode's console, ${CONSOLE_URL}), use a free model, or an OpenCode API key with balance (\`auth set opencode\`).`
    case "subscription_usage_limit":
      return `Your OpenCode subscription's ${windowName(info.limitName)}usage limit is reached.${reset} Until then, use a free model or pay from the workspace balance.`
    case "rate_limit":
      if (info.quotaScope === "relay-concurrency")
        return `This install already has as many requests in progress on the PawWork relay as it allows; one must finish first.${reset || " Waiting a few seconds helps."}`
      return info.quotaScope === "key-minute"
        ? `Too many requests with this API key for this model (the gateway allows a set number a minute).${reset || " Waiting a minute helps."}`
        : info.provider
          ? `The upstream provider (${info.provider}) is rate limiting OpenCode's requests to it; that is OpenCode's account with it, not your quota.${reset || " Waiting a little usually helps."}`
          : `The model provider is rate limiting requests.${reset || " Waiting a little usually helps."}`
    case "credits_exhausted":
      return info.upstreamType === "CreditsError"
        ? `Your OpenCode workspace has no balance left. Add credits in OpenCode's console: ${billingURL(info.workspaceID)}`
        : sentences(`The provider reports that the account's credits or quota are used up${detail}`)
    case "spend_limit":
      return info.upstreamType === "UserLimitError"
        ? "Your spending limit in this OpenCode workspace is reached. A workspace admin can raise it in the billing settings."
        : "Your OpenCode workspace's monthly spending limit is reached. A workspace admin can raise it in the billing settings."
    case "auth":
      // The key is valid; its workspace lacks the subscription (the Go usage endpoint says this).
      if (info.upstreamType === "EntitlementError")
        return sentences(`This key's OpenCode workspace has no OpenCode Go subscription${http}${detail}`, `Subscribe at ${GO_URL}, or use the key of a workspace that has one.`)
      // A flagged or blocked workspace gets AuthError too (research row 16): the key is fine, re-entering it will not help.
      if (info.upstreamType === "AuthError" && /request blocked/i.test(info.message))
        return sentences(
          `OpenCode's gateway blocked requests from this key's OpenCode workspace${http}${detail}`,
          "That is the workspace, not the key: re-entering it will not help. Contact OpenCode support about the workspace, or use a key of another workspace",
        )
      return sentences(`The provider rejected the credentials${http}${detail}`, ...authAdvice(context))
    case "model_unavailable":
      return sentences(`This model is not available with your key or plan${detail}`, "Run `models` to see the ones you can use.")
    case "region_blocked":
      return "This model is not offered in your region. Pick another one (`models`)."
    case "free_tier_gated":
      return (
        `OpenCode now serves its free models only to its own app, and refused this request${http}. ` +
        "This is not a key problem and not a used-up allowance: no key is wrong, and retrying will not help. " +
        `To keep working, save an OpenCode API key with \`auth set opencode\`, or subscribe to OpenCode Go: ${GO_URL}`
      )
    case "client_outdated":
      // The gate wants OpenCode's own version; PawWork honestly reports its own, so an update is no promised fix.
      return sentences(
        `OpenCode's gateway refused this client's version${http || " (HTTP 426)"}${detail}`,
        "PawWork reports its own version, not OpenCode's, so retrying will not help; this is not a key problem",
        `To keep working, save an OpenCode API key with \`auth set opencode\`, or subscribe to OpenCode Go (${GO_URL}); a PawWork update may also help`,
      )
    case "model_access_denied":
      return sentences(`Your OpenCode workspace does not give you access to this model${http}${detail}`, "Pick another model (`models`), or ask a workspace admin to allow this one.")
    case "data_policy_blocked":
      return sentences(
        `This model needs your OpenCode workspace to accept its provider's data policy, and it has not${http}${detail}`,
        "Pick another model (`models`), or a workspace admin can accept the policy in the workspace settings.",
      )
    case "relay_limit":
      return relayLimit(info.quotaScope, reset)
    case "overloaded":
      return `${info.provider ? `The upstream provider (${info.provider})` : "The model provider"} is overloaded right now; that is its load, not your quota or account. Waiting a little usually helps.`
    case "server_error":
      if (info.upstreamType === "RelayUnavailableError") return `The PawWork relay cannot check allowances right now${http}. It is usually back within seconds.`
      return `The provider had an internal error${http}. It is usually temporary.`
    case "network":
      if (info.upstreamCode === "AbortError") return "The request was cancelled."
      return info.retryable
        ? `Could not reach the provider${info.upstreamCode ? ` (${info.upstreamCode})` : ""}. Check your connection, proxy or VPN.`
        : sentences(
            `Could not reach the provider${info.upstreamCode ? ` (${info.upstreamCode})` : ""}${detail}`,
            "Check the provider's baseURL in opencode.json and your network.",
          )
    case "first_byte_timeout":
    case "stream_stalled":
    case "wait_budget_exhausted":
      return deadline(info, now, context)
    case "context_overflow":
      return "The conversation is too long for this model's context window. Start a new session, or use a model with a larger context."
    case "request_too_large":
      return info.upstreamType === "RequestTooLargeError"
        ? `The request is larger than the PawWork relay accepts${http}. It grows with the conversation and its attachments: start a new session or leave out large files, or use your own OpenCode API key or Go subscription instead of the relay.`
        : `${info.provider ? `The upstream provider (${info.provider})` : "The provider or a server on the way"} refused the request as too large${http}. It grows with the conversation and its attachments: start a new session or leave out large files.`
    case "invalid_request":
      return sentences(`The provider rejected the request${http}${detail}`)
    case "unknown":
      // The gateway's own answer of a type this version does not know (a new check, like September's gate): not guessed at.
      if (info.origin === "gateway")
        return sentences(`OpenCode's gateway refused the request with an answer this version of PawWork does not know${http}${detail}`, "A newer PawWork may explain it")
      return sentences(`The provider failed with an unexpected answer${http}${detail}`)
  }
}

// What the gateway says about an account, its limits or its client: through a relay, the relay's.
const RELAY_ACCOUNT_KINDS = new Set<Info["kind"]>([
  "free_usage_limit",
  "free_tier_gated",
  "client_outdated",
  "go_usage_limit",
  "subscription_usage_limit",
  "rate_limit",
  "credits_exhausted",
  "spend_limit",
  "auth",
  "model_unavailable",
  "region_blocked",
  "model_access_denied",
  "data_policy_blocked",
])

/** A gateway answer about an account that a PawWork relay passed on: the relay's account, not the user's. */
export function isRelayAccount(info: Pick<Facts, "relayed" | "origin" | "kind" | "upstreamType">): boolean {
  return info.relayed && info.origin === "gateway" && RELAY_ACCOUNT_KINDS.has(info.kind) && !(info.upstreamType !== null && RELAY_TYPES.has(info.upstreamType))
}

/**
 * The relay calls the gateway with PawWork's key from PawWork's address: whatever the gateway says
 * about that key, plan, balance or address is PawWork's to fix, and nothing on this machine helps.
 */
function relayAccount(info: Facts, reset: string): string {
  const instead = " To keep working now, use your own OpenCode API key (`auth set opencode`) or Go subscription instead of the relay."
  const said = `${info.statusCode ? ` (HTTP ${info.statusCode}${info.upstreamType ? ` ${info.upstreamType}` : ""})` : info.upstreamType ? ` (${info.upstreamType})` : ""}`
  switch (info.kind) {
    case "free_usage_limit":
      return `OpenCode's free allowance for the PawWork relay is used up: the gateway counts free models per network, and every install behind the relay shares the relay's one address. Your own network's allowance is not involved.${reset}${instead}`
    case "rate_limit":
      return `The PawWork relay's key is over the gateway's rate limit for this model${said}.${reset || " Waiting a minute helps."}`
    case "model_unavailable":
      return `The PawWork relay does not serve this model${said}. Pick another model (\`models\`).`
    default:
      return `OpenCode's gateway refused the PawWork relay's own account${said}. That is PawWork's key and address behind the relay, not your key, plan or network: nothing on this machine fixes it.${reset}${instead}`
  }
}

/** Which of a PawWork relay's daily allowances ran out, and when it comes back. */
function relayLimit(scope: Info["quotaScope"], reset: string): string {
  const instead = " To keep working now, use your own OpenCode API key or Go subscription instead of the relay."
  switch (scope) {
    case "relay-ip":
      return `The daily allowance of this network on the PawWork relay is used up: every install on this address shares it.${reset}${instead}`
    case "relay-new-install":
      return `Too many new installs have started from this network today on the PawWork relay, so this one is not served today; installs already in use keep working.${reset}${instead}`
    case "relay-budget":
      return `The PawWork relay's daily budget is spent, for every install.${reset}${instead}`
    default:
      return `This install's daily allowance on the PawWork relay is used up; other installs keep their own.${reset}${instead}`
  }
}

/**
 * An upstream failure behind OpenCode's gateway: OpenCode's own account or key with the provider
 * it routes to (`Error from provider (OpenAI): ... insufficient_quota`), never the user's. Without
 * the prefix it is still OpenCode's side when the request went to an `opencode*` provider (the
 * gateway passes stream errors on unprefixed) or when the caller does not say where it went. Only
 * a custom provider, answering directly, speaks about the key the user configured for it.
 */
function onOpenCodeSide(info: Facts, context: UserMessageContext | undefined): boolean {
  if (info.origin !== "upstream") return false
  return info.provider !== null || context?.providerID === undefined || context.providerID.startsWith("opencode")
}

/**
 * What to say instead of the key, plan or money advice these kinds give for the user's own account.
 * The provider's text is left out on purpose: "Invalid API key" or "Insufficient Balance" there is
 * about OpenCode's account and reads as the user's; the record's `message` keeps it for support.
 */
function upstreamAccount(info: Facts, http: string): string | undefined {
  const subject = info.provider ?? "The model provider behind OpenCode's gateway"
  const side = `That is OpenCode's own account with ${info.provider ?? "that provider"}, on OpenCode's side of the gateway: not your key and not your OpenCode account.`
  const helps = "Pick another model (`models`) or try again later."
  switch (info.kind) {
    case "auth":
      return `${subject} refused OpenCode's credentials for this model${http}. ${side} ${helps}`
    case "credits_exhausted":
    case "spend_limit":
      return `OpenCode's usage with ${info.provider ?? "the model provider behind its gateway"} has run out for now${http}. ${side} ${helps}`
    case "model_unavailable":
      return `${subject} does not serve this model right now${http}. ${side} ${helps}`
  }
  return undefined
}

/** What stalled and for how long. Without the deadline at hand (a record re-read later), the same words without the figure. */
function deadline(info: Facts, now: number, context: UserMessageContext = {}): string {
  const d = context.deadline
  const time = d ? ` ${span(d.ms)}` : ""
  switch (info.kind) {
    case "first_byte_timeout":
      return `No answer from the provider within${time || " the time allowed"}: it may be overloaded or unreachable. Try again in a moment; if it keeps happening, check your connection, proxy or VPN.`
    case "stream_stalled":
      return d?.name === "response"
        ? `The provider's answer was still not finished after${time}: it was arriving too slowly. Try again; for very long answers raise pawwork.timeouts.responseMs in opencode.json.`
        : `The provider stopped sending its answer: nothing arrived for${time || " too long"}. It may be overloaded; try again.`
    default: {
      // The failure that kept the turn waiting comes first, in its own words.
      const cause = d?.cause && d.cause !== info.kind ? user({ ...info, kind: d.cause }, now, { ...context, deadline: undefined }) : ""
      const next = d?.nextMs !== undefined ? ` another ${span(d.nextMs)}` : " again"
      const waited = d?.waitedMs ? ` (it has already waited ${span(d.waitedMs)})` : ""
      return sentences(cause, `Stopped retrying: waiting${next} would take this turn past its wait budget${time ? ` of${time}` : ""}${waited}`, cause ? "" : "Try again in a few minutes")
    }
  }
}

/** A deadline as a person says it: "500 ms", "1.5 s", "90 s", "10 min", "2 min 30 s". */
export function span(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  if (ms < 10_000 && ms % 1000 >= 50) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  const min = Math.floor(s / 60)
  return s % 60 ? `${min} min ${s % 60} s` : `${min} min`
}

/** What to do about a rejected key depends on where it came from (precedence: opencode.json, saved, environment). */
function authAdvice(context: UserMessageContext = {}): string[] {
  const id = context.providerID ?? "<provider>"
  switch (context.authSource) {
    case "env": {
      const variable = context.authEnvVar ?? "the environment variable"
      return [`The key from ${variable} was rejected: check or unset it, or save a working key with \`auth set ${id}\` (a saved key is used before ${variable})`]
    }
    case "config":
      return [`The apiKey in opencode.json was rejected: fix or remove provider.${id}.options.apiKey (it is used before a saved key or an environment variable)`]
    case "auth":
      return [`The saved key was rejected: re-enter it with \`auth set ${id}\``]
    case "public":
      return ["No API key was sent, only anonymous access: this model needs one", `Save it with \`auth set ${id}\``]
    case "none":
      return [`No key is configured for ${id}: save one with \`auth set ${id}\` or set provider.${id}.options.apiKey in opencode.json`]
    default:
      return [
        "Check which key was sent and where it came from (`request --dry-run` shows it): fix the apiKey in opencode.json, re-enter a saved key with `auth set <provider>`, or check the environment variable",
      ]
  }
}

/**
 * Joins sentences with one space, ending each with exactly one terminal mark: upstream text that
 * already ends in one (`Invalid API key.`) is not given a second, text that does not gets a full stop.
 */
export function sentences(...parts: (string | undefined | null | false)[]): string {
  return parts
    .flatMap((part) => {
      const text = (part || "").trim()
      if (!text) return []
      if (/[.!?…]["'”’)\]]*$/.test(text)) return [text]
      return [text.replace(/[,;:\s]+$/, "") + "."]
    })
    .join(" ")
}

/** The stderr line printed before each automatic retry. */
export function retrying(info: Pick<Info, "kind" | "statusCode">, delayMs: number, nextAttempt: number, maxAttempts: number): string {
  const label: Partial<Record<Info["kind"], string>> = {
    overloaded: "Provider overloaded",
    rate_limit: "Rate limited by the provider",
    server_error: `Provider error${info.statusCode ? ` (HTTP ${info.statusCode})` : ""}`,
    network: "Could not reach the provider",
    first_byte_timeout: "No answer from the provider in time",
  }
  return `${label[info.kind] ?? "Provider failure"}; retrying in ${seconds(delayMs)} (attempt ${nextAttempt} of ${maxAttempts})`
}

/** Appended to a transient failure's message when the retries ran out. */
export function gaveUp(attempts: number) {
  return `Gave up after ${attempts} attempts.`
}

/** Appended to a transient failure's message when it was not retried because part of the answer had been shown. */
export function notRetriedAfterText() {
  return "Not retried automatically: part of the answer had already arrived, and trying again would repeat it."
}

/** Appended when the wait a transient error asked for is longer than PawWork holds a turn open. */
export function tooLongToWait(resetAt: string | null, now: number) {
  return resetAt ? `Not retried automatically: the provider asked to wait until ${when(resetAt, now)}.` : "Not retried automatically."
}

/** Whose side a failure is on, in a few words, for `classify` and support output. */
export function originText(info: Pick<Info, "origin" | "provider" | "relayed" | "kind" | "upstreamType">): string {
  switch (info.origin) {
    case "gateway":
      if (info.upstreamType !== null && RELAY_TYPES.has(info.upstreamType)) return "the PawWork relay, about this install's request"
      if (isRelayAccount(info)) return "OpenCode's gateway, about the PawWork relay's own account, passed on by the relay"
      return "OpenCode's gateway, about this account, its limits or this client"
    case "upstream":
      return info.provider ? `${info.provider}, the model provider behind the gateway` : "the model provider or a server on the way, not the gateway's account checks"
    case "network":
      return "no HTTP answer arrived"
    case "local":
      return "decided by this runtime"
  }
}

/** classify's one-line answer to "does waiting help, and until when". */
export function waiting(info: Info, now: number): string {
  if (info.retryable)
    return info.retryAfterMs !== null ? `yes: retried automatically after ${seconds(info.retryAfterMs)}` : "yes: retried automatically with backoff"
  if (info.resetAt) return `only after the reset, ${when(info.resetAt, now)} (${info.resetAt}); not retried automatically`
  return "no"
}

/** "at 01:00 Sun (your time), in 13 h 57 min" */
export function when(resetAt: string, now: number): string {
  const at = Date.parse(resetAt)
  if (!Number.isFinite(at)) return "later"
  return `at ${localTime(at)} (your time), ${relative(at - now)}`
}

export function relative(ms: number): string {
  if (ms <= 0) return "now"
  if (ms < 60_000) return `in ${Math.ceil(ms / 1000)} s`
  const totalMinutes = Math.round(ms / 60_000)
  const days = Math.floor(totalMinutes / 1440)
  const hours = Math.floor((totalMinutes % 1440) / 60)
  const minutes = totalMinutes % 60
  const parts = [days ? `${days} d` : "", hours ? `${hours} h` : "", minutes ? `${minutes} min` : ""].filter(Boolean)
  return `in ${parts.join(" ")}`
}

export function seconds(ms: number) {
  return ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${Math.ceil(ms)}ms`
}

function windowName(limitName: string | null) {
  return limitName ? `${limitName} ` : ""
}

/**
 * Where a workspace's balance is topped up. Since 2026-09-20 the old `/workspace/<id>/billing` pages
 * answer with the console's sign-in (console-api-2026.md); the console lives at `/console/<id>`. A
 * 401 CreditsError carries no metadata, so the workspace is usually unknown: then the console root.
 */
const CONSOLE_URL = "https://opencode.ai/console"
function billingURL(workspaceID: string | null) {
  return workspaceID ? `${CONSOLE_URL}/${workspaceID}` : CONSOLE_URL
}

// Formatters are costly to build; keyed on TZ so a process that changes it still gets its own zone.
let formatter: { tz: string | undefined; format: Intl.DateTimeFormat } | undefined
function localTime(ms: number) {
  const tz = process.env.TZ
  if (!formatter || formatter.tz !== tz)
    formatter = {
      tz,
      format: new Intl.DateTimeFormat("en-GB", { weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" }),
    }
  return formatter.format.format(ms)
}
