import * as ProviderErrorMessage from "../provider/error-message"
import type { Entry, Failure, Request } from "./diagnostics"
import type { IdentityEvent } from "./diagnostics-read"

/**
 * What a support reader needs from the diagnostics records, in plain words: one finding per
 * distinct situation. Records are grouped by request (session + request id + model); each request
 * gets the sentence for how it ended, and identical sentences are merged with a count.
 */

export interface Group {
  sessionID: string
  requestID: string
  providerID: string
  modelID: string
  failures: Failure[]
  success: Request | undefined
}

export function group(entries: Entry[]): Group[] {
  const groups = new Map<string, Group>()
  for (const entry of entries) {
    const key = `${entry.sessionID}\u0000${entry.requestID}\u0000${entry.providerID}\u0000${entry.modelID}`
    let found = groups.get(key)
    if (!found) {
      found = { sessionID: entry.sessionID, requestID: entry.requestID, providerID: entry.providerID, modelID: entry.modelID, failures: [], success: undefined }
      groups.set(key, found)
    }
    if (entry.event === "provider.failure") found.failures.push(entry)
    else found.success = entry
  }
  for (const g of groups.values()) g.failures.sort((a, b) => a.attempt - b.attempt)
  return [...groups.values()]
}

export interface Summary {
  requests: number
  failedRequests: number
  recovered: number
  failures: number
}

export function summary(groups: Group[]): Summary {
  let failedRequests = 0
  let recovered = 0
  let failures = 0
  for (const g of groups) {
    failures += g.failures.length
    if (!g.failures.length) continue
    if (g.success) recovered++
    else failedRequests++
  }
  return { requests: groups.length, failedRequests, recovered, failures }
}

export function findings(groups: Group[]): string[] {
  const counts = new Map<string, number>()
  const add = (text: string) => counts.set(text, (counts.get(text) ?? 0) + 1)
  let optedOut = 0
  let notGateway = 0
  const elsewhere = new Set<string>()
  for (const g of groups) {
    const last = g.failures.at(-1)
    if (last) add(situation(g, last))
    const any = g.failures[0] ?? g.success
    if (!any || any.installHeaderSent) continue
    // An opted-out install has no identity, so its records carry no fingerprint. A record with a
    // fingerprint whose header did not go out is a provider the header is never sent to: only the
    // built-in gateway providers (opencode, opencode-go) get it, not user-declared opencode* ones.
    if (any.installFingerprint === undefined) optedOut++
    else {
      notGateway++
      elsewhere.add(any.providerID)
    }
  }
  const out = [...counts].map(([text, n]) => (n > 1 ? `${text} (${n} requests)` : text))
  const sides = upstreamFinding(groups)
  if (sides) out.push(sides)
  if (optedOut)
    out.push(
      `Identity header not sent on ${plural(optedOut, "request")}: the install identity is turned off (opted out), so the gateway could tell this install apart only by its network.`,
    )
  if (notGateway) {
    const many = elsewhere.size > 1
    out.push(
      `Identity header not sent on ${plural(notGateway, "request")} to ${[...elsewhere].sort().join(", ")}: ` +
        `${many ? "not built-in OpenCode gateway providers" : "not a built-in OpenCode gateway provider"} (only opencode and opencode-go are), so the install identity is never sent there.`,
    )
  }
  return out
}

/**
 * One finding per identity replacement between the first and the last record reported: the
 * requests on either side carry different install fingerprints, which a support reader must not
 * mistake for two installs (or for the gateway mixing installs up).
 */
export function identityFindings(entries: Entry[], events: IdentityEvent[]): string[] {
  const times = entries.map((e) => Date.parse(e.time)).filter(Number.isFinite)
  if (!times.length) return []
  const first = Math.min(...times)
  const last = Math.max(...times)
  return events.flatMap((e) => {
    const at = Date.parse(e.time)
    if (e.event !== "identity.replaced" || !(at >= first && at <= last)) return []
    const when = e.time.replace("T", " ").replace(/\.\d+Z$/, "Z")
    return [
      `Install identity replaced at ${when} (${e.reason}): requests before and after carry different install fingerprints ` +
        `(${e.previousFingerprint ?? "previous token unreadable"} → ${e.fingerprint}).`,
    ]
  })
}

