import * as Identity from "../auth/identity"
import { Config } from "../config"
import type { Paths } from "../global"
import * as ProviderError from "../provider/error"
import * as SessionDiagnostics from "../session/diagnostics"
import { readBounded, type BoundedText } from "../util/bounded-stream"
import { fingerprint } from "../util/fingerprint"
import * as JsonlLog from "../util/jsonl-log"
import * as Attempts from "./attempts"
import * as AuthSource from "./auth-source"
import * as FailureRecord from "./failure-record"
import * as GatewayHosts from "./gateway-hosts"
import { LedgerFeed } from "./ledger-feed"
import * as RequestFacts from "./request-facts"
import type { FetchInit, FetchInput } from "./request-facts"

/**
 * `wrapFetch(fetch, options)`: the runtime's identity header and diagnostics for a host that only
 * lets us wrap its `fetch`. For requests to the OpenCode gateway (gateway-hosts.ts) and nothing
 * else, it adds `x-pawwork-install` where the install identity is on, and for every failed answer
 * (an HTTP error, an error body on a 200, a network failure) it classifies the failure and appends
 * the runtime's diagnostics record to `<data dir>/log/provider.jsonl`. Every answer and failure is
 * also counted in the quota ledger (ledger-feed.ts), after the host has it, for `status`.
 *
 * What it never does: change a successful response, retry, read a success stream, or throw where
 * the wrapped fetch would not. A failed answer is read from a clone, at most MAX_BODY bytes, so the
 * host's own body is untouched; a fault inside the layer is swallowed and reported once on stderr.
 * Off by default, `markQuotaRefusals` gives a quota refusal the `x-should-retry: false` header
 * (honoured by the OpenAI and Anthropic SDKs), on a new Response carrying the same body stream.
 */

/** How much of a failed answer is read: the classifier looks at less (provider/error-facts.ts). */
export const MAX_BODY = 64 * 1024
/** How long a failed answer may be held for its body when marking it (markQuotaRefusals). */
export const MARK_WAIT_MS = 2_000
/**
 * How long the layer reads its copy of an answer. A copy is one half of a tee, whose source is let
 * go only once both halves are: a host that cancels its own body waits until the copy is done.
 */
export const BODY_WAIT_MS = 2_000
export const SHOULD_RETRY_HEADER = "x-should-retry"
/** URLs whose verdict (watched or not) is remembered. */
const MAX_SEEN_URLS = 256

/** Spent quota, balance or spend limit: no retry within a request's lifetime can succeed. */
export const QUOTA_KINDS: ReadonlySet<ProviderError.Kind> = new Set<ProviderError.Kind>([
  "free_usage_limit",
  "go_usage_limit",
  "subscription_usage_limit",
  "credits_exhausted",
  "spend_limit",
])

/** Set on a fetch this module wrapped, so it is never wrapped twice. */
export const WRAPPED = Symbol.for("pawwork.fetch-layer")

export interface Options {
  /** Where the data dir and opencode.json are, and the opt-out and key variables (default process.env). */
  env?: Paths.Env
  /** The watched hosts, as PAWWORK_GATEWAY_HOSTS reads (default: that variable of `env`, else opencode.ai). */
  hosts?: string
  /** false: never add `x-pawwork-install`. The user's own opt-out is honoured whatever this says. */
  identity?: boolean
  /** Give a quota refusal `x-should-retry: false` (off by default). */
  markQuotaRefusals?: boolean
  /** false: do not count requests in the quota ledger (`status`). Counted by default. */
  ledger?: boolean
  /** How long a failed answer may be held for its body when marking it (default MARK_WAIT_MS). */
  markWaitMs?: number
  /** How long the copy of an answer is read before the layer lets go of it (default BODY_WAIT_MS). */
  bodyWaitMs?: number
  /** Where records go instead of the data dir's log (tests, benchmarks). */
  log?: Pick<JsonlLog.Writer, "append" | "flush">
  /** The clock records are dated by. */
  now?: () => number
  /** The one line the layer may write about its own faults (default: stderr). */
  warn?: (line: string) => void
}

