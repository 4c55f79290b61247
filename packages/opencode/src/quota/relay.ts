import { SecretSet } from "@pawwork/secrets"
import type { FetchLike } from "@pawwork/usage"
import * as Identity from "../auth/identity"
import type { Config } from "../config"
import type { Paths } from "../global"
import { Installation } from "../installation"
import { Provider } from "../provider"
import { readBounded } from "../util/bounded-stream"
import * as Json from "../util/json"
import { safeURL } from "../util/redact"
import { bounded } from "../util/scrub"
import * as Meters from "./meters"
import type { Relay } from "./status-schema"

/**
 * The PawWork relay part of `status`: when the opencode provider's base URL is not OpenCode's
 * gateway, `GET <baseURL>/usage` with this install's token asks whether it is a PawWork relay and,
 * if so, what this install has used and has left of its daily allowance there. Cached beside the
 * other remote figures; a base URL that is not a relay is remembered as such for the same time.
 */

/** A relay's usage answer is a few hundred bytes. */
const MAX_BODY_BYTES = 16 * 1024

type Entry = Meters.RelayEntry
type Usage = Meters.RelayUsage

/** The opencode provider's base URL when it may be a relay: anything but the gateway's own Zen and Go paths. */
export function candidate(provider: Provider.Info | undefined): string | undefined {
  if (!provider?.gateway || provider.id !== "opencode") return undefined
  try {
    const url = new URL(provider.baseURL)
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined
    if (/\/zen(\/go)?\/v1\/?$/.test(url.pathname)) return undefined
    return provider.baseURL
  } catch {
    return undefined
  }
}

export interface Reading {
  env: Paths.Env
  config: Config.Info
  now: () => number
  refreshFor: (entry: { fetchedAt?: string; attemptedAt?: string } | undefined) => boolean
  fetch?: FetchLike
}

export async function status(provider: Provider.Info | undefined, options: Reading): Promise<Relay | null> {
  const baseURL = candidate(provider)
  if (!baseURL || !provider) return null
  const at = options.now()
  const identity = await Identity.resolve(options.env, options.config)
  if (identity.optedOut)
    return {
      ...EMPTY,
      baseURL: safeURL(baseURL),
      error: {
        at: new Date(at).toISOString(),
        code: "identity_off",
        message: `The install identity is off (${Identity.describeOptOut(identity.by)}): a PawWork relay tells installs apart by it, and refuses requests without it.`,
      },
    }
  // A token that lives only as long as one process is a new install to the relay on every run: its figures would be another's.
  if (!identity.persisted)
    return {
      ...EMPTY,
      baseURL: safeURL(baseURL),
      error: {
        at: new Date(at).toISOString(),
        code: "identity_not_saved",
        message: `This install's identity could not be saved (${bounded(identity.problem ?? "unknown problem", 200)}), so every run is a new install to the relay and there is nothing to show; see \`cli identity\`.`,
      },
    }
  const file = Meters.filePath(options.env)
  const key = Meters.entryKey(identity.fingerprint, baseURL)
  let entry = await readEntry(file, key)
  let fromCache = true
  // "Not a relay" is kept as long as a failed read (status's refreshFor goes by attemptedAt too), then asked again.
  if (options.refreshFor(entry)) {
    entry = await refresh(provider, identity, baseURL, key, file, options)
    fromCache = entry.error !== undefined
  }
  if (!entry || (entry.notRelay && !entry.usage)) return null
  const ageMs = Meters.ageMs(entry, at)
  const u = entry.usage
  return {
    baseURL: safeURL(baseURL),
    installFingerprint: identity.fingerprint,
    fetchedAt: entry.fetchedAt ?? null,
    ageSec: Number.isFinite(ageMs) ? Math.round(ageMs / 1000) : null,
    fromCache: fromCache || entry.error !== undefined,
    error: entry.error ?? null,
    day: u?.day ?? null,
    resetsAt: u?.resetsAt ?? null,
    dayOver: u ? Date.parse(u.resetsAt) <= at : null,
    requests: u?.requests ?? null,
    spendUSD: u ? { used: usd(u.spendUSD.used)!, limit: usd(u.spendUSD.limit), remaining: usd(u.spendUSD.remaining) } : null,
    network: u?.network.requests ?? null,
    budgetLeft: u?.budgetLeft ?? null,
  }
}