/**
 * Whose side a record's failure is on. Records written before `origin` existed are read by the one
 * fact they already carried: a provider named in `Error from provider (<name>)` other than the
 * gateway's own `Console` is upstream; anything else stays unknown rather than guessed.
 */
export function originOf(r: Pick<Failure, "origin" | "upstreamProvider">): Failure["origin"] {
  if (r.origin !== undefined) return r.origin
  return r.upstreamProvider !== undefined && !/^Console(?: |$)/.test(r.upstreamProvider) ? "upstream" : undefined
}

// Kinds whose sentence for the user's own account (key, credits, spend, plan) would be wrong for
// OpenCode's account with a provider behind the gateway.
const ACCOUNT_KINDS: ReadonlySet<Failure["kind"]> = new Set(["auth", "credits_exhausted", "spend_limit", "model_unavailable"])

/**
 * Failed requests that a provider behind the gateway refused for a key, quota or model reason, told
 * apart from the user's account: support must not send a user to fix a key or add credits for
 * OpenCode's own account. Overloads and server errors already say they are not the user's account.
 */
function upstreamFinding(groups: Group[]): string | undefined {
  let upstream = 0
  let gateway = 0
  const providers = new Set<string>()
  for (const g of groups) {
    const last = g.failures.at(-1)
    if (!last || g.success) continue
    const origin = originOf(last)
    if (origin === "gateway") gateway++
    if (origin !== "upstream" || !ACCOUNT_KINDS.has(last.kind)) continue
    upstream++
    if (last.upstreamProvider) providers.add(last.upstreamProvider)
  }
  if (!upstream) return undefined
  const named = providers.size ? ` (${[...providers].sort().join(", ")})` : ""
  const rest = gateway ? `; the ${plural(gateway, "other failed request")} ${gateway === 1 ? "was" : "were"} about this user's account, limits or client at the gateway` : ""
  return (
    `${plural(upstream, "failed request")} refused by the model providers behind OpenCode's gateway${named}: ` +
    `OpenCode's side and its own accounts with those providers, not this user's key, balance or spend limit${rest}.`
  )
}

