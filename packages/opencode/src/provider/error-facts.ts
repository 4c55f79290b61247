import { APICallError } from "ai"
import { DeadlineError } from "./deadline-error"

/**
 * The facts of a provider failure, gathered from whatever form it arrived in: an ai SDK
 * APICallError, an error part of a stream, a network failure, a turn deadline, a raw
 * `{ status, headers, body }` a user pasted, or a gateway body a relay nested in its own. Facts
 * only: what they mean is error.ts's call. Untrusted input: parsed, never evaluated, bounded in
 * size and depth.
 */

/** How much of a body is looked at: enough for any real error body, cheap for a hostile one. */
export const MAX_SCAN_CHARS = 64 * 1024

// Runtime network codes (Node, undici, Bun). Those where waiting cannot help are listed apart.
const NETWORK_RETRYABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ENETDOWN",
  "ECONNABORTED",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
])

const NETWORK_FINAL = new Set([
  "ENOTFOUND",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
])

export interface Network {
  retryable: boolean
  code: string | null
  aborted: boolean
}

export interface Facts {
  status: number | null
  headers: unknown
  type: string | null
  code: string | null
  message: string | null
  /** Text of the thrown error itself, used when the body had none. */
  errorText: string | null
  workspace: string | null
  limitName: string | null
  network: Network | null
  /** A status named inside the body (OpenRouter `error.code: 429`), used when the HTTP one says nothing. */
  bodyStatus: number | null
  /** The wrapper's message when the error came nested in another body (its provider prefix may name who answered). */
  wrapper: string | null
  /** The turn's own deadline that ended the attempt (session/deadline.ts); it decides the kind. */
  deadline: DeadlineError | null
}

export function emptyFacts(): Facts {
  return {
    status: null,
    headers: undefined,
    type: null,
    code: null,
    message: null,
    errorText: null,
    workspace: null,
    limitName: null,
    network: null,
    bodyStatus: null,
    wrapper: null,
    deadline: null,
  }
}

/** Every fact the classifier needs from any input; never throws on a well-behaved one (classify catches the rest). */
export function gather(input: unknown): Facts {
  const facts = emptyFacts()
  if (DeadlineError.isInstance(input)) {
    // A spent wait budget keeps the last failure's facts (status, type, retry-after); a timeout's
    // own abort says nothing beyond the deadline, which is its message.
    const found = input.deadline === "wait_budget" ? gather(input.cause) : facts
    found.deadline = input
    found.errorText ??= input.message
    return found
  }
  if (typeof input === "string") {
    readBody(facts, input)
    return facts
  }
  if (input === null || typeof input !== "object") {
    if (input !== undefined) facts.errorText = String(input).slice(0, 1000)
    return facts
  }
  if (APICallError.isInstance(input)) {
    // The SDK wraps whatever a 200's body stream fails with in a bare "Failed to process successful
    // response"; when that is an APICallError of our own (error-response.ts), it is the one that says what happened.
    if (APICallError.isInstance(input.cause) && input.responseBody === undefined) return gather(input.cause)
    facts.status = statusOf(input.statusCode)
    facts.headers = input.responseHeaders
    facts.errorText = text(input.message)
    readBody(facts, input.responseBody)
    // No status means no HTTP answer arrived: the SDK wraps connection failures this way. A stream
    // cut after a 200 arrives as "Failed to process successful response" with the socket error as cause.
    if (facts.type === null) {
      const net = network(input.cause)
      if (net || facts.status === null) facts.network = net ?? { retryable: true, code: null, aborted: false }
    }
    return facts
  }
  if (input instanceof Error) {
    facts.errorText = text(input.message)
    const net = network(input)
    if (net) {
      facts.network = net
      return facts
    }
  }
  // Duck-typed: a raw `{ status, headers, body }`, another realm's SDK error, or a stream's error payload.
  const status = get(input, "status") ?? get(input, "statusCode")
  const headers = get(input, "headers") ?? get(input, "responseHeaders")
  const body = get(input, "body") ?? get(input, "responseBody") ?? get(input, "value")
  facts.status = statusOf(status)
  facts.headers = headers
  if (body !== undefined) readBody(facts, body)
  else if (!(input instanceof Error)) readParsed(facts, input)
  else {
    // The ai SDK's StreamProviderError: the stream's error payload in `data`, its fields copied on the error.
    const data = get(input, "data")
    if (isObject(data)) readParsed(facts, data)
    facts.type ??= text(get(input, "type"))
    const code = get(input, "code")
    facts.code ??= typeof code === "string" || typeof code === "number" ? String(code).slice(0, 64) : null
  }
  return facts
}

