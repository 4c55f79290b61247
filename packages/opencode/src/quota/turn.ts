import type { FetchLike } from "@pawwork/usage"
import type { Config } from "../config"
import type { Paths } from "../global"
import { Provider } from "../provider"
import { bounded } from "../util/scrub"
import type { Hooks } from "../session/processor"
import * as Alerts from "./alerts"
import * as Ledger from "./ledger"
import * as Meters from "./meters"
import * as Recorder from "./recorder"
import { DEFAULT_THRESHOLDS, crossed, isBlocked } from "./windows"
import * as Words from "./words"

/**
 * The quota side of one turn, as processor hooks: each finished attempt goes to the ledger (an
 * in-memory push, written in the background), and before a turn on OpenCode Go the cached meters
 * are checked against the thresholds and, when older than `cacheMaxAgeSec`, read again in the
 * background: the request never waits for any of it. Warnings go to `onWarning` (the CLI prints
 * them on stderr); `settled()` resolves when the background work of this turn is done.
 */

export interface Input {
  model: Provider.Resolved
  env: Paths.Env
  /** The clock the ledger and the windows are measured against (the simulator's in tests). */
  now?: () => number
  onWarning?: (text: string) => void
  /** opencode.json `pawwork.quota`. */
  settings?: Config.QuotaSettings
  /** Replaces the global fetch for the usage read (tests). */
  fetch?: FetchLike
}

export interface Turn extends Required<Pick<Hooks, "onTurnStart" | "onFailure" | "onSuccess">> {
  /** Resolves once the background checks of this turn (usage read, markers) are done. */
  settled(): Promise<void>
}

export function forTurn(input: Input): Turn {
  const now = input.now ?? Date.now
  const pending = new Set<Promise<void>>()
  const track = (work: Promise<void>) => {
    const done = work.catch(() => {}).finally(() => pending.delete(done))
    pending.add(done)
  }
  if (!input.model.provider.opencode) return { onTurnStart() {}, onFailure() {}, onSuccess() {}, settled: async () => {} }
  const { base, recorder: ledgerOf, watch } = prepared(input)
  const recorder = ledgerOf(now)
  const maxAgeMs = (input.settings?.cacheMaxAgeSec ?? Meters.DEFAULT_MAX_AGE_SEC) * 1000
  return {
    onTurnStart() {
      // Most turns find fresh meters with nothing new to say: decided here, without a promise.
      if (watch?.due(now(), maxAgeMs)) track(watch.beforeTurn(now, maxAgeMs, input))
    },
    onSuccess() {
      recorder.record({ ...base, at: now(), outcome: "answered" })
    },
    onFailure(failure) {
      const info = failure.info
      recorder.record({ ...base, at: now(), outcome: "failed", kind: info.kind, resetAt: info.resetAt, limitName: info.limitName })
      if (watch && info.kind === "go_usage_limit") track(watch.refused(info.limitName, info.resetAt, now()))
    },
    settled: async () => {
      while (pending.size) await Promise.all([...pending])
    },
  }
}

interface Prepared {
  env: Paths.Env
  thresholdsOff: boolean
  base: Pick<Ledger.Event, "providerID" | "modelID" | "authSource">
  recorder: (now: () => number) => Recorder.Recorder
  watch: GoWatch | undefined
}

// A session resolves its model once and runs many turns on it: what a turn needs from the model and
// the install is worked out on the first and kept with the model object.
const preparedByModel = new WeakMap<Provider.Resolved, Prepared>()

function prepared(input: Input): Prepared {
  const thresholdsOff = input.settings?.thresholds === false
  const found = preparedByModel.get(input.model)
  if (found && found.env === input.env && found.thresholdsOff === thresholdsOff) return found
  const { provider, model } = input.model
  const file = Ledger.filePath(input.env)
  const made: Prepared = {
    env: input.env,
    thresholdsOff,
    base: { providerID: bounded(provider.id, 128) || "unknown", modelID: bounded(model.id, 256) || "unknown", authSource: provider.credential.source },
    recorder: (now) => Recorder.forFile(file, { now }),
    watch: thresholdsOff ? undefined : goWatch(input),
  }
  preparedByModel.set(input.model, made)
  return made
}

