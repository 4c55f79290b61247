import { Cause, Duration, Effect, Schedule } from "effect"
import * as ProviderError from "../provider/error"
import type { AttemptFailure } from "./processor"

/**
 * When a failed attempt is tried again. Quotas, auth, billing and bad requests end the turn at once,
 * however long a retry-after they carry: sleeping until a spent allowance resets (OpenCode slept
 * up to UTC midnight on the free limit) leaves a user staring at a task that silently waits.
 * Transient failures (rate limit, overload, server error, most network errors) are retried a few
 * times with exponential backoff and jitter, honouring retry-after, never waiting longer than
 * MAX_WAIT_MS at once.
 *
 * `next` is the policy as a pure function of (record, attempt, random source), so it is tested
 * without sleeping; `policy` adapts it to SessionProcessor's `decide`, `schedule` to Effect's retry.
 */

/** Matched on by other parts of PawWork (OpenCode's TUI upsell detector does the same): keep it exact. */
export const GO_UPSELL_MESSAGE = "Free usage exceeded, subscribe to Go https://opencode.ai/go"

/** Attempts in one turn, the first included. */
export const MAX_ATTEMPTS = 4
/**
 * Attempts when the provider gave no answer in time (first_byte_timeout): one fresh try, since a
 * hung connection or gateway node may answer the next; a second miss means it is down, and each
 * further try would add a whole first-byte deadline of silence.
 */
export const MAX_TIMEOUT_ATTEMPTS = 2
export const INITIAL_DELAY_MS = 2_000
export const BACKOFF_FACTOR = 2
/** Computed backoff is spread by ±JITTER so clients that failed together do not retry together. */
export const JITTER = 0.2
/** Cap of a computed backoff (no retry-after). */
export const MAX_BACKOFF_MS = 30_000
/** Longest single wait, retry-after included; a longer one stops the turn with its reset time. */
export const MAX_WAIT_MS = ProviderError.BOUNDED_WAIT_MS

export interface Options {
  maxAttempts: number
  initialDelayMs: number
  backoffFactor: number
  jitter: number
  maxBackoffMs: number
  maxWaitMs: number
  /** Uniform in [0, 1); replaceable so tests pin the jitter. */
  random: () => number
}

export const DEFAULTS: Options = {
  maxAttempts: MAX_ATTEMPTS,
  initialDelayMs: INITIAL_DELAY_MS,
  backoffFactor: BACKOFF_FACTOR,
  jitter: JITTER,
  maxBackoffMs: MAX_BACKOFF_MS,
  maxWaitMs: MAX_WAIT_MS,
  random: Math.random,
}

export type StopReason = "not_retryable" | "attempts_exhausted" | "wait_too_long"

export type Decision = { action: "retry"; delayMs: number } | { action: "stop"; reason: StopReason; resetAt: string | null }

/** The decision after failed attempt number `attempt` (1-based). */
export function next(info: ProviderError.Info, attempt: number, options: Partial<Options> = {}): Decision {
  const o = { ...DEFAULTS, ...options }
  const stop = (reason: StopReason): Decision => ({ action: "stop", reason, resetAt: info.resetAt })
  const tooLong = info.retryAfterMs !== null && info.retryAfterMs > Math.min(o.maxWaitMs, MAX_WAIT_MS)
  if (!ProviderError.isTransient(info.kind)) return stop("not_retryable")
  if (tooLong) return stop("wait_too_long")
  if (!info.retryable) return stop("not_retryable")
  if (attempt >= maxAttempts(info.kind, o)) return stop("attempts_exhausted")
  const r = unit(o.random)
  if (info.retryAfterMs !== null) {
    // Never earlier than asked; a little later, spread, so a crowd told "60" does not return at once.
    return { action: "retry", delayMs: Math.min(o.maxWaitMs, Math.ceil(info.retryAfterMs * (1 + o.jitter * r))) }
  }
  return { action: "retry", delayMs: delay(attempt, r, o) }
}

/** How many attempts a turn makes when its attempts fail with `kind`. */
export function maxAttempts(kind: ProviderError.Kind, options: Partial<Options> = {}): number {
  const max = options.maxAttempts ?? DEFAULTS.maxAttempts
  return kind === "first_byte_timeout" ? Math.min(max, MAX_TIMEOUT_ATTEMPTS) : max
}

/** Exponential backoff after failed attempt `attempt`, jittered by ±jitter, capped at maxBackoffMs. */
export function delay(attempt: number, r: number, options: Partial<Options> = {}): number {
  const o = { ...DEFAULTS, ...options }
  const base = Math.min(o.maxBackoffMs, o.initialDelayMs * o.backoffFactor ** Math.max(0, attempt - 1))
  return Math.min(o.maxBackoffMs, Math.round(base * (1 - o.jitter + 2 * o.jitter * unit(() => r))))
}

/**
 * A failure that took at least this share of the first-byte deadline to arrive (a gateway or CDN
 * answering 504 or 524 after waiting on its upstream) is tried like a first-byte timeout: once
 * more at most. Four such attempts would hold a turn for about six minutes, each one a wait the
 * turn's wait budget does not see.
 */
export const SLOW_FAILURE_SHARE = 0.5

/** Whether a failed attempt ran long enough to count as slow (SLOW_FAILURE_SHARE). */
export function slow(failure: Pick<AttemptFailure, "elapsedMs" | "firstByteMs">): boolean {
  return failure.elapsedMs !== undefined && failure.firstByteMs !== undefined && failure.elapsedMs >= failure.firstByteMs * SLOW_FAILURE_SHARE
}

/** SessionProcessor's `decide`: the record the processor attached, through `next`; slow failures get fewer attempts. */
export function policy(options: Partial<Options> = {}) {
  return (failure: AttemptFailure): Decision =>
    next(failure.info, failure.attempt, slow(failure) ? { ...options, maxAttempts: Math.min(options.maxAttempts ?? DEFAULTS.maxAttempts, MAX_TIMEOUT_ATTEMPTS) } : options)
}

/**
 * The same policy as an Effect Schedule over normalized records, for Effect code paths
 * (`Effect.retry(effect, SessionRetry.schedule())` where the effect fails with a record).
 * Its output is the retry decision; it ends with the stop decision.
 */
export function schedule(options: Partial<Options> = {}): Schedule.Schedule<Decision, ProviderError.Info> {
  return Schedule.fromStepWithMetadata(
    Effect.sync(() => (meta: Schedule.InputMetadata<ProviderError.Info>) => {
      const decision = next(meta.input, meta.attempt, options)
      if (decision.action === "stop") return Cause.done(decision)
      return Effect.succeed([decision, Duration.millis(decision.delayMs)] as [Decision, Duration.Duration])
    }),
  )
}

/** The upsell line OpenCode shows for a spent free allowance; undefined for every other failure. */
export function upsell(info: Pick<ProviderError.Info, "kind">): string | undefined {
  return info.kind === "free_usage_limit" ? GO_UPSELL_MESSAGE : undefined
}

function unit(random: () => number) {
  const r = random()
  return Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0.5
}