function situation(g: Group, last: Failure): string {
  const model = `${g.providerID}/${g.modelID}`
  const reset = last.resetAt ? `resets ${resetText(last.resetAt, last.time)}` : undefined
  if (originOf(last) === "upstream" && ACCOUNT_KINDS.has(last.kind)) {
    const provider = last.upstreamProvider ?? "OpenCode's model provider"
    return (
      `${provider} refused ${model}${status(last)} behind OpenCode's gateway: OpenCode's own account with ${provider}, ` +
      "not this user's key, balance or spend limit; another model, or later, helps."
    )
  }
  if (ProviderErrorMessage.isRelayAccount({ relayed: last.relayed === true, origin: originOf(last) ?? "upstream", kind: last.kind, upstreamType: last.upstreamType ?? null }))
    return last.kind === "free_usage_limit"
      ? `The PawWork relay's free allowance at OpenCode is used up on ${model}; ${reset ?? "resets at 00:00 UTC"}: the gateway counts free models per network and every install behind the relay shares the relay's address, so this user's own network is not involved. The relay should offer paid models (docs/relay.md); the user can use their own key or Go meanwhile.`
      : `OpenCode's gateway refused the PawWork relay's own account on ${model}${status(last)}: PawWork's key and address behind the relay, not this user's key, plan or network; PawWork must fix it, the user can use their own key or Go meanwhile.`
  switch (last.kind) {
    case "free_tier_gated":
      return (
        `OpenCode refused its free tier to this client ${via(last)}${status(last)}: its free models now serve only OpenCode's own app; ` +
        "not a key problem, not a used-up quota, not an outage. A saved OpenCode key (`auth set opencode`) or an OpenCode Go subscription works."
      )
    case "client_outdated":
      return `OpenCode's gateway refused this client version (runtime ${last.runtimeVersion})${status(last)} on ${model}: it wants a newer OpenCode client than the version PawWork honestly reports; not a key problem. A saved OpenCode key (\`auth set opencode\`) or an OpenCode Go subscription works; a PawWork update may.`
    case "model_access_denied":
      return `Model ${model} is not allowed ${via(last)}${workspace(last)}${status(last)}: pick another model, or a workspace admin can allow it.`
    case "data_policy_blocked":
      return `Model ${model} needs the workspace to accept its provider's data policy${workspace(last)}${status(last)}: a workspace admin can accept it, or pick another model.`
    case "relay_limit":
      return `PawWork relay allowance used up (${last.upstreamType ?? "relay limit"}) ${via(last)}; ${reset ?? "resets at 00:00 UTC"}; not an outage: the relay's own daily limits (per install, per address, new installs per address, or its budget).`
    case "free_usage_limit":
      return (
        `Free daily quota of this network used up ${via(last)}; ${reset ?? "resets at 00:00 UTC"}; not an outage. ` +
        "Everyone on the same network or VPN shares it: save a key (`auth set opencode`) or subscribe to OpenCode Go."
      )
    case "go_usage_limit":
      return `OpenCode Go ${last.limitName ? `"${last.limitName}" ` : ""}window reached ${via(last)}${workspace(last)}; ${reset ?? "reset time not sent"}; not an outage.`
    case "subscription_usage_limit":
      return `OpenCode Black ${last.limitName ? `"${last.limitName}" ` : ""}window reached ${via(last)}${workspace(last)}; ${reset ?? "reset time not sent"}; not an outage.`
    case "credits_exhausted":
      return `${subject(last)} has no credits${workspace(last)}: add credits in OpenCode's console (https://opencode.ai/console); not an outage.`
    case "spend_limit":
      return `${last.upstreamType === "UserLimitError" ? "Member spend limit" : "Workspace monthly spend limit"} reached ${via(last)}${workspace(last)}: a workspace admin can raise it; not an outage.`
    case "auth":
      // A flagged or blocked workspace is AuthError too (research row 16): not the key, so no key fix.
      if (last.upstreamType === "AuthError" && /request blocked/i.test(last.message ?? ""))
        return `Workspace blocked by OpenCode ${via(last)}${workspace(last)}${status(last)}: the key is not the problem, re-entering it will not help; the workspace owner must contact OpenCode support.`
      return rejected(last)
    case "model_unavailable":
      return `Model ${model} is not offered ${via(last)}${status(last)}: pick one from \`models\`.`
    case "region_blocked":
      return `Model ${model} is refused in this region${status(last)}: pick another model.`
    case "context_overflow":
      return `The conversation was too long for ${model}'s context window: start a new session or use a larger model.`
    case "request_too_large":
      return `The request to ${model} was refused as too large in bytes${status(last)}${detail(last)} (${last.upstreamType === "RequestTooLargeError" ? "the PawWork relay's body limit" : "a size limit on the way, not the context window"}): start a new session or leave out large attachments.`
    case "invalid_request":
      return `${model} rejected the request as invalid${status(last)}${detail(last)}.`
    case "unknown":
      return `Unexpected answer from ${model}${status(last)}${detail(last)}.`
    case "rate_limit":
      return transient(
        g,
        last,
        last.quotaScope === "key-minute" ? `Per-key rate limit (requests a minute) hit ${via(last)} on ${model}` : `Upstream rate limit on ${model}`,
        "",
      )
    case "overloaded":
      return transient(g, last, `Provider overload${last.upstreamProvider ? ` (${last.upstreamProvider})` : ""} on ${model}`, "not your quota or account")
    case "server_error":
      return transient(g, last, `Server error${status(last)} on ${model}`, "usually temporary")
    case "network":
      return transient(g, last, `Could not reach ${last.baseURL}${last.upstreamCode ? ` (${last.upstreamCode})` : ""}`, "check the network, proxy/VPN and the baseURL")
    // The deadline kinds' message is the runtime's own line naming the deadline and its setting.
    case "first_byte_timeout":
      return transient(g, last, `No answer from ${last.baseURL} in time${deadline(last)}`, "the provider was overloaded or unreachable, or the network dropped it")
    case "stream_stalled":
      return `The answer from ${model} stalled${deadline(last)}: the turn was stopped by its own deadline, not by the provider.`
    case "wait_budget_exhausted":
      return `${model} kept failing${status(last)}${detail(last)}; the turn stopped at its wait budget for retries.`
  }
}