/** Which Go meters a turn on this model watches: OpenCode Go with a real key. */
function goWatch(input: Input): GoWatch | undefined {
  const { provider } = input.model
  if (!provider.gateway || provider.id !== "opencode-go") return undefined
  const key = provider.credential.key
  const fingerprint = provider.credential.fingerprint
  if (!key || !fingerprint || provider.credential.source === "public" || provider.credential.source === "none") return undefined
  const quotaDir = Ledger.dir(input.env)
  const id = `${quotaDir}\u0000${Meters.entryKey(fingerprint, provider.baseURL)}`
  let found = watches.get(id)
  if (!found) watches.set(id, (found = new GoWatch(quotaDir, { key, keyFingerprint: fingerprint, baseURL: provider.baseURL, secrets: Provider.secretsOf(input.model) })))
  return found
}

// One watch per install and key per process: its memory of markers and of the last read is shared
// by every turn, so a steady stream of turns costs no file access until the meters are stale.
const watches = new Map<string, GoWatch>()

/** After a window's reset, a failed read of the new period is tried again at most this often. */
const RETRY_AFTER_RESET_MS = 60_000

class GoWatch {
  private entry: Meters.GoEntry | undefined
  private loaded: Promise<void> | undefined
  private refreshing: Promise<void> | undefined
  /** Markers known to exist (seen on disk or created here): never claimed twice. */
  private readonly said = new Set<string>()
  private readonly blocked = new Map<string, Alerts.Blocked>()
  private readonly alertsDir: string
  private readonly metersFile: string
  private loadedDone = false
  /** The entry whose windows were last checked against the thresholds. */
  private evaluated: Meters.GoEntry | undefined
  /** The earliest reset of a window that blocked: the "restored" notice is due then. */
  private nextRestore = Infinity
  /** The earliest reset among the cached windows: past it, the figures describe a period that is over. */
  private earliestReset = Infinity

  constructor(
    quotaDir: string,
    private readonly source: Meters.GoSource,
  ) {
    this.alertsDir = Alerts.dir(quotaDir)
    this.metersFile = Meters.fileIn(quotaDir)
  }

  /** Whether a turn starting now has anything to do: load, read again, say something new. */
  due(now: number, maxAgeMs: number): boolean {
    if (!this.loadedDone) return true
    if (this.refreshing) return false
    return this.evaluated !== this.entry || now >= this.nextRestore || this.needsRead(now, maxAgeMs)
  }

  /** Older than maxAge, or describing a window period that has ended; a failed read waits as long before the next try. */
  private needsRead(now: number, maxAgeMs: number) {
    const attempted = this.entry ? Date.parse(this.entry.attemptedAt) : NaN
    const since = Number.isFinite(attempted) ? now - attempted : Infinity
    if (this.earliestReset <= now && since >= Math.min(maxAgeMs, RETRY_AFTER_RESET_MS)) return true
    return Meters.ageMs(this.entry, now) >= maxAgeMs && since >= maxAgeMs
  }

  async beforeTurn(now: () => number, maxAgeMs: number, input: Input) {
    this.loaded ??= this.load(now())
    await this.loaded
    await this.restored(now(), input)
    await this.evaluate(now(), input)
    if (this.needsRead(now(), maxAgeMs)) {
      this.refreshing ??= this.refresh(now, input).finally(() => (this.refreshing = undefined))
    }
    await this.refreshing
  }

  /** The gateway refused on a Go window: remember it, for the "restored" notice after its reset. */
  async refused(limitName: string | null, resetAt: string | null, now: number) {
    const window = Meters.WindowName.safeParse(limitName)
    if (!window.success || !resetAt) return
    this.loaded ??= this.load(now)
    await this.loaded
    await this.markBlocked(window.data, resetAt)
  }

