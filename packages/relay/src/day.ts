/** The UTC day every allowance is counted in, and its reset (the next 00:00 UTC). */

const DAY_MS = 86_400_000

export interface Day {
  /** `2026-11-30`: part of every daily key's name, so a key never counts into the next day. */
  name: string
  /** Epoch ms of the next 00:00 UTC. */
  resetAt: number
}

export function dayOf(now: number): Day {
  const start = Math.floor(now / DAY_MS) * DAY_MS
  return { name: new Date(start).toISOString().slice(0, 10), resetAt: start + DAY_MS }
}

/** Whole seconds until the reset, at least 1: what `retry-after` says. */
export function secondsUntil(resetAt: number, now: number): number {
  return Math.max(1, Math.ceil((resetAt - now) / 1000))
}
