import fs from "node:fs/promises"
import path from "node:path"
import { z } from "zod"
import { SecretSet } from "@pawwork/secrets"
import { fetchGoUsage, isUsageError, type FetchLike } from "@pawwork/usage"
import { Paths } from "../global"
import * as AtomicFile from "../util/atomic-file"
import * as ReadFile from "../util/read-file"
import { withLock } from "../util/file-lock"
import { bounded } from "../util/scrub"
import { safeURL } from "../util/redact"
import * as Ledger from "./ledger"

/**
 * Remote usage figures cached on disk (`<data>/quota/meters.json`, 0600): the Go windows from
 * `GET <Go base>/usage`, and the Zen console's balance and 30-day spend. Each entry is keyed by
 * the key's fingerprint and the base URL it was read from, so one key's figures are never shown
 * for another. A failed fetch keeps the last figures and records the failure beside them: the
 * caller shows the old figure with its age, never a blank.
 */

export const FILE_NAME = "meters.json"
export const MAX_BYTES = 256 * 1024
const MAX_ENTRIES = 8
/** A usage read that takes longer is given up on: the figure is a nicety, never worth a hang. */
export const FETCH_TIMEOUT_MS = 5_000
/** Default `pawwork.quota.cacheMaxAgeSec`. */
export const DEFAULT_MAX_AGE_SEC = 120

export const WINDOW_NAMES = ["5 hour", "weekly", "monthly"] as const
export const WindowName = z.enum(WINDOW_NAMES)
export type WindowName = z.infer<typeof WindowName>

const time = z.iso.datetime()
const microCents = z.string().regex(/^-?\d{1,30}$/)

export const GoWindow = z.object({
  name: WindowName,
  /** 0-100 as the usage API reports it (rounded down). */
  percent: z.number().min(0).max(1000),
  /** "ok" or "rate-limited" upstream; other strings kept as they came. */
  status: z.string().max(32),
  resetsAt: time,
})
export type GoWindow = z.infer<typeof GoWindow>

export const FetchError = z.object({ at: time, code: z.string().max(32), message: z.string().max(300) })
export type FetchError = z.infer<typeof FetchError>

export const GoEntry = z.object({
  keyFingerprint: z.string().max(32),
  baseURL: z.string().max(512),
  /** When the windows were read; absent until one read succeeded. */
  fetchedAt: time.optional(),
  workspaceID: z.string().max(64).nullable().optional(),
  windows: z.array(GoWindow).max(3).optional(),
  /** The last read that failed, kept until one succeeds. */
  error: FetchError.optional(),
  attemptedAt: time,
})
export type GoEntry = z.infer<typeof GoEntry>

export const ZenEntry = z.object({
  /** Which console credential: a fingerprint of the cookie or service key. */
  credentialFingerprint: z.string().max(32),
  baseURL: z.string().max(512),
  fetchedAt: time.optional(),
  orgID: z.string().max(80).nullable().optional(),
  balanceMicroCents: microCents.optional(),
  spend30dMicroCents: microCents.optional(),
  spend30dRequests: z.number().int().min(0).optional(),
  /** Go meters in money, from the console (null: no Go subscription in the org). */
  goMeters: z
    .array(z.object({ name: WindowName, usedMicroCents: microCents, limitMicroCents: microCents, resetsAt: time.nullable() }))
    .max(3)
    .nullable()
    .optional(),
  error: FetchError.optional(),
  attemptedAt: time,
})
export type ZenEntry = z.infer<typeof ZenEntry>

const count = z.number().finite().min(0).max(1e15)
const RelayAllowance = z.object({ used: count, limit: count.nullable(), remaining: count.nullable() })

/** What is kept of a PawWork relay's `GET /v1/usage` (packages/relay/src/server.ts usageBody): this install's day there. */
export const RelayUsage = z.object({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  resetsAt: time,
  requests: RelayAllowance,
  spendUSD: RelayAllowance,
  network: z.object({ requests: RelayAllowance }),
  budgetLeft: z.boolean(),
})
export type RelayUsage = z.infer<typeof RelayUsage>

export const RelayEntry = z.object({
  installFingerprint: z.string().max(32),
  baseURL: z.string().max(512),
  /** The base URL answered as something other than a relay (a 404 and the like): nothing to show. */
  notRelay: z.boolean().optional(),
  fetchedAt: time.optional(),
  usage: RelayUsage.optional(),
  error: FetchError.optional(),
  attemptedAt: time,
})
export type RelayEntry = z.infer<typeof RelayEntry>

export const CacheFile = z
  .object({
    version: z.literal(1),
    go: z.record(z.string().max(600), GoEntry),
    zen: z.record(z.string().max(600), ZenEntry),
    // Added after version 1 was out: a file without it is still version 1.
    relay: z.record(z.string().max(600), RelayEntry).optional(),
  })
  .passthrough()
export type CacheFile = z.infer<typeof CacheFile>

export function filePath(env: Paths.Env = process.env) {
  return fileIn(Ledger.dir(env))
}

