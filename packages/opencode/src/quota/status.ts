import type { FetchLike } from "@pawwork/usage"
import { Config } from "../config"
import type { Paths } from "../global"
import { Provider } from "../provider"
import { safeURL } from "../util/redact"
import * as Ledger from "./ledger"
import * as Meters from "./meters"
import * as Relay from "./relay"
import * as ZenConsole from "./zen-console"
import { SCHEMA_VERSION, type Free, type Go, type Key, type StatusReport, type Zen } from "./status-schema"
import { LABEL, blocking, pace } from "./windows"
import * as Words from "./words"

/**
 * What `status` reports, built from the ledger, the meter cache and (when stale or asked) the Go
 * usage API and the Zen console. Every remote figure comes with its age; a failed read shows the
 * last figure and the failure, never a blank. Nothing here prints: see status-render.ts.
 */

export interface Options {
  env: Paths.Env
  now?: () => number
  /** Read remote figures now, whatever their age. */
  refresh?: boolean
  fetch?: FetchLike
}

const DAY_MS = 86_400_000

export async function build(options: Options): Promise<StatusReport> {
  const now = options.now ?? Date.now
  const at = now()
  const [{ info: config }, providers] = await Promise.all([Config.load(options.env), Provider.list(options.env)])
  const settings = config.pawwork?.quota
  const maxAgeMs = (settings?.cacheMaxAgeSec ?? Meters.DEFAULT_MAX_AGE_SEC) * 1000
  const ledgerFile = Ledger.filePath(options.env)
  // Unreadable (a directory or a FIFO in its place, permissions): said, and the rest still answers.
  const { ledger, damaged, unreadable } = await Ledger.read(ledgerFile).then(
    (r): Ledger.ReadResult & { unreadable?: string } => r,
    (error: Error): Ledger.ReadResult & { unreadable?: string } => ({ ledger: Ledger.empty(), unreadable: error.message }),
  )
  const zenProvider = providers["opencode"]
  const goProvider = providers["opencode-go"]
  const keys = [zenProvider, goProvider].filter((p): p is Provider.Info => !!p).map(keyOf)
  const notes: string[] = []
  // A failed read waits as long as a figure is kept before the next try (as the pre-turn check does):
  // a usage API that hangs then costs one timeout per cacheMaxAgeSec, not one per status (a bar's poll).
  const refreshFor = (entry: { fetchedAt?: string; attemptedAt?: string } | undefined) =>
    options.refresh === true || (Meters.ageMs(entry, at) >= maxAgeMs && Meters.ageMs({ fetchedAt: entry?.attemptedAt }, at) >= maxAgeMs)

  const goSource = goKey(zenProvider, goProvider)
  // Both remote reads at once: each has its own timeout, and a slow one must not add to the other.
  const [go, zen, relay] = await Promise.all([
    goStatus(goSource, ledger, { ...options, now, refreshFor }),
    ZenConsole.status(settings?.console, { ...options, now, refreshFor }),
    Relay.status(zenProvider, { ...options, config, now, refreshFor }),
  ])
  // The console's dollars go beside the Go windows only when they are the same subscription's: the
  // console's org is the key's workspace, or (org_ and wrk_ ids do not compare) every meter agrees
  // with its window's percent.
  const meters = zen.meters
  if (meters && go.windows.length) {
    const sameOrg = zen.report.orgID !== null && zen.report.orgID === go.workspaceID
    const agree = go.windows.every((w) => {
      const m = meters.find((x) => x.name === w.name)
      return !m || Math.abs((Number(m.usedUSD) / Number(m.limitUSD)) * 100 - w.percent) <= 2
    })
    if (sameOrg || agree)
      for (const w of go.windows) {
        const m = meters.find((x) => x.name === w.name)
        if (m) Object.assign(w, { usedUSD: m.usedUSD, limitUSD: m.limitUSD })
      }
  }
  notes.push(...findings(zenProvider, goProvider, goSource, go, at, relay !== null))
  if (relay?.requests)
    notes.push(
      `opencode points at a PawWork relay (${relay.baseURL}): its requests count against this install's allowance there (above), not against the gateway's free allowance of your network.`,
    )
  if (damaged) notes.push(`The quota ledger (${ledgerFile}) could not be read (${damaged}); it is replaced on the next request, so today's counts start again.`)
  if (unreadable) notes.push(`The quota ledger cannot be read: ${unreadable} Requests are not counted until it is fixed; nothing else is affected.`)
  for (const note of ledger.notes) notes.push(`${note.at}: ${note.text}`)
  return {
    schemaVersion: SCHEMA_VERSION,
    generatedAt: new Date(at).toISOString(),
    keys,
    free: freeStatus(zenProvider, ledger, at),
    go,
    zen: zen.report,
    relay,
    notes,
    ledger: { file: ledgerFile, damaged: damaged ?? unreadable ?? null },
  }
}