export type LayeredFetch = typeof fetch & {
  /** Resolves once every failure seen so far is classified and its record written. */
  flush(): Promise<void>
  readonly [WRAPPED]: true
}

interface Watched {
  input: FetchInput
  init: FetchInit
  url: URL
  target: GatewayHosts.Target
  /** The headers as sent (the install header included). */
  headers: Headers
  installFingerprint: string | undefined
}

interface InstallToken {
  token: string
  fingerprint: string
}

export function wrapFetch(base: typeof fetch, options: Options = {}): LayeredFetch {
  const env = options.env ?? process.env
  const hosts = GatewayHosts.parse(options.hosts ?? env[GatewayHosts.ENV_VAR])
  const now = options.now ?? Date.now
  const markWaitMs = Math.max(0, options.markWaitMs ?? MARK_WAIT_MS)
  const bodyWaitMs = Math.max(0, options.bodyWaitMs ?? BODY_WAIT_MS)
  let warned = false
  const warn = (what: string) => {
    if (warned) return
    warned = true
    try {
      ;(options.warn ?? ((line: string) => void process.stderr.write(line + "\n")))(`PawWork fetch layer: ${what}; requests go on unchanged.`)
    } catch {}
  }
  // Only the error's kind, never its message: a message may quote a header value, i.e. a key.
  const fault = (where: string) => (error: unknown) => warn(`${where} failed (${describe(error)})`)
  const warnFault = fault("recording a failure")
  if (hosts.rejected.length)
    warn(`${GatewayHosts.ENV_VAR} entries ${hosts.rejected.map((e) => JSON.stringify(e)).join(", ")} are not a host name or host:port and are ignored`)

  const log = options.log ?? new JsonlLog.Writer({ file: SessionDiagnostics.logFile(env), onError: (line) => warn(line.replace(/^PawWork /, "").replace(/; carrying on without it\.$/, "")) })
  // Made on the first watched request: a host that never calls the gateway never touches the ledger.
  let feed: LedgerFeed | null | undefined
  const ledger = () =>
    (feed ??=
      options.ledger === false
        ? null
        : new LedgerFeed(env, now, (line) => {
            try {
              ;(options.warn ?? ((text: string) => void process.stderr.write(text + "\n")))(line)
            } catch {}
          }))
  const pending = new Set<Promise<unknown>>()
  const track = <T>(work: Promise<T>): Promise<T | undefined> => {
    const settled = work.catch((error) => {
      warnFault(error)
      return undefined
    })
    pending.add(settled)
    void settled.finally(() => pending.delete(settled))
    return settled
  }

  // The identity is read once per process, on the first watched request (the opt-out with it).
  let identity: InstallToken | null | undefined
  let loading: Promise<InstallToken | null> | undefined
  const loadIdentity = () =>
    (loading ??= (async (): Promise<InstallToken | null> => {
      if (options.identity === false) return null
      let config: Config.Info
      try {
        config = (await Config.load(env)).info
      } catch (error) {
        // The user may have turned the identity off in the file that cannot be read: do not send it.
        warn(`opencode.json could not be read (${describe(error)}), so no ${Identity.HEADER} header is sent`)
        return null
      }
      if (Identity.optOut(env, config)) return null
      const active = await Identity.load(env)
      return { token: active.token, fingerprint: active.fingerprint }
    })()
      .catch((error) => {
        fault("loading the install identity")(error)
        return null
      })
      .then((found) => (identity = found)))

  // The success path allocates as little as it can: it runs for every request to the gateway, and
  // the layer must not slow a stream it never reads. Facts are gathered only once something failed.
  function send(input: FetchInput, init: FetchInit, url: URL, target: GatewayHosts.Target): Promise<Response> {
    let sent = init
    try {
      if (identity) sent = RequestFacts.withHeader(input, init, Identity.HEADER, identity.token) ?? init
    } catch (error) {
      fault("adding the install header")(error)
    }
    const watched = (): Watched => {
      const headers = RequestFacts.headersOf(input, sent)
      const own = headers.get(Identity.HEADER)?.trim()
      const installFingerprint = !own ? undefined : own === identity?.token ? identity.fingerprint : fingerprint(own)
      return { input, init, url, target, headers, installFingerprint }
    }
    return base(input, sent).then(
      (response) => {
        try {
          // Whatever goes wrong in here, the host gets the answer fetch gave.
          if (response.status >= 400)
            return failed(watched(), response).catch((error: unknown) => {
              fault("reading a failed answer")(error)
              return response
            })
          if (isJson(response)) void track(checkSuccessBody(watched(), response.clone()))
          else if (isModelCall(input, sent)) ledger()?.answered(target, input, sent)
        } catch (error) {
          fault("reading a failed answer")(error)
        }
        return response
      },
      (error: unknown) => {
        try {
          if (!RequestFacts.cancelledByHost(input, init) && !RequestFacts.refusedLocally(error)) void track(record(watched(), error))
        } catch (problem) {
          warnFault(problem)
        }
        throw error
      },
    )
  }

  async function failed(watched: Watched, response: Response): Promise<Response> {
    const copy = response.clone()
    const info = track(
      (async () => {
        const { text } = await readCopy(copy.body, bodyWaitMs)
        return record(watched, { status: response.status, headers: response.headers, body: text })
      })(),
    )
    if (!options.markQuotaRefusals) return response
    const found = await within(info, markWaitMs)
    return found && QUOTA_KINDS.has(found.kind) ? marked(response) : response
  }

  // A 200 that carries an error body (seen from the Go endpoint): recorded, and left as it is.
  async function checkSuccessBody(watched: Watched, copy: ReturnType<Response["clone"]>) {
    if (!copy.body) return
    const { text, truncated } = await readCopy(copy.body, bodyWaitMs)
    if (!truncated && isErrorBody(text)) await record(watched, { status: copy.status, headers: copy.headers, body: text })
    else answered(watched)
  }

  function answered(watched: Watched) {
    if (isModelCall(watched.input, watched.init)) ledger()?.answered(watched.target, watched.input, watched.init)
  }

  async function record(watched: Watched, failure: unknown): Promise<ProviderError.Info> {
    const { target, headers, url } = watched
    const time = now()
    const auth = await AuthSource.find(RequestFacts.keyOf(headers), target.providerID, env)
    const info = ProviderError.classify(failure, time, {
      secrets: RequestFacts.secretsOf(headers, url),
      providerID: target.providerID,
      ...(auth.source === "host" ? {} : { authSource: auth.source }),
      ...(auth.envVar ? { authEnvVar: auth.envVar } : {}),
    })
    const body = RequestFacts.bodyText(watched.input, watched.init)
    const modelID = RequestFacts.modelOf(body)
    const method = watched.init?.method ?? (RequestFacts.isRequest(watched.input) ? watched.input.method : "GET")
    const requestID = Attempts.requestID(
      RequestFacts.idHeader(headers, "x-opencode-request"),
      method.toUpperCase(),
      url.href,
      [headers.get("authorization"), headers.get("x-api-key"), headers.get("x-opencode-session")],
      body,
    )
    const entry = FailureRecord.build(
      {
        target,
        modelID,
        sessionID: RequestFacts.idHeader(headers, "x-opencode-session"),
        requestID,
        attempt: Attempts.next(requestID),
        auth,
        installFingerprint: watched.installFingerprint,
        time,
      },
      info,
    )
    // A record that does not pass the schema is a bug here, and is dropped rather than written.
    const checked = SessionDiagnostics.Entry.safeParse(entry)
    if (checked.success) log.append(checked.data)
    else warn("a diagnostics record did not pass its schema and was dropped")
    if (isModelCall(watched.input, watched.init)) ledger()?.failed(target, auth, modelID, info, time)
    return info
  }

  // What each URL resolved to: hosts call the same few endpoints over and over, and one Map lookup
  // costs less than parsing a URL per request. Cleared whole when full: only a bound, not an LRU.
  const seen = new Map<string, { url: URL; target: GatewayHosts.Target } | null>()
  const resolve = (input: FetchInput) => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : RequestFacts.isRequest(input) ? input.url : null
    if (href === null) return null
    let found = seen.get(href)
    if (found === undefined) {
      const url = GatewayHosts.mayMatch(hosts, href) ? RequestFacts.urlOf(href) : null
      const target = url && GatewayHosts.match(hosts, url)
      found = url && target ? { url, target } : null
      if (seen.size >= MAX_SEEN_URLS) seen.clear()
      seen.set(href, found)
    }
    return found
  }

  const wrapped = (input: FetchInput, init?: FetchInit): Promise<Response> => {
    let found: ReturnType<typeof resolve> = null
    try {
      found = resolve(input)
    } catch (error) {
      fault("reading a request")(error)
    }
    if (!found) return base(input, init)
    const { url, target } = found
    // Only the first watched request waits, for the identity (one file read per process).
    if (identity === undefined) return loadIdentity().then(() => send(input, init, url, target))
    return send(input, init, url, target)
  }

  return Object.assign(wrapped, {
    ...("preconnect" in base ? { preconnect: (base as { preconnect: unknown }).preconnect } : {}),
    async flush() {
      while (pending.size) await Promise.all(pending)
      await Promise.all([log.flush(), feed?.flush()])
    },
    [WRAPPED]: true as const,
  }) as unknown as LayeredFetch
}