function readBody(facts: Facts, body: unknown) {
  if (body === null || body === undefined) return
  if (typeof body === "string") return readText(facts, body)
  if (body instanceof Uint8Array) return readText(facts, new TextDecoder().decode(body.subarray(0, MAX_SCAN_CHARS)))
  if (body instanceof ArrayBuffer) return readText(facts, new TextDecoder().decode(new Uint8Array(body, 0, Math.min(body.byteLength, MAX_SCAN_CHARS))))
  if (typeof body === "object") return readParsed(facts, body)
}

function readText(facts: Facts, body: string) {
  const head = body.length > MAX_SCAN_CHARS ? body.slice(0, MAX_SCAN_CHARS) : body
  const start = head.trimStart()
  if (!start) return
  if ((start[0] === "{" || start[0] === "[") && body.length <= MAX_SCAN_CHARS) {
    let parsed: unknown
    let ok = false
    try {
      parsed = JSON.parse(head)
      ok = true
    } catch {}
    if (ok) return readParsed(facts, Array.isArray(parsed) ? parsed[0] : parsed)
  }
  if (start[0] === "<") {
    const title = /<title[^>]*>([^<]{0,200})/i.exec(start)?.[1] ?? /<h1[^>]*>([^<]{0,200})/i.exec(start)?.[1]
    facts.message = title?.trim() || null
    return
  }
  if (start[0] === "{" || start[0] === "[") return scanTruncated(facts, head)
  facts.message = start.slice(0, 2000)
}

// A body cut short or too large to parse: pick out the fields the classification needs.
function scanTruncated(facts: Facts, head: string) {
  const types = head.matchAll(/"type"\s*:\s*"([^"\\]{1,64})"/g)
  for (const match of types) {
    const value = match[1]!
    if (value === "error" && facts.type !== null) continue
    facts.type = value
    if (value !== "error") break
  }
  facts.code = /"code"\s*:\s*"?([A-Za-z0-9_.-]{1,64})/.exec(head)?.[1] ?? null
  facts.message = /"message"\s*:\s*"((?:[^"\\]|\\.){0,2000})/.exec(head)?.[1] ?? null
  facts.limitName = /"limitName"\s*:\s*"([^"\\]{1,32})"/.exec(head)?.[1] ?? null
  facts.workspace = /"workspace"\s*:\s*"([^"\\]{1,64})"/.exec(head)?.[1] ?? null
}

function readParsed(facts: Facts, value: unknown) {
  if (typeof value === "string") {
    facts.message = value.slice(0, 2000)
    return
  }
  if (!isObject(value)) return
  const inner = get(value, "error")
  const node = isObject(inner) ? inner : value
  if (typeof inner === "string") facts.message = inner.slice(0, 2000)
  facts.type = text(get(node, "type"))
  const code = get(node, "code")
  if (typeof code === "string") facts.code = code.slice(0, 64)
  else if (typeof code === "number" && Number.isInteger(code)) {
    facts.code = String(code)
    facts.bodyStatus = statusOf(code)
  }
  facts.message ??= text(get(node, "message")) ?? text(get(value, "message"))
  const metadata = get(value, "metadata")
  if (isObject(metadata)) {
    facts.workspace = text(get(metadata, "workspace")) ?? text(get(metadata, "workspaceID"))
    facts.limitName = text(get(metadata, "limitName"))
  }
}

/** How many bodies deep an error can be nested in another's message and still be read. */
const MAX_NESTING = 3

