import { createHash } from "node:crypto"
import type { Limits } from "./config"
import { dayOf } from "./day"

/**
 * What one request asks of the allowances, and what the stores answer. The Redis script
 * (redis-script.ts) and the in-memory fallback (memory-store.ts) take the same `Ask` and give the
 * same `Verdict`, so the policy is written twice but decided once per request, atomically.
 */

/** The allowances a request can run out, in the order they are checked (the first that is spent refuses). */
export const SCOPES = ["global", "ip", "new-install", "install", "concurrency"] as const
export type Scope = (typeof SCOPES)[number]

export interface Keys {
  installRequests: string
  installSpend: string
  ipRequests: string
  ipNewInstalls: string
  globalRequests: string
  globalSpend: string
  /** Not daily: the install's requests in flight, each with its own expiry. */
  concurrency: string
}

export interface Ask {
  keys: Keys
  now: number
  /** Epoch ms when the daily keys go (the reset plus a grace for clock skew between instances). */
  expireAt: number
  /** This request's slot in the concurrency set. */
  requestID: string
  /** When the slot frees itself if nobody releases it (a relay killed mid-stream). */
  slotExpireAt: number
  limits: Limits
}

export interface Usage {
  installRequests: number
  installSpendUSD: number
  ipRequests: number
  ipNewInstalls: number
  globalRequests: number
  globalSpendUSD: number
  concurrent: number
}

export type Verdict =
  | { ok: true; usage: Usage }
  | { ok: false; scope: Scope; limitName: "requests" | "spend" | "installs" | "streams"; limit: number; used: number }

export interface Release {
  keys: Keys
  requestID: string
  expireAt: number
  /** Reported cost minus what was reserved up front (may be negative, or 0 when nothing was reported). */
  spendAdjustUSD: number
}

// Keys outlive the reset by this much: the day is in their name, so they no longer count, and a
// relay whose clock runs a little behind does not recreate a key Redis has just dropped.
export const EXPIRY_GRACE_MS = 5 * 60_000

export function keysFor(prefix: string, day: string, installToken: string, ipKey: string): Keys {
  const install = hashed(installToken)
  const ip = hashed(ipKey)
  const d = `${prefix}d:${day}:`
  return {
    installRequests: `${d}i:${install}:req`,
    installSpend: `${d}i:${install}:usd`,
    ipRequests: `${d}a:${ip}:req`,
    ipNewInstalls: `${d}a:${ip}:new`,
    globalRequests: `${d}g:req`,
    globalSpend: `${d}g:usd`,
    concurrency: `${prefix}c:${install}`,
  }
}

export function ask(options: {
  prefix: string
  installToken: string
  ipKey: string
  now: number
  requestID: string
  slotLifetimeMs: number
  limits: Limits
}): Ask {
  const day = dayOf(options.now)
  return {
    keys: keysFor(options.prefix, day.name, options.installToken, options.ipKey),
    now: options.now,
    expireAt: day.resetAt + EXPIRY_GRACE_MS,
    requestID: options.requestID,
    slotExpireAt: options.now + options.slotLifetimeMs,
    limits: options.limits,
  }
}

// Keys name a one-way hash (128 bits: no two installs share a counter by accident), never a token or an address.
function hashed(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 32)
}