function keyOf(p: Provider.Info): Key {
  const c = p.credential
  const fp = c.fingerprint ?? null
  const summary = (() => {
    switch (c.source) {
      case "public":
        return p.id === "opencode-go"
          ? "no key: Go models need a key with OpenCode Go (`auth set opencode-go`)"
          : "anonymous (no key): free models only, on the free allowance shared by your network"
      case "auth":
        return `saved key ${fp} (auth.json)`
      case "env":
        return `key ${fp} from the environment variable ${c.envVar ?? "?"}`
      case "config":
        return `key ${fp} from opencode.json (provider.${p.id}.options.apiKey)`
      case "none":
        return "no key"
    }
  })()
  return { providerID: p.id, name: p.name, authSource: c.source, authEnvVar: c.envVar ?? null, keyFingerprint: fp, baseURL: safeURL(p.baseURL), summary }
}

function freeStatus(zen: Provider.Info | undefined, ledger: Ledger.File, at: number): Free {
  const day = Ledger.utcDay(at)
  const today = { day, sent: 0, answered: 0, failed: {} as Record<string, number> }
  for (const row of Object.values(ledger.days[day] ?? {})) {
    if (row.providerID !== "opencode" || row.authSource !== "public") continue
    today.sent += row.sent
    today.answered += row.answered
    for (const [kind, n] of Object.entries(row.failed)) today.failed[kind] = (today.failed[kind] ?? 0) + n
  }
  const refusal = ledger.lastRefusals[Ledger.refusalKey("opencode", "public", "free_usage_limit")]
  const gated = [ledger.lastRefusals[Ledger.refusalKey("opencode", "public", "free_tier_gated")], ledger.lastRefusals[Ledger.refusalKey("opencode", "public", "client_outdated")]]
    .filter((r): r is Ledger.Refusal => !!r)
    .sort((a, b) => (a.at < b.at ? 1 : -1))[0]
  const answered = ledger.lastAnswered[Ledger.answeredKey("opencode", "public")]
  const refusedLast = gated && (!answered || gated.at > answered.at)
  return {
    providerID: "opencode",
    inUse: zen?.credential.source === "public",
    today,
    allowance: { limit: null, scope: "network_per_utc_day", note: Words.FREE_ALLOWANCE },
    dayResetsAt: new Date((Math.floor(at / DAY_MS) + 1) * DAY_MS).toISOString(),
    lastRefusal: refusal ? { at: refusal.at, resetAt: refusal.resetAt, limitedNow: refusal.resetAt !== null && Date.parse(refusal.resetAt) > at } : null,
    gate: {
      state: refusedLast ? "refused" : answered ? "served" : "unknown",
      kind: refusedLast ? (gated.kind as "free_tier_gated" | "client_outdated") : null,
      refusedAt: gated?.at ?? null,
      lastAnsweredAt: answered?.at ?? null,
    },
  }
}

interface GoSource extends Meters.GoSource {
  providerID: string
  authSource: Provider.AuthSource
  /** The key is opencode's, tried on the Go API because opencode-go has none. */
  borrowed: boolean
}

/**
 * The key whose Go windows to show: opencode-go's own, else (as `usage go` does) opencode's, since
 * Go keys are OpenCode keys; opencode's key only goes where opencode already sends it (same origin),
 * never to a relay configured for opencode-go.
 */
function goKey(zen: Provider.Info | undefined, go: Provider.Info | undefined): GoSource | undefined {
  const real = (p: Provider.Info | undefined) => p && p.credential.key && p.credential.fingerprint && p.credential.source !== "public" && p.credential.source !== "none"
  // secretsOf reads only the provider: its key, base URL credentials and header values.
  const secrets = (p: Provider.Info) => Provider.secretsOf({ provider: p } as Provider.Selection)
  if (go && real(go))
    return { providerID: go.id, authSource: go.credential.source, key: go.credential.key!, keyFingerprint: go.credential.fingerprint!, baseURL: go.baseURL, borrowed: false, secrets: secrets(go) }
  if (go && zen && real(zen) && origin(zen.baseURL) === origin(go.baseURL))
    return {
      providerID: zen.id,
      authSource: zen.credential.source,
      key: zen.credential.key!,
      keyFingerprint: zen.credential.fingerprint!,
      baseURL: go.baseURL,
      borrowed: true,
      secrets: [...secrets(zen), ...secrets(go)],
    }
  return undefined
}

