import type { Paths } from "../global"
import type * as ProviderError from "../provider/error"
import * as QuotaLedger from "../quota/ledger"
import * as QuotaRecorder from "../quota/recorder"
import * as AuthSource from "./auth-source"
import type * as GatewayHosts from "./gateway-hosts"
import * as RequestFacts from "./request-facts"
import type { FetchInit, FetchInput } from "./request-facts"

/**
 * The quota ledger (quota/ledger.ts) fed from the fetch layer, so that `status` counts what a
 * fetch-level host sent today and sees its last refusal, as it does for the runtime's own turns.
 *
 * An answer is far more common than a failure and the layer must not slow it: `answered` only
 * pushes the request's headers, the start of its body and the time onto a list. Every DRAIN_MS
 * the list is worked off in the background (the key's source, the model), and the recorder
 * (quota/recorder.ts) writes the counts a few seconds later. A failure already has all of that
 * from its diagnostics record and is counted at once.
 */

/** How often answers waiting to be counted are worked off. */
export const DRAIN_MS = 500
/** How long the source of one key is trusted before the files are read again. */
export const AUTH_CACHE_MS = 60_000
/** Answers kept waiting at most; past it the list is worked off at once. */
const MAX_QUEUED = 10_000
const MAX_CACHED_KEYS = 16
/** Where `"model"` is looked for: SDKs write it first, before the messages. */
const MODEL_SCAN_CHARS = 4096
const MODEL = /"model"\s*:\s*"([A-Za-z0-9_.:/@+-]{1,256})"/

interface Queued {
  at: number
  target: GatewayHosts.Target
  /** Only what the headers need, never the body: a prompt is not held in memory until the drain. */
  request: Request | undefined
  headers: NonNullable<FetchInit>["headers"]
  start: string | undefined
}

export class LedgerFeed {
  private readonly recorder: QuotaRecorder.Recorder
  private readonly sources = new Map<string, { until: number; found: AuthSource.Found | Promise<AuthSource.Found> }>()
  private queue: Queued[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private draining: Promise<void> | undefined
  /** Something was recorded since the last flush began. */
  private dirty = false

  constructor(
    private readonly env: Paths.Env,
    private readonly now: () => number,
    onError: (line: string) => void,
  ) {
    this.recorder = QuotaRecorder.forFile(QuotaLedger.filePath(env), { onError })
  }

  /** A request the gateway answered (a 2xx, or a 200 whose JSON body is not an error). Synchronous and cheap. */
  answered(target: GatewayHosts.Target, input: FetchInput, init: FetchInit) {
    const request = RequestFacts.isRequest(input) ? input : undefined
    this.queue.push({ at: this.now(), target, request, headers: init?.headers, start: bodyStart(input, init) })
    if (this.queue.length === 1) untilExit(this)
    if (this.queue.length >= MAX_QUEUED) void this.drain()
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.drain(), DRAIN_MS)
      this.timer.unref?.()
    }
  }

  /** A failed attempt, with what the layer's diagnostics record found out about it. */
  failed(target: GatewayHosts.Target, auth: AuthSource.Found, modelID: string | undefined, info: ProviderError.Info, at: number) {
    this.dirty = true
    untilExit(this)
    this.recorder.record({
      at,
      providerID: target.providerID,
      modelID: modelID ?? "unknown",
      authSource: ledgerSource(auth),
      outcome: "failed",
      kind: info.kind,
      resetAt: info.resetAt,
      limitName: info.limitName,
    })
  }

  async flush(): Promise<void> {
    await this.drain()
    this.dirty = false
    await this.recorder.flush()
    if (!this.dirty && !this.queue.length) unsaved.delete(this)
  }

  private drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    return (this.draining ??= (async () => {
      try {
        while (this.queue.length) {
          const batch = this.queue
          this.queue = []
          for (const q of batch) {
            let key: string | undefined
            try {
              key = RequestFacts.keyOf(q.headers !== undefined ? new Headers(q.headers) : new Headers(q.request?.headers))
            } catch {
              // Headers fetch itself would have refused: the request was never sent.
              continue
            }
            const found = this.source(key, q.target.providerID, q.at)
            const auth = found instanceof Promise ? await found : found
            this.dirty = true
            this.recorder.record({ at: q.at, providerID: q.target.providerID, modelID: modelHint(q.start), authSource: ledgerSource(auth), outcome: "answered" })
          }
        }
      } finally {
        this.draining = undefined
      }
    })())
  }

  // The failure path reads the files every time (its record must say where the key is now); a
  // success, which happens far more often, trusts the answer for a minute.
  private source(key: string | undefined, providerID: string, at: number): AuthSource.Found | Promise<AuthSource.Found> {
    if (key === undefined || key === "") return { source: "none" }
    if (key === "public") return { source: "public" }
    const id = `${providerID}\n${key}`
    const cached = this.sources.get(id)
    if (cached && cached.until > at) return cached.found
    if (this.sources.size >= MAX_CACHED_KEYS) this.sources.clear()
    const entry: { until: number; found: AuthSource.Found | Promise<AuthSource.Found> } = { until: at + AUTH_CACHE_MS, found: AuthSource.find(key, providerID, this.env) }
    void (entry.found as Promise<AuthSource.Found>).then((found) => (entry.found = found))
    this.sources.set(id, entry)
    return entry.found
  }
}

/**
 * The recorder writes a few seconds after a burst, on a timer that never holds a process open: a
 * host that ends on its own (its event loop empty) gets its last counts written first. Once
 * written, nothing is left to do and the process ends as it would have. One listener for the
 * process; a feed is held only while it has counts not yet written.
 */
const unsaved = new Set<LedgerFeed>()
let exitHooked = false
function untilExit(feed: LedgerFeed) {
  unsaved.add(feed)
  if (exitHooked) return
  exitHooked = true
  process.on?.("beforeExit", () => {
    for (const f of unsaved) void f.flush()
  })
}

/** The first MODEL_SCAN_CHARS of a text or bytes body; a stream or form is left alone. */
function bodyStart(input: FetchInput, init: FetchInit): string | undefined {
  const body = init?.body
  if (typeof body === "string") return body.length > MODEL_SCAN_CHARS ? body.slice(0, MODEL_SCAN_CHARS) : body
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) {
    const bytes = body instanceof Uint8Array ? body : new Uint8Array(body)
    return new TextDecoder().decode(bytes.byteLength > MODEL_SCAN_CHARS ? bytes.subarray(0, MODEL_SCAN_CHARS) : bytes)
  }
  return undefined
}

/**
 * The request's model from the start of its body, without parsing a prompt that may be megabytes:
 * the OpenAI-compatible and Anthropic SDKs write `model` first. A quoted `"model"` followed by a
 * colon can only be a key in JSON (inside a string the quotes would be escaped); `unknown` when
 * it is not found there.
 */
export function modelHint(body: string | undefined): string {
  if (body === undefined) return "unknown"
  return MODEL.exec(body.length > MODEL_SCAN_CHARS ? body.slice(0, MODEL_SCAN_CHARS) : body)?.[1] ?? "unknown"
}

/**
 * The ledger knows the runtime's sources; a key of the host's own (`host`) is, like opencode.json's,
 * a key configured outside auth.json and the environment, and older readers of the ledger would
 * take a source they do not know for a damaged file.
 */
function ledgerSource(found: AuthSource.Found): QuotaLedger.Event["authSource"] {
  return found.source === "host" ? "config" : found.source
}
