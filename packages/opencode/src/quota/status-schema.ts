import { z } from "zod"
import { WindowName } from "./meters"

/**
 * `status --json`, version 1: a stable schema. Fields are only ever added (optional or with a
 * default meaning); a change to what a field means bumps `schemaVersion`. Money is a decimal
 * string of US dollars, exact (2 to 8 decimals, from the console's micro-cents), never a float. Times are ISO 8601
 * UTC. See docs/status.md for every field.
 */

export const SCHEMA_VERSION = 1

const iso = z.iso.datetime()
const int = z.number().int().min(0)
const usd = z.string().regex(/^-?\d+\.\d{2,8}$/)

export const AuthSource = z.enum(["config", "auth", "env", "public", "none"])

export const Key = z.object({
  providerID: z.string(),
  name: z.string(),
  authSource: AuthSource,
  /** The variable the key comes from, when authSource is `env`. */
  authEnvVar: z.string().nullable(),
  /** The key's fingerprint (never the key); null for the anonymous `public` and for no key. */
  keyFingerprint: z.string().nullable(),
  baseURL: z.string(),
  /** Where the key comes from and what it gets, in words. */
  summary: z.string(),
})
export type Key = z.infer<typeof Key>

export const FetchError = z.object({ at: iso, code: z.string(), message: z.string() })

export const Free = z.object({
  providerID: z.literal("opencode"),
  /** Whether `opencode` requests go out anonymously now (no key configured). */
  inUse: z.boolean(),
  /** This install's anonymous requests on the current UTC day, from the ledger. */
  today: z.object({ day: z.string(), sent: int, answered: int, failed: z.record(z.string(), int) }),
  /** OpenCode publishes no figure: `limit` is always null and the scope is the network, not the install. */
  allowance: z.object({ limit: z.null(), scope: z.literal("network_per_utc_day"), note: z.string() }),
  /** The next UTC midnight, when the daily allowance starts again. */
  dayResetsAt: iso,
  /** The latest `free_usage_limit` refusal; `limitedNow` while its reset is ahead. */
  lastRefusal: z.object({ at: iso, resetAt: iso.nullable(), limitedNow: z.boolean() }).nullable(),
  /**
   * Whether the gateway serves this client's anonymous requests: `refused` when the latest
   * free_tier_gated or client_outdated refusal came after the latest answer, `served` when an answer
   * came last, `unknown` when neither is in the ledger.
   */
  gate: z.object({
    state: z.enum(["served", "refused", "unknown"]),
    kind: z.enum(["free_tier_gated", "client_outdated"]).nullable(),
    refusedAt: iso.nullable(),
    lastAnsweredAt: iso.nullable(),
  }),
})
export type Free = z.infer<typeof Free>

export const GoWindow = z.object({
  name: WindowName,
  percent: z.number().min(0),
  status: z.string(),
  resetsAt: iso,
  /** From the console's Go meters, when `pawwork.quota.console` is configured; else null. */
  usedUSD: usd.nullable(),
  limitUSD: usd.nullable(),
  /** This is the window the gateway refuses on now (the first spent one in its check order). */
  blocking: z.boolean(),
  pace: z
    .object({ runsOutAt: iso.nullable(), beforeResetSec: int.nullable(), atResetPercent: z.number().min(0).max(100), text: z.string() })
    .nullable(),
})
export type GoWindow = z.infer<typeof GoWindow>

export const Go = z.object({
  /** A key to read the Go windows with was found. */
  configured: z.boolean(),
  key: z.object({ providerID: z.string(), authSource: AuthSource, keyFingerprint: z.string() }).nullable(),
  /** The workspace the usage API named for this key (`wrk_…`), once read. */
  workspaceID: z.string().nullable(),
  /** false: the gateway says this key's workspace has no Go subscription; null: not known. */
  subscribed: z.boolean().nullable(),
  /** When the windows shown were read, and how long ago (null: never read). */
  fetchedAt: iso.nullable(),
  ageSec: int.nullable(),
  /** The windows were not read just now (fresh enough, or the read failed). */
  fromCache: z.boolean(),
  /** The latest read failed: the windows shown (if any) are the last ones read. */
  error: FetchError.nullable(),
  windows: z.array(GoWindow),
  blocking: WindowName.nullable(),
  lastRefusal: z.object({ at: iso, resetAt: iso.nullable(), limitName: z.string().nullable() }).nullable(),
})
export type Go = z.infer<typeof Go>

export const Zen = z.object({
  /** `pawwork.quota.console` is set in opencode.json. */
  configured: z.boolean(),
  orgID: z.string().nullable(),
  fetchedAt: iso.nullable(),
  ageSec: int.nullable(),
  fromCache: z.boolean(),
  error: FetchError.nullable(),
  balanceUSD: usd.nullable(),
  spend30dUSD: usd.nullable(),
  requests30d: int.nullable(),
})
export type Zen = z.infer<typeof Zen>

const RelayCount = z.object({ used: z.number().min(0), limit: z.number().min(0).nullable(), remaining: z.number().min(0).nullable() })

/**
 * The PawWork relay the opencode provider points at (its `GET /v1/usage` for this install), or null
 * when opencode goes to OpenCode's gateway or its base URL did not answer as a relay.
 */
export const Relay = z.object({
  baseURL: z.string(),
  /** The install whose figures these are (its fingerprint); null when the identity is off. */
  installFingerprint: z.string().nullable(),
  fetchedAt: iso.nullable(),
  ageSec: int.nullable(),
  fromCache: z.boolean(),
  error: FetchError.nullable(),
  /** The relay's UTC day the figures are for, and when it ends (the allowances start again). */
  day: z.string().nullable(),
  resetsAt: iso.nullable(),
  /** That day has ended since the figures were read: they are spent history, the allowance is whole again. */
  dayOver: z.boolean().nullable(),
  /** This install's requests today: used, the limit (null: none), what is left. */
  requests: RelayCount.nullable(),
  /** This install's reported spend today, in dollars. */
  spendUSD: z.object({ used: usd, limit: usd.nullable(), remaining: usd.nullable() }).nullable(),
  /** Every install's requests from this network (client address) today, which the relay also caps. */
  network: RelayCount.nullable(),
  /** false: the relay's budget for everyone is spent for today. */
  budgetLeft: z.boolean().nullable(),
})
export type Relay = z.infer<typeof Relay>

export const StatusReport = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  generatedAt: iso,
  keys: z.array(Key),
  free: Free,
  go: Go,
  zen: Zen,
  relay: Relay.nullable(),
  /** Plain findings, most important first (a subscription used through the wrong provider, a damaged ledger, ...). */
  notes: z.array(z.string()),
  ledger: z.object({ file: z.string(), damaged: z.string().nullable() }),
})
export type StatusReport = z.infer<typeof StatusReport>

/** Waybar's custom-module JSON (`return-type: json`). */
export const Waybar = z.object({
  text: z.string(),
  tooltip: z.string(),
  class: z.enum(["ok", "warning", "critical", "blocked", "unknown"]),
  percentage: z.number().int().min(0).max(100),
})
export type Waybar = z.infer<typeof Waybar>
