/**
 * A turn's own deadline ran out (session/deadline.ts): the provider gave no answer, went silent,
 * answered too slowly, or the turn used up its wait budget. The classifier turns it into its own
 * kind; what ran out and after how long travel with it, for the message and the diagnostics.
 */

/** Which deadline: `first_byte` no response; `stream_idle` silence mid-stream; `response` the whole attempt; `wait_budget` waits between retries. */
export type Deadline = "first_byte" | "stream_idle" | "response" | "wait_budget"

export const KIND = {
  first_byte: "first_byte_timeout",
  stream_idle: "stream_stalled",
  response: "stream_stalled",
  wait_budget: "wait_budget_exhausted",
} as const

export class DeadlineError extends Error {
  override readonly name = "DeadlineError"
  constructor(
    readonly deadline: Deadline,
    /** The configured deadline or budget, in milliseconds. */
    readonly ms: number,
    /** wait_budget only: what the turn had already waited, and the wait it was asked for next. */
    readonly wait: { waitedMs: number; nextMs: number } | undefined = undefined,
    options?: { cause?: unknown },
  ) {
    // Runtime text, not upstream: it becomes the record's message, which diagnostics keep for support.
    super(describe(deadline, ms, wait), options)
  }
  static isInstance(value: unknown): value is DeadlineError {
    return value instanceof DeadlineError
  }
}

function describe(deadline: Deadline, ms: number, wait: { waitedMs: number; nextMs: number } | undefined) {
  switch (deadline) {
    case "first_byte":
      return `firstByteMs: no response within ${ms} ms`
    case "stream_idle":
      return `streamIdleMs: no stream event for ${ms} ms`
    case "response":
      return `responseMs: response not finished within ${ms} ms`
    case "wait_budget":
      return `turnWaitBudgetMs: next wait of ${wait?.nextMs ?? 0} ms after ${wait?.waitedMs ?? 0} ms waited would pass the ${ms} ms wait budget`
  }
}
