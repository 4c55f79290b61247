import * as Ledger from "./ledger"

/**
 * Puts ledger events on disk without holding up the request they describe: `record` only appends
 * the event to an in-memory list; in the background (or every FOLD_AT events) the list is folded
 * into counters (a small ledger of its own), and one drain per file puts those on disk a moment
 * later (or at once on `flush`, which the CLI awaits before it exits) as a pending batch, merged
 * into the ledger only when no other process is merging (Ledger.add): a drain never waits for
 * another process. A failure is reported once and never thrown; another process holding the
 * ledger is not a failure and says nothing. Folding is kept off the request: measured in place,
 * counting on the request path cost about 20 µs a request against 1 µs for the append.
 */

/** Events of a burst written together: one write every 5 s at most under steady traffic (the CLI writes at exit). */
export const FLUSH_DELAY_MS = 5_000
/** Events appended before they are folded into counters on the spot: bounds the list's memory. */
export const FOLD_AT = 5_000

export interface Options {
  file: string
  now?: () => number
  /** Told once per recorder, the first time the ledger cannot be written. */
  onError?: (message: string) => void
  delayMs?: number
  /** How long a merge into ledger.json waits for another process's (default 0: merge only if free now; the batch is counted either way). */
  lockWaitMs?: number
}

export class Recorder {
  readonly file: string
  /** Events not yet counted. */
  private queue: Ledger.Event[] = []
  /** What happened since the last write, as counts; bounded like the ledger itself. */
  private pending = Ledger.empty()
  private pendingEvents = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private running: Promise<void> | undefined
  private reported = false
  private droppedEvents = 0
  private readonly now: () => number
  private readonly onError: (message: string) => void
  private readonly delayMs: number
  private readonly lockWaitMs: number | undefined

  constructor(options: Options) {
    this.file = options.file
    this.now = options.now ?? Date.now
    this.onError = options.onError ?? ((message) => void process.stderr.write(message + "\n"))
    this.delayMs = options.delayMs ?? FLUSH_DELAY_MS
    this.lockWaitMs = options.lockWaitMs
  }

  get dropped() {
    return this.droppedEvents
  }

  /** Synchronous and cheap; never throws. */
  record(event: Ledger.Event) {
    this.queue.push(event)
    if (this.queue.length >= FOLD_AT) this.fold()
    if (!this.running) this.schedule()
  }

  private fold() {
    const events = this.queue
    this.queue = []
    for (const event of events) {
      try {
        Ledger.apply(this.pending, event)
        this.pendingEvents++
      } catch {
        this.droppedEvents++
      }
    }
  }

  private schedule() {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.running ??= this.drain()
    }, this.delayMs)
    // A host that stops serving must not be kept alive for the ledger; the CLI flushes explicitly.
    this.timer.unref?.()
  }

  /** Resolves once everything recorded so far is written (or given up on). */
  async flush() {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.queue.length || this.pendingEvents) this.running ??= this.drain()
    while (this.running) await this.running
  }

  private async drain() {
    await undefined
    try {
      for (this.fold(); this.pendingEvents; this.fold()) {
        const batch = this.pending
        const events = this.pendingEvents
        this.pending = Ledger.empty()
        this.pendingEvents = 0
        try {
          await Ledger.add(this.file, batch, this.now(), this.lockWaitMs)
        } catch (error) {
          // Only when the batch itself could not be written are its counts lost.
          if (!(error instanceof Ledger.MergeError)) this.droppedEvents += events
          this.report(error)
        }
      }
    } finally {
      this.running = undefined
      if (this.queue.length || this.pendingEvents) this.schedule()
    }
  }

  private report(error: unknown) {
    if (this.reported) return
    this.reported = true
    const reason = error instanceof Error ? error.message : String(error)
    const outcome =
      error instanceof Ledger.MergeError
        ? `the counts wait beside it in ${Ledger.PENDING_DIR}/ and \`status\` still shows them`
        : "`status` may show fewer requests than were sent"
    try {
      this.onError(`PawWork could not update its quota ledger ${this.file} (${reason.slice(0, 300)}); requests are not affected, and ${outcome}.`)
    } catch {}
  }
}

// One recorder per ledger file per process, so concurrent turns share one queue.
const recorders = new Map<string, Recorder>()

export function forFile(file: string, options: Omit<Options, "file"> = {}): Recorder {
  let found = recorders.get(file)
  if (!found) recorders.set(file, (found = new Recorder({ file, ...options })))
  return found
}

/** Waits until every event recorded by this process is written (the CLI awaits it before exit). */
export async function flushAll() {
  await Promise.all([...recorders.values()].map((r) => r.flush()))
}