const EMPTY: Relay = {
  baseURL: "",
  installFingerprint: null,
  fetchedAt: null,
  ageSec: null,
  fromCache: false,
  error: null,
  day: null,
  resetsAt: null,
  dayOver: null,
  requests: null,
  spendUSD: null,
  network: null,
  budgetLeft: null,
}

// The relay rounds money to a millionth of a dollar, so six decimals are exact.
function usd(n: number | null): string | null {
  return n === null ? null : n.toFixed(6)
}

async function readEntry(file: string, key: string): Promise<Entry | undefined> {
  const cache = await Meters.read(file).catch(() => undefined)
  return cache?.relay?.[key]
}

type Answer = { usage: Usage } | { notRelay: true } | { error: { code: string; message: string } }

async function refresh(provider: Provider.Info, identity: Identity.Active, baseURL: string, key: string, file: string, options: Reading): Promise<Entry> {
  const attemptedAt = new Date(options.now()).toISOString()
  const secrets = SecretSet.of([identity.token, ...Provider.secretsOf({ provider })])
  const answer: Answer = await ask(provider, identity.token, baseURL, options.fetch ?? fetch).catch((e: unknown) => ({
    error: { code: "network", message: `The relay could not be reached (${e instanceof Error ? e.message : String(e)}); check the network connection and opencode's baseURL.` },
  }))
  let result: Entry | undefined
  const merge = (previous: Entry | undefined): Entry => {
    const base = { installFingerprint: identity.fingerprint, baseURL: safeURL(baseURL), attemptedAt }
    if ("usage" in answer) return { ...base, fetchedAt: attemptedAt, usage: answer.usage }
    if ("notRelay" in answer) return { ...base, notRelay: true }
    const error = { at: attemptedAt, code: bounded(answer.error.code, 32), message: bounded(secrets.remove(answer.error.message), 300) || "failed" }
    return { ...base, ...(previous?.usage ? { fetchedAt: previous.fetchedAt, usage: previous.usage } : {}), error }
  }
  try {
    await Meters.update(file, (cache) => {
      const relay = (cache.relay ??= {})
      result = merge(relay[key])
      relay[key] = result
    })
  } catch {
    // Read but not cached: shown now, read again next time.
  }
  return result ?? merge(await readEntry(file, key))
}

async function ask(provider: Provider.Info, token: string, baseURL: string, fetchImpl: FetchLike): Promise<Answer> {
  const url = new URL(baseURL)
  url.pathname = url.pathname.replace(/\/+$/, "") + "/usage"
  const signal = AbortSignal.timeout(Meters.FETCH_TIMEOUT_MS)
  // What every chat request to this base URL already carries (opencode.json's headers, the token), and nothing else: no key.
  const response = await fetchImpl(url.toString(), {
    method: "GET",
    headers: { ...provider.headers, accept: "application/json", "user-agent": Installation.userAgent("cli"), [Identity.HEADER]: token },
    redirect: "manual",
    signal,
  })
  const { text, truncated } = response.body ? await readBounded(response.body, MAX_BODY_BYTES, signal) : { text: "", truncated: false }
  const parsed = truncated ? undefined : Json.parse(text)
  const value = parsed?.ok ? parsed.value : undefined
  if (response.status === 200) {
    const usage = Meters.RelayUsage.safeParse(value)
    if (usage.success) return { usage: usage.data }
    return { notRelay: true }
  }
  const type = errorType(value)
  if (response.status === 503 || type === "RelayUnavailableError")
    return { error: { code: "relay_unavailable", message: "The relay answered that it cannot count right now (HTTP 503); it says so while its Redis is down. Try again shortly." } }
  if (type === "InstallTokenError")
    return { error: { code: "install_token", message: "The relay did not accept this install's token; see `cli identity` (or turn the install identity back on)." } }
  if (response.status >= 500) return { error: { code: "http_error", message: `The relay answered HTTP ${response.status}; try again later.` } }
  // A 404, a 401 of a proxy that is not a relay, a redirect: this base URL serves no relay usage.
  return { notRelay: true }
}

function errorType(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined
  const error = (value as { error?: unknown }).error
  if (typeof error !== "object" || error === null) return undefined
  const type = (error as { type?: unknown }).type
  return typeof type === "string" ? type : undefined
}
