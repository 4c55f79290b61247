import { randomBytes } from "node:crypto"

/**
 * Ids in OpenCode's own shape: `<prefix>_` + 12 lower-case hex digits + 14 base62 characters.
 * The hex part is the low 48 bits of `milliseconds × 4096 + counter`; for ids that must sort newest
 * first (sessions) every bit of that number is inverted. The gateway's free tier has refused
 * anonymous requests whose `x-opencode-session` is not in this shape since 2026-09-17, so the shape
 * is exact, not approximate (research: gateway-drift-2026.md, sections 1 and 2).
 */

const PREFIX = { session: "ses", message: "msg", part: "prt", request: "req" } as const
export type Kind = keyof typeof PREFIX

/** Sessions count down (newest first, as OpenCode lists them); everything else counts up. */
const DESCENDING: ReadonlySet<Kind> = new Set<Kind>(["session"])

const HEX_LENGTH = 12
const RANDOM_LENGTH = 14
const MASK_48 = (1n << 48n) - 1n

/** What OpenCode's gateway accepts as a canonical id of that kind. */
export function pattern(kind: Kind): RegExp {
  return new RegExp(`^${PREFIX[kind]}_[0-9a-f]{${HEX_LENGTH}}[0-9A-Za-z]{${RANDOM_LENGTH}}$`)
}

// The last value handed out: a clock that steps back, or more than 4096 ids in one millisecond,
// still gives strictly increasing values, so ascending ids always sort in creation order.
let last = -1n

/** The next id of this kind, in its kind's order: descending for sessions, ascending otherwise. */
export function create(kind: Kind, now: number = Date.now()): string {
  return DESCENDING.has(kind) ? descending(kind, now) : ascending(kind, now)
}

/** An id that sorts after every id minted before it in this process. */
export function ascending(kind: Kind, now: number = Date.now()): string {
  return format(kind, tick(now))
}

/** An id that sorts before every id minted before it in this process (newest first). */
export function descending(kind: Kind, now: number = Date.now()): string {
  return format(kind, ~tick(now))
}

function tick(now: number): bigint {
  const ms = Number.isFinite(now) && now >= 0 ? BigInt(Math.floor(now)) : BigInt(Date.now())
  const base = ms * 0x1000n
  last = base > last ? base : last + 1n
  return last
}

function format(kind: Kind, value: bigint): string {
  const hex = (value & MASK_48).toString(16).padStart(HEX_LENGTH, "0")
  return `${PREFIX[kind]}_${hex}${randomBase62(RANDOM_LENGTH)}`
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
// 248 = 4 × 62: bytes at or above it are redrawn, so every character is equally likely.
const UNBIASED_BELOW = 248

function randomBase62(length: number): string {
  let out = ""
  while (out.length < length) {
    for (const byte of randomBytes(length + 4)) {
      if (byte >= UNBIASED_BELOW) continue
      out += ALPHABET[byte % 62]
      if (out.length === length) break
    }
  }
  return out
}