/** Where the nested body may start in a wrapper's message ("429 Too Many Requests: {...}" and the like). */
const NESTED_START_MAX = 200

/**
 * Proxies and relays re-wrap an error in their own shape with the original body as a string:
 * `{"error":{"message":"{\"type\":\"error\",\"error\":{\"type\":\"FreeUsageLimitError\"...}}"}}`.
 * The original's fields replace the wrapper's, the HTTP status and headers stay. Parsed, never
 * evaluated; bounded in depth, and the message it reads is already bounded by readParsed.
 */
export function unwrapNested(facts: Facts, isGatewayType: (type: string) => boolean) {
  for (let depth = 0; depth < MAX_NESTING; depth++) {
    // A gateway type already says what happened: a body in its message is not looked into.
    if (facts.type !== null && isGatewayType(facts.type)) return
    const message = facts.message
    const start = message === null ? -1 : message.indexOf("{")
    if (message === null || start < 0 || start > NESTED_START_MAX) return
    const inner = emptyFacts()
    readText(inner, message.slice(start))
    if (inner.type === null && inner.message === null) return
    facts.wrapper ??= message
    if (inner.type !== null) facts.type = inner.type
    if (inner.code !== null) facts.code = inner.code
    if (inner.bodyStatus !== null) facts.bodyStatus = inner.bodyStatus
    facts.message = inner.message
    facts.workspace = inner.workspace ?? facts.workspace
    facts.limitName = inner.limitName ?? facts.limitName
  }
}

function network(error: unknown): Network | null {
  const chain: object[] = []
  for (let current = error; chain.length < 8 && isObject(current) && !chain.includes(current); current = get(current, "cause")) chain.push(current)
  for (const current of chain) {
    const name = get(current, "name")
    const code = get(current, "code")
    if (name === "AbortError" || name === "ResponseAborted") return { retryable: false, code: "AbortError", aborted: true }
    if (name === "TimeoutError") return { retryable: true, code: "TimeoutError", aborted: false }
    if (typeof code === "string") {
      if (NETWORK_FINAL.has(code)) return { retryable: false, code, aborted: false }
      if (NETWORK_RETRYABLE.has(code)) return { retryable: true, code, aborted: false }
    }
  }
  // fetch's own TypeErrors ("fetch failed", Bun's "Unable to connect", "terminated"): runtime text, not upstream.
  for (const current of chain)
    if (current instanceof TypeError && /fetch failed|failed to fetch|unable to connect|network|terminated|socket|connection/i.test(current.message))
      return { retryable: true, code: null, aborted: false }
  return null
}

export function headerReader(headers: unknown): (name: string) => string | null {
  if (!isObject(headers)) return () => null
  const getter = get(headers, "get")
  if (typeof getter === "function") {
    return (name) => {
      const value: unknown = getter.call(headers, name)
      return typeof value === "string" ? value : null
    }
  }
  if (Array.isArray(headers)) {
    return (name) => {
      for (const pair of headers.slice(0, 200))
        if (Array.isArray(pair) && typeof pair[0] === "string" && pair[0].toLowerCase() === name && typeof pair[1] === "string") return pair[1]
      return null
    }
  }
  const keys = Object.keys(headers).slice(0, 200)
  return (name) => {
    for (const key of keys) {
      if (key.toLowerCase() !== name) continue
      const value = get(headers, key)
      if (typeof value === "string") return value
      if (typeof value === "number" && Number.isFinite(value)) return String(value)
      if (Array.isArray(value) && typeof value[0] === "string") return value[0]
    }
    return null
  }
}

function statusOf(value: unknown): number | null {
  const n = typeof value === "string" && /^\d{3}$/.test(value.trim()) ? Number(value) : value
  return typeof n === "number" && Number.isInteger(n) && n >= 100 && n <= 599 ? n : null
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? (value.length > 4000 ? value.slice(0, 4000) : value) : null
}

function get(value: unknown, key: string): unknown {
  if (!isObject(value)) return undefined
  return (value as Record<string, unknown>)[key]
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null
}
