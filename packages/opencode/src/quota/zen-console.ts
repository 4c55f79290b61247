import { DEFAULT_ZEN_BASE_URL, cookieSecrets, microCentsToUSD, readZenUsage, type FetchLike } from "@pawwork/usage"
import type { Config } from "../config"
import type { Paths } from "../global"
import { fingerprint } from "../util/fingerprint"
import { safeURL } from "../util/redact"
import * as ReadFile from "../util/read-file"
import * as Meters from "./meters"
import type { Zen } from "./status-schema"

/**
 * The Zen part of `status`: balance, 30-day spend and the Go meters in money, read from OpenCode's
 * console API through @pawwork/usage (as `usage zen` reads them) with the credential named in
 * `pawwork.quota.console`, and cached beside the Go windows. Not configured: says so, reads nothing.
 */

/** A Cookie header is a few KiB at most. */
const MAX_COOKIE_BYTES = 64 * 1024

export interface Reading {
  env: Paths.Env
  now: () => number
  refreshFor: (entry: { fetchedAt?: string } | undefined) => boolean
  fetch?: FetchLike
}

export interface ConsoleMeter {
  name: Meters.WindowName
  usedUSD: string
  limitUSD: string
}

type Settings = NonNullable<Config.QuotaSettings["console"]>

const NOT_CONFIGURED: Zen = {
  configured: false,
  orgID: null,
  fetchedAt: null,
  ageSec: null,
  fromCache: false,
  error: null,
  balanceUSD: null,
  spend30dUSD: null,
  requests30d: null,
}

export async function status(settings: Settings | undefined, options: Reading): Promise<{ report: Zen; meters: ConsoleMeter[] | null }> {
  if (!settings || (!settings.apiKeyEnv && !settings.cookieFile && !settings.cookieEnv)) return { report: NOT_CONFIGURED, meters: null }
  const at = options.now()
  const iso = new Date(at).toISOString()
  const credential = await credentialOf(settings, options.env)
  if ("problem" in credential)
    return { report: { ...NOT_CONFIGURED, configured: true, error: { at: iso, code: "bad_config", message: credential.problem } }, meters: null }
  const baseURL = settings.baseURL ?? DEFAULT_ZEN_BASE_URL
  const file = Meters.filePath(options.env)
  const key = Meters.entryKey(credential.fingerprint, baseURL)
  let entry = (await Meters.read(file).catch(() => undefined))?.zen[key]
  let fromCache = true
  if (options.refreshFor(entry)) {
    entry = await refresh(settings, credential, baseURL, key, file, options)
    fromCache = entry.error !== undefined
  }
  const ageMs = Meters.ageMs(entry, at)
  const usd = (v: string | undefined) => (v === undefined ? null : microCentsToUSD(BigInt(v)))
  return {
    report: {
      configured: true,
      orgID: entry?.orgID ?? null,
      fetchedAt: entry?.fetchedAt ?? null,
      ageSec: Number.isFinite(ageMs) ? Math.round(ageMs / 1000) : null,
      fromCache,
      error: entry?.error ?? null,
      balanceUSD: usd(entry?.balanceMicroCents),
      spend30dUSD: usd(entry?.spend30dMicroCents),
      requests30d: entry?.spend30dRequests ?? null,
    },
    meters: entry?.goMeters ? entry.goMeters.map((m) => ({ name: m.name, usedUSD: microCentsToUSD(BigInt(m.usedMicroCents)), limitUSD: microCentsToUSD(BigInt(m.limitMicroCents)) })) : null,
  }
}

type Credential = { kind: "cookie" | "key"; value: string; fingerprint: string; secrets: string[] } | { problem: string }

async function credentialOf(settings: Settings, env: Paths.Env): Promise<Credential> {
  const found = (kind: "cookie" | "key", value: string): Credential => ({
    kind,
    value,
    fingerprint: fingerprint(value.trim()),
    secrets: kind === "cookie" ? [value, ...cookieSecrets(value)] : [value, value.trim()],
  })
  if (settings.apiKeyEnv) {
    const value = env[settings.apiKeyEnv]?.trim()
    return value ? found("key", value) : { problem: `pawwork.quota.console.apiKeyEnv names ${settings.apiKeyEnv}, which is not set or empty` }
  }
  if (settings.cookieFile) {
    try {
      const { text } = await ReadFile.readText(settings.cookieFile, { maxBytes: MAX_COOKIE_BYTES })
      return text.trim() ? found("cookie", text.trim()) : { problem: `the cookie file ${settings.cookieFile} (pawwork.quota.console.cookieFile) is empty` }
    } catch (error) {
      const problem = error instanceof ReadFile.FileReadError ? error.message : "cannot be read"
      return { problem: `pawwork.quota.console.cookieFile: ${problem.slice(0, 300)}` }
    }
  }
  const value = settings.cookieEnv ? env[settings.cookieEnv]?.trim() : undefined
  return value ? found("cookie", value) : { problem: `pawwork.quota.console.cookieEnv names ${settings.cookieEnv}, which is not set or empty` }
}

async function refresh(
  settings: Settings,
  credential: Extract<Credential, { kind: string }>,
  baseURL: string,
  key: string,
  file: string,
  options: Reading,
): Promise<Meters.ZenEntry> {
  const attemptedAt = new Date(options.now()).toISOString()
  let fresh: Partial<Meters.ZenEntry> | undefined
  let error: Meters.FetchError | undefined
  try {
    const usage = await readZenUsage({
      baseURL,
      ...(credential.kind === "key" ? { apiKey: credential.value } : { cookie: credential.value }),
      ...(settings.org ? { org: settings.org } : {}),
      now: options.now(),
      timeoutMs: Meters.FETCH_TIMEOUT_MS,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    const go = usage.go && usage.go.subscribed ? usage.go : null
    const meter = (name: Meters.WindowName, m: { usedMicroCents: bigint; limitMicroCents: bigint; resetsAt: string | null } | null) =>
      m ? [{ name, usedMicroCents: m.usedMicroCents.toString(), limitMicroCents: m.limitMicroCents.toString(), resetsAt: m.resetsAt }] : []
    fresh = {
      fetchedAt: attemptedAt,
      orgID: usage.org?.id ?? null,
      ...(usage.balance ? { balanceMicroCents: usage.balance.balanceMicroCents.toString() } : {}),
      ...(usage.spend30d ? { spend30dMicroCents: usage.spend30d.totalCostMicroCents.toString(), spend30dRequests: usage.spend30d.totalRequests } : {}),
      goMeters: go ? [...meter("5 hour", go.fiveHour), ...meter("weekly", go.week), ...meter("monthly", go.month)] : null,
    }
  } catch (e) {
    error = Meters.fetchError(e, attemptedAt, credential.secrets)
  }
  let result: Meters.ZenEntry | undefined
  const merge = (previous: Meters.ZenEntry | undefined): Meters.ZenEntry => {
    const { error: _dropped, ...kept } = previous ?? ({} as Partial<Meters.ZenEntry>)
    return {
      ...(fresh ? {} : kept),
      ...fresh,
      credentialFingerprint: credential.fingerprint,
      baseURL: safeURL(baseURL),
      attemptedAt,
      ...(error ? { error } : {}),
    } as Meters.ZenEntry
  }
  try {
    await Meters.update(file, (cache) => {
      result = merge(cache.zen[key])
      cache.zen[key] = result
    })
  } catch {
    // Read but not cached: shown now, read again next time.
  }
  return result ?? merge(undefined)
}
