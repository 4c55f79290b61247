import type { LanguageModel } from "ai"
import { DeadlineError } from "../provider/deadline-error"

/**
 * How long a turn waits on the provider. Without these a gateway that never answers held an
 * attempt about six minutes (the HTTP stack's own timeout) and was retried into a 24-minute turn,
 * and one sending SSE keep-alive comments or a token every few seconds held a turn forever.
 *
 * Progress is a stream event the SDK parsed out of the body (text, reasoning, tool input, finish):
 * its SSE parser drops comment lines, so `: keep-alive` comments, however frequent, never count,
 * and neither does an event that carries nothing. Measuring there needs no second pass over the
 * bytes: the hot path stores one timestamp per event, and one timer shared by all attempts is
 * re-armed only when it fires or an earlier deadline comes in, never per event.
 */

export interface Timeouts {
  /** Request sent → the response is there (status and headers). */
  firstByteMs: number
  /** Longest silence between stream events once the response is there. */
  streamIdleMs: number
  /** One attempt from request to its last token: bounds a trickle of tokens that never stops. */
  responseMs: number
  /** Total waiting between retries in one turn, retry-after included. */
  turnWaitBudgetMs: number
}

/**
 * Defaults a desktop user accepts (reasons in docs/deadlines.md): a minute and a half without any
 * answer is past any healthy gateway, even one failing over between providers; two minutes of
 * silence mid-answer leaves room for a model thinking without streaming its reasoning; ten
 * minutes per answer is the request timeout of the OpenAI and Anthropic SDKs; and a turn waits at
 * most one honoured `retry-after: 60` plus the short backoffs, not three of them.
 */
export const DEFAULTS: Timeouts = {
  firstByteMs: 90_000,
  streamIdleMs: 120_000,
  responseMs: 600_000,
  turnWaitBudgetMs: 90_000,
}

/** The defaults with the configured values (opencode.json `pawwork.timeouts`) laid over them. */
export function resolve(configured?: Partial<Timeouts>): Timeouts {
  if (!configured) return DEFAULTS
  const out = { ...DEFAULTS }
  for (const key of Object.keys(DEFAULTS) as (keyof Timeouts)[]) {
    const value = configured[key]
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) out[key] = value
  }
  return out
}

/**
 * The deadlines of one attempt. Started when the attempt is; `answer()` when the response is there,
 * `progress()` per stream event, `stop()` when the attempt ends. When a deadline passes, `expired`
 * says which and `signal` aborts the request.
 */
export class Watch {
  readonly signal: AbortSignal
  /** The deadline that ran out, once one has. */
  expired: DeadlineError | undefined
  private readonly controller = new AbortController()
  private readonly started: number
  // No answer at all is a first-byte timeout even when responseMs is the shorter of the two.
  private readonly firstByteMs: number
  private answered = false
  private last = 0
  /** When this watch is next checked, on the `now` clock, and on the shared timer's clock. */
  private due = Infinity
  private wakeAt = Infinity

  constructor(
    private readonly timeouts: Timeouts,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.signal = this.controller.signal
    this.started = now()
    this.firstByteMs = Math.min(timeouts.firstByteMs, timeouts.responseMs)
    if (Watch.watching.size === 0) Watch.timer?.ref()
    Watch.watching.add(this)
    this.arm(this.firstByteMs)
  }

  /**
   * The response is there: from now on silence is measured, not the wait for an answer. Once per
   * attempt, the check is brought forward when the silence deadline falls before it.
   */
  answer() {
    this.answered = true
    this.last = this.now()
    if (Watch.watching.has(this) && this.last + this.timeouts.streamIdleMs < this.due) this.arm(this.timeouts.streamIdleMs)
  }

  /** A stream event arrived. Only the time is stored; the check catches up when it comes. */
  progress() {
    this.last = this.now()
  }

  stop() {
    if (Watch.watching.delete(this) && Watch.watching.size === 0) Watch.timer?.unref()
  }

  private check() {
    const now = this.now()
    const t = this.timeouts
    const left = this.answered ? this.last + t.streamIdleMs - now : this.started + this.firstByteMs - now
    if (left <= 0) return this.expire(this.answered ? "stream_idle" : "first_byte", this.answered ? t.streamIdleMs : this.firstByteMs)
    const responseLeft = this.started + t.responseMs - now
    if (responseLeft <= 0) return this.expire("response", t.responseMs)
    this.arm(Math.min(left, responseLeft))
  }

  private arm(ms: number) {
    const wait = Math.max(1, Math.ceil(ms))
    this.due = this.now() + wait
    this.wakeAt = performance.now() + wait
    Watch.wakeBy(this.wakeAt)
  }

  private expire(deadline: "first_byte" | "stream_idle" | "response", ms: number) {
    this.stop()
    this.expired = new DeadlineError(deadline, ms)
    this.controller.abort(this.expired)
  }

  // One timer for every watch in the process, armed for the earliest check: a timer per attempt
  // (setTimeout, then clearTimeout) was a measurable part of a request's client-side cost, and
  // attempts of one process have the same deadlines, so a new one almost never needs it moved.
  // It holds the process open only while some attempt is watched, as a timer per attempt did.
  private static readonly watching = new Set<Watch>()
  private static timer: ReturnType<typeof setTimeout> | undefined
  private static timerAt = Infinity

  private static wakeBy(at: number) {
    if (at >= Watch.timerAt) return
    if (Watch.timer !== undefined) clearTimeout(Watch.timer)
    Watch.timerAt = at
    Watch.timer = setTimeout(Watch.sweep, Math.max(1, Math.ceil(at - performance.now())))
    if (Watch.watching.size === 0) Watch.timer.unref()
  }

  private static sweep() {
    Watch.timer = undefined
    Watch.timerAt = Infinity
    const now = performance.now()
    for (const watch of Watch.watching) if (watch.wakeAt <= now) watch.check()
    let next = Infinity
    for (const watch of Watch.watching) next = Math.min(next, watch.wakeAt)
    if (next < Infinity) Watch.wakeBy(next)
  }
}

/**
 * The model as this attempt sends it: its requests carry the watch's signal, and the moment the
 * response arrives (the SDK's doStream resolves once the status and headers are in, before any
 * event is parsed) is reported to the watch. The signal goes to doStream, not to streamText: given
 * there, it costs the SDK's own abort bookkeeping on every request, which the caller's signal alone
 * (when there is one) still gets. A delegate over the cached model, not wrapLanguageModel's
 * middleware chain: one object and one closure per attempt.
 */
export function watched<M extends Exclude<LanguageModel, string>>(model: M, watch: Watch): M {
  const delegate = Object.create(model) as M
  delegate.doStream = (async (options: { abortSignal?: AbortSignal }) => {
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, watch.signal]) : watch.signal
    const result = await model.doStream({ ...options, abortSignal } as never)
    watch.answer()
    return result
  }) as M["doStream"]
  return delegate
}