export function fileIn(quotaDir: string) {
  return path.join(quotaDir, FILE_NAME)
}

export const entryKey = (fingerprint: string, baseURL: string) => `${fingerprint} ${safeURL(baseURL)}`

/** The cache as it is on disk; missing or damaged is empty (the next write replaces a damaged one). */
export async function read(file: string): Promise<CacheFile> {
  try {
    const { text } = await ReadFile.readText(file, { maxBytes: MAX_BYTES })
    const parsed = CacheFile.safeParse(JSON.parse(text))
    if (parsed.success) return parsed.data
  } catch (error) {
    if (error instanceof ReadFile.FileReadError && error.reason !== "missing" && error.reason !== "too_large") throw error
  }
  return { version: 1, go: {}, zen: {} }
}

/** Read-modify-write under the cache's lock, so two processes refreshing at once keep both answers. */
export async function update(file: string, change: (cache: CacheFile) => void) {
  await Ledger.ensureDir(path.dirname(file))
  await withLock(
    `${file}.lock`,
    async () => {
      const cache = await read(file)
      change(cache)
      for (const part of [cache.go, cache.zen, cache.relay ?? {}] as Record<string, { attemptedAt: string }>[]) {
        const entries = Object.entries(part)
        if (entries.length <= MAX_ENTRIES) continue
        entries.sort((a, b) => (a[1].attemptedAt < b[1].attemptedAt ? 1 : -1))
        for (const [key] of entries.slice(MAX_ENTRIES)) delete part[key]
      }
      await AtomicFile.write(file, JSON.stringify(cache) + "\n")
    },
    { waitMs: Ledger.LOCK_WAIT_MS },
  )
}

/** How old a cached figure is, or Infinity when there is none. */
export function ageMs(entry: { fetchedAt?: string } | undefined, now: number) {
  const at = entry?.fetchedAt ? Date.parse(entry.fetchedAt) : NaN
  return Number.isFinite(at) ? Math.max(0, now - at) : Infinity
}

export interface GoSource {
  key: string
  keyFingerprint: string
  baseURL: string
  /** Everything secret the read carries besides the key (base URL credentials, header values), kept out of stored errors. */
  secrets?: readonly string[]
}

export interface RefreshOptions {
  /** The cache file (filePath(env)). */
  file: string
  now: () => number
  fetch?: FetchLike
  timeoutMs?: number
}

/**
 * Reads the Go windows for `source` and caches them. Never throws for a failed read: the entry
 * comes back with the previous windows (if any) and `error` set. A cache that cannot be written
 * still returns what was read.
 */
export async function refreshGo(source: GoSource, options: RefreshOptions): Promise<GoEntry> {
  const file = options.file
  const key = entryKey(source.keyFingerprint, source.baseURL)
  const attemptedAt = new Date(options.now()).toISOString()
  let fresh: Pick<GoEntry, "fetchedAt" | "workspaceID" | "windows"> | undefined
  let error: FetchError | undefined
  try {
    const usage = await fetchGoUsage({
      baseURL: source.baseURL,
      apiKey: source.key,
      now: options.now(),
      timeoutMs: options.timeoutMs ?? FETCH_TIMEOUT_MS,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    })
    fresh = {
      fetchedAt: attemptedAt,
      workspaceID: usage.workspaceID === null ? null : bounded(usage.workspaceID, 64),
      windows: [
        { name: "5 hour", ...windowOf(usage.rolling) },
        { name: "weekly", ...windowOf(usage.weekly) },
        { name: "monthly", ...windowOf(usage.monthly) },
      ],
    }
  } catch (e) {
    error = fetchError(e, attemptedAt, [source.key, ...(source.secrets ?? [])])
  }
  let result: GoEntry | undefined
  const merge = (previous: GoEntry | undefined): GoEntry => ({
    keyFingerprint: source.keyFingerprint,
    baseURL: safeURL(source.baseURL),
    attemptedAt,
    ...(fresh ?? { fetchedAt: previous?.fetchedAt, workspaceID: previous?.workspaceID, windows: previous?.windows }),
    ...(error ? { error } : {}),
  })
  try {
    await update(file, (cache) => {
      result = merge(cache.go[key])
      cache.go[key] = result
    })
  } catch {
    // The figure was read; only caching it failed. Shown now, fetched again next time.
  }
  return result ?? merge((await read(file).catch(() => undefined))?.go[key])
}

function windowOf(w: { percent: number; status: string; resetsAt: string }) {
  return { percent: Math.max(0, Math.min(1000, w.percent)), status: bounded(w.status, 32) || "unknown", resetsAt: new Date(Date.parse(w.resetsAt)).toISOString() }
}

/** A failed read as it is stored and shown: a stable code and a short scrubbed message. */
export function fetchError(e: unknown, at: string, secrets: (string | undefined)[]): FetchError {
  const set = SecretSet.of(secrets)
  const code = isUsageError(e) ? e.code : "network"
  const raw = e instanceof Error ? e.message : String(e)
  return { at, code: bounded(code, 32), message: bounded(set.remove(raw), 300) || "failed" }
}