function origin(url: string) {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

interface Reading {
  now: () => number
  refreshFor: (entry: { fetchedAt?: string } | undefined) => boolean
  env: Paths.Env
  fetch?: FetchLike
}

async function goStatus(source: GoSource | undefined, ledger: Ledger.File, options: Reading): Promise<Go> {
  const at = options.now()
  const refusal = source
    ? ledger.lastRefusals[Ledger.refusalKey("opencode-go", source.borrowed ? "public" : source.authSource, "go_usage_limit")] ??
      Object.values(ledger.lastRefusals).find((r) => r.providerID === "opencode-go" && r.kind === "go_usage_limit")
    : Object.values(ledger.lastRefusals).find((r) => r.providerID === "opencode-go" && r.kind === "go_usage_limit")
  const lastRefusal = refusal ? { at: refusal.at, resetAt: refusal.resetAt, limitName: refusal.limitName } : null
  if (!source)
    return { configured: false, key: null, workspaceID: null, subscribed: null, fetchedAt: null, ageSec: null, fromCache: false, error: null, windows: [], blocking: null, lastRefusal }
  const file = Meters.filePath(options.env)
  const cached = (await Meters.read(file).catch(() => undefined))?.go[Meters.entryKey(source.keyFingerprint, source.baseURL)]
  let entry = cached
  let fromCache = true
  if (options.refreshFor(cached)) {
    entry = await Meters.refreshGo(source, { file, now: options.now, ...(options.fetch ? { fetch: options.fetch } : {}) })
    fromCache = entry.error !== undefined
  }
  const windows = (entry?.windows ?? []).map((w) => {
    const p = pace(w, at)
    return {
      name: w.name,
      percent: w.percent,
      status: w.status,
      resetsAt: w.resetsAt,
      usedUSD: null,
      limitUSD: null,
      blocking: false,
      pace: p
        ? {
            runsOutAt: p.runsOutAt === null ? null : new Date(p.runsOutAt).toISOString(),
            beforeResetSec: p.beforeResetMs === null ? null : Math.round(p.beforeResetMs / 1000),
            atResetPercent: p.atResetPercent,
            text: Words.paceLine(w.name, p),
          }
        : null,
    }
  })
  const blocked = blocking(windows, at)
  if (blocked) blocked.blocking = true
  // Kept until a read succeeds: the windows shown are then the last ones read, and this says why.
  const error = entry?.error ?? null
  const ageMs = Meters.ageMs(entry, at)
  return {
    configured: true,
    key: { providerID: source.providerID, authSource: source.authSource, keyFingerprint: source.keyFingerprint },
    workspaceID: entry?.workspaceID ?? null,
    subscribed: error?.code === "not_subscribed" ? false : entry?.windows?.length ? true : null,
    fetchedAt: entry?.fetchedAt ?? null,
    ageSec: Number.isFinite(ageMs) ? Math.round(ageMs / 1000) : null,
    fromCache: fromCache || error !== null,
    error,
    windows,
    blocking: blocked?.name ?? null,
    lastRefusal,
  }
}

/** The "I subscribed but still see Free usage exceeded" answers: which key goes where. */
function findings(zen: Provider.Info | undefined, go: Provider.Info | undefined, source: GoSource | undefined, status: Go, at: number, viaRelay: boolean): string[] {
  const out: string[] = []
  const subscribed = status.subscribed === true
  if (source && subscribed && source.borrowed)
    out.push(
      `The key opencode uses (${source.keyFingerprint}) has an OpenCode Go subscription, but opencode-go has no key of its own. Requests through the opencode (Zen) provider are billed to the Zen balance, not to Go: to spend the subscription, save the key for Go too (\`auth set opencode-go\`) and pick an opencode-go/… model.`,
    )
  else if (source && subscribed && zen?.credential.fingerprint === source.keyFingerprint)
    out.push(
      `The same key (${source.keyFingerprint}) is used by opencode and opencode-go: it has an OpenCode Go subscription, which only opencode-go/… models spend; opencode/… models through the Zen provider are billed to the Zen balance.`,
    )
  // Through a relay, opencode's anonymous requests are the relay's to count, not the gateway's free allowance.
  if (zen?.credential.source === "public" && source && !source.borrowed && !viaRelay)
    out.push(
      `opencode/… models go out anonymously (no key for opencode) and count against the free allowance of your network: "Free usage exceeded" there says nothing about your Go subscription, which only opencode-go/… models use (key ${source.keyFingerprint}).`,
    )
  if (status.subscribed === false && source)
    out.push(`The key ${source.keyFingerprint} has no OpenCode Go subscription (the gateway answered EntitlementError), so opencode-go/… models are billed to the Zen balance or refused.`)
  if (status.blocking) {
    const w = status.windows.find((x) => x.blocking)
    if (w) out.push(`The OpenCode Go ${LABEL[w.name]} window is used up and blocks Go requests until it resets ${Words.when(w.resetsAt, at)}.`)
  }
  if (!go) out.push("No opencode-go provider is configured.")
  return out
}