/** A call to a model (always a POST), not a listing or a usage read: what the ledger counts. */
function isModelCall(input: FetchInput, init: FetchInit): boolean {
  const method = init?.method ?? (RequestFacts.isRequest(input) ? input.method : "GET")
  return method === "POST" || method.toUpperCase() === "POST"
}

export function isWrapped(value: unknown): boolean {
  return typeof value === "function" && (value as { [WRAPPED]?: unknown })[WRAPPED] === true
}

function isJson(response: Response) {
  return (response.headers.get("content-type") ?? "").includes("json")
}

function isErrorBody(body: string) {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; type?: unknown }
    return typeof parsed === "object" && parsed !== null && (parsed.type === "error" || (typeof parsed.error === "object" && parsed.error !== null))
  } catch {
    return false
  }
}

/** The same answer, same body stream, with `x-should-retry: false` added. */
function marked(response: Response): Response {
  const headers = new Headers(response.headers)
  headers.set(SHOULD_RETRY_HEADER, "false")
  const out = new Response(response.body, { status: response.status, statusText: response.statusText, headers })
  // A constructed Response has no URL; SDKs quote it in their errors.
  Object.defineProperties(out, { url: { value: response.url }, redirected: { value: response.redirected } })
  return out
}

/** At most MAX_BODY bytes of a copied body, for at most `ms`; a copy that fails midway (the host aborted) gives what the status says. */
async function readCopy(body: ReadableStream<Uint8Array> | null, ms: number): Promise<BoundedText> {
  if (!body) return { text: "", truncated: false }
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), ms)
  // Never keeps a host's process alive on its own.
  ;(timer as { unref?: () => void }).unref?.()
  try {
    return await readBounded(body, MAX_BODY, deadline.signal)
  } catch {
    return { text: "", truncated: true }
  } finally {
    clearTimeout(timer)
  }
}

async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
    // Never keeps a host's process alive on its own.
    ;(timer as { unref?: () => void }).unref?.()
  })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code
  const name = error instanceof Error ? error.name : typeof error
  return /^[A-Za-z0-9_]{1,40}$/.test(name) ? name : "error"
}