function transient(g: Group, last: Failure, what: string, note: string): string {
  const tail = note ? `; ${note}` : ""
  if (g.success) return `${what}, recovered after ${plural(g.failures.length, "retry", "retries")}${tail}.`
  if (last.stopReason === "attempts_exhausted") return `${what}, gave up after ${plural(last.attempt, "attempt")}${tail}.`
  if (last.stopReason === "wait_too_long")
    return `${what}, not retried: asked to wait ${last.resetAt ? `until ${resetText(last.resetAt, last.time)}` : "too long"}${tail}.`
  if (last.action === "retry") return `${what}; a retry was pending when the log ends${tail}.`
  // Recorded by the fetch layer (src/integration/), which never retries: the host's own policy decided.
  if (last.stopReason === "returned_to_host") return `${what}, ${plural(last.attempt, "attempt")} seen at the fetch level; the host's own retry policy decided what came next${tail}.`
  return `${what}, the turn ended after ${plural(last.attempt, "attempt")}${tail}.`
}

function rejected(r: Failure): string {
  const code = r.statusCode ? ` (HTTP ${r.statusCode}${r.upstreamType ? ` ${r.upstreamType}` : ""})` : ""
  switch (r.authSource) {
    case "auth":
      return `Saved key ${r.keyFingerprint ?? ""} rejected${code}: re-enter it (\`auth set ${r.providerID}\`).`
    case "env":
      return `Env key ${r.authEnvVar ?? "variable"} (${r.keyFingerprint ?? "no fingerprint"}) rejected${code}: fix or unset it.`
    case "config":
      return `Key in opencode.json (${r.keyFingerprint ?? "no fingerprint"}) rejected${code}: fix provider.${r.providerID}.options.apiKey.`
    case "public":
      return `Anonymous access rejected for ${r.providerID}/${r.modelID}${code}: this model needs a key (\`auth set ${r.providerID}\`).`
    case "none":
      return `Request without a key rejected${code}: configure a key for ${r.providerID}.`
    case "host":
      return `Key sent by the host program (${r.keyFingerprint ?? "no fingerprint"}) rejected${code}: fix the key in that program's settings.`
  }
}

/** "on the anonymous path", "with the env key OPENCODE_API_KEY (fp_...)". */
export function via(r: Pick<Failure, "authSource" | "authEnvVar" | "keyFingerprint">): string {
  const fp = r.keyFingerprint ? ` (${r.keyFingerprint})` : ""
  switch (r.authSource) {
    case "public":
      return "on the anonymous path"
    case "auth":
      return `with the saved key${fp}`
    case "env":
      return `with the env key ${r.authEnvVar ?? "variable"}${fp}`
    case "config":
      return `with the key from opencode.json${fp}`
    case "none":
      return "without a key"
    case "host":
      return `with the host program's own key${fp}`
  }
}

function subject(r: Failure): string {
  const fp = r.keyFingerprint ? ` (${r.keyFingerprint})` : ""
  switch (r.authSource) {
    case "auth":
      return `Saved key${fp}`
    case "env":
      return `Env key ${r.authEnvVar ?? "variable"}${fp}`
    case "config":
      return `Key in opencode.json${fp}`
    case "host":
      return `The host program's key${fp}`
    default:
      return "The account"
  }
}

/** "00:00 UTC (2026-11-22, 13 h 57 min after the failure)". */
export function resetText(resetAt: string, time: string): string {
  const at = Date.parse(resetAt)
  if (!Number.isFinite(at)) return resetAt
  const iso = new Date(at).toISOString()
  const after = at - Date.parse(time)
  const gap = Number.isFinite(after) && after > 0 ? `, ${ProviderErrorMessage.relative(after).replace(/^in /, "")} after the failure` : ""
  return `${iso.slice(11, 16)} UTC (${iso.slice(0, 10)}${gap})`
}

function workspace(r: Failure) {
  return r.workspaceID ? ` in workspace ${r.workspaceID}` : ""
}

function status(r: Failure) {
  return r.statusCode ? ` (HTTP ${r.statusCode}${r.upstreamType ? ` ${r.upstreamType}` : ""})` : ""
}

// The runtime's own line for a deadline ("streamIdleMs: no stream event for 120000 ms"), in brackets.
function deadline(r: Failure) {
  return r.message ? ` (${r.message})` : ""
}

function detail(r: Failure) {
  return r.message ? `: ${r.message}` : ""
}

function plural(n: number, one: string, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`
}