  private async load(now: number) {
    const [cache, scanned] = await Promise.all([Meters.read(this.metersFile).catch(() => undefined), Alerts.scan(this.alertsDir, now)])
    this.entry ??= cache?.go[Meters.entryKey(this.source.keyFingerprint, this.source.baseURL)]
    this.remember(scanned)
    this.loadedDone = true
  }

  private remember(scanned: { names: Set<string>; blocked: Alerts.Blocked[] }) {
    for (const name of scanned.names) this.said.add(name)
    for (const b of scanned.blocked) if (b.fingerprint === this.source.keyFingerprint) this.blocked.set(b.name, b)
  }

  private async refresh(now: () => number, input: Input) {
    this.entry = await Meters.refreshGo(this.source, { file: this.metersFile, now, ...(input.fetch ? { fetch: input.fetch } : {}) })
    // Other processes may have warned or seen a block meanwhile.
    this.remember(await Alerts.scan(this.alertsDir, now()))
    await this.restored(now(), input)
    await this.evaluate(now(), input)
  }

  /** One "restored" notice per blocked window whose reset has passed, across processes. */
  private async restored(now: number, input: Input) {
    this.nextRestore = Math.min(Infinity, ...[...this.blocked.values()].filter((b) => b.resetsAt > now).map((b) => b.resetsAt))
    for (const [name, b] of this.blocked) {
      if (b.resetsAt > now) continue
      this.blocked.delete(name)
      const restored = Alerts.restoredName(name)
      if (this.said.has(restored)) continue
      this.said.add(restored)
      if (await Alerts.claim(this.alertsDir, restored)) warn(input, Words.restoredNotice(b.window))
      await Alerts.remove(this.alertsDir, name)
    }
  }

  /** Thresholds crossed by the cached windows: the highest new one is said, the lower ones only marked. */
  private async evaluate(now: number, input: Input) {
    const thresholds = input.settings?.thresholds === undefined ? DEFAULT_THRESHOLDS : input.settings.thresholds || []
    const entry = this.entry
    this.evaluated = entry
    this.earliestReset = Math.min(Infinity, ...(entry?.windows ?? []).map((w) => Date.parse(w.resetsAt)))
    for (const w of entry?.windows ?? []) {
      if (Date.parse(w.resetsAt) <= now) continue
      if (isBlocked(w)) await this.markBlocked(w.name, w.resetsAt)
      const passed = crossed(w.percent, thresholds)
      const highest = passed.at(-1)
      if (highest === undefined) continue
      const name = Alerts.thresholdName(this.source.keyFingerprint, w.name, w.resetsAt, highest)
      if (this.said.has(name)) continue
      this.said.add(name)
      const ours = await Alerts.claim(this.alertsDir, name)
      for (const lower of passed.slice(0, -1)) {
        const other = Alerts.thresholdName(this.source.keyFingerprint, w.name, w.resetsAt, lower)
        if (this.said.has(other)) continue
        this.said.add(other)
        await Alerts.claim(this.alertsDir, other)
      }
      if (ours) warn(input, Words.thresholdWarning(w.name, w.percent, highest, w.resetsAt, now))
    }
  }

  private async markBlocked(window: Meters.WindowName, resetsAt: string) {
    const at = Date.parse(resetsAt)
    if (!Number.isFinite(at)) return
    const name = Alerts.blockedName(this.source.keyFingerprint, window, at)
    if (this.blocked.has(name) || this.said.has(Alerts.restoredName(name))) return
    this.blocked.set(name, { name, fingerprint: this.source.keyFingerprint, window, resetsAt: at })
    this.nextRestore = Math.min(this.nextRestore, at)
    this.said.add(name)
    await Alerts.claim(this.alertsDir, name, new Date(at).toISOString())
  }
}

function warn(input: Input, text: string) {
  try {
    input.onWarning?.(text)
  } catch {}
}
