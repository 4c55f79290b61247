/**
 * What the fetch layer needs to know about a request it watches, read from the `fetch` arguments
 * without touching the request's body stream: the URL, the headers the host set, and (only when a
 * failure is recorded) the model named in a JSON body. Untrusted in the sense that a host may pass
 * anything `fetch` accepts: nothing here throws on odd input, it returns less.
 */

export type FetchInput = Parameters<typeof fetch>[0]
export type FetchInit = Parameters<typeof fetch>[1]

/** The request's URL, or null when it cannot be read (fetch itself will then reject it). */
export function urlOf(input: FetchInput): URL | null {
  try {
    if (typeof input === "string") return new URL(input)
    if (input instanceof URL) return input
    if (isRequest(input)) return new URL(input.url)
  } catch {}
  return null
}

export function isRequest(value: unknown): value is Request {
  return typeof Request !== "undefined" && value instanceof Request
}

/** The headers fetch will send: `init.headers` replaces a Request's own, as fetch does it. */
export function headersOf(input: FetchInput, init: FetchInit): Headers {
  if (init?.headers !== undefined) return new Headers(init.headers)
  return new Headers(isRequest(input) ? input.headers : undefined)
}

/** The same arguments with one more header (`name` in lower case); the host's own value wins when it set one. */
export function withHeader(input: FetchInput, init: FetchInit, name: string, value: string): FetchInit | null {
  // A copy keeps own properties only: what fetch would read from a prototype (a class's getters, a
  // Request passed as init) would be lost, so such a request goes out as the host made it, unmarked.
  if (init !== undefined && init !== null && !isPlainObject(init)) return null
  const own = init?.headers
  // A plain object (what SDKs pass) is extended as one, without building a Headers.
  if (typeof own === "object" && own !== null && !Array.isArray(own) && Object.getPrototypeOf(own) === Object.prototype) {
    for (const key in own) if (key.length === name.length && key.toLowerCase() === name) return null
    return { ...init, headers: { ...(own as Record<string, string>), [name]: value } }
  }
  const headers = headersOf(input, init)
  if (headers.has(name)) return null
  headers.set(name, value)
  return { ...init, headers }
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** The API key the request carries: `Authorization: Bearer <key>` (OpenAI shape) or `x-api-key` (Anthropic shape). */
export function keyOf(headers: Headers): string | undefined {
  const authorization = headers.get("authorization")
  if (authorization !== null) {
    const bearer = /^\s*bearer\s+(.*)$/is.exec(authorization)
    return (bearer ? bearer[1]! : authorization).trim() || undefined
  }
  return headers.get("x-api-key")?.trim() || undefined
}

// The runtime's ids and OpenCode's are short plain tokens; anything else is not kept as an id.
const ID = /^[A-Za-z0-9_.:-]{1,128}$/

/** A header value that is a plain id (x-opencode-session, x-opencode-request), else undefined. */
export function idHeader(headers: Headers, name: string): string | undefined {
  const value = headers.get(name)?.trim()
  return value !== undefined && ID.test(value) ? value : undefined
}

/** Largest body parsed for its model name: a request body is the prompt and may be megabytes. */
const MAX_BODY_CHARS = 4 * 1024 * 1024

/** The body as text when fetch was given it as text or bytes (a stream or form is left alone). */
export function bodyText(input: FetchInput, init: FetchInit): string | undefined {
  const body = init?.body
  if (body === undefined || body === null) return undefined
  if (typeof body === "string") return body
  if (body instanceof Uint8Array) return new TextDecoder().decode(body.byteLength > MAX_BODY_CHARS ? body.subarray(0, MAX_BODY_CHARS) : body)
  if (body instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(body, 0, Math.min(body.byteLength, MAX_BODY_CHARS)))
  return undefined
}

/** `model` of a JSON request body, when it is a short plain name. */
export function modelOf(body: string | undefined): string | undefined {
  if (body === undefined || body.length > MAX_BODY_CHARS) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  const model = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>).model : undefined
  return typeof model === "string" && /^[A-Za-z0-9_.:/@+-]{1,256}$/.test(model) ? model : undefined
}

/** Whether the host gave up on the request itself (a cancel, not a timeout): its own doing, not a failure. */
export function cancelledByHost(input: FetchInput, init: FetchInit): boolean {
  const signal = init?.signal ?? (isRequest(input) ? input.signal : undefined)
  if (!signal?.aborted) return false
  const reason: unknown = signal.reason
  return !(typeof reason === "object" && reason !== null && (reason as { name?: unknown }).name === "TimeoutError")
}

// Bun's codes for a request it refuses to build; its network errors carry others (ECONNREFUSED, ...).
const REFUSAL_CODES = new Set(["ERR_BODY_ALREADY_USED", "ERR_INVALID_ARG_VALUE", "ERR_INVALID_ARG_TYPE", "ERR_INVALID_URL"])

/**
 * Whether fetch refused to build the request (a body already used, a GET with a body, a bad header
 * value): the host's own mistake, before anything was sent, so nothing about the gateway. Node's
 * fetch gives every failure after that point a `cause` ("fetch failed"), Bun's a network `code`.
 */
export function refusedLocally(error: unknown): boolean {
  if (!(error instanceof TypeError) || error.cause !== undefined) return false
  const code: unknown = (error as { code?: unknown }).code
  return code === undefined || (typeof code === "string" && REFUSAL_CODES.has(code))
}

// Headers whose value describes the client, the content or the request, never a credential.
const PLAIN_HEADERS = new Set([
  "accept",
  "accept-encoding",
  "accept-language",
  "content-length",
  "content-type",
  "user-agent",
  "x-title",
  "x-opencode-client",
  "x-opencode-project",
  "x-opencode-request",
  "x-opencode-session",
])

/**
 * Every value the request carried that may be a secret: each header value but the plain ones above
 * (the key, cookies, the install token, whatever a host adds), and the URL's
 * userinfo and query values. The classifier removes every trace of them from what comes back.
 */
export function secretsOf(headers: Headers, url: URL): string[] {
  const out: string[] = []
  const key = keyOf(headers)
  if (key !== undefined && key !== "public") out.push(key)
  headers.forEach((value, name) => {
    // The key was taken from these two above (`public`, the anonymous key, is no secret).
    if (name === "authorization" || name === "x-api-key") return
    if (!PLAIN_HEADERS.has(name) && !name.startsWith("x-stainless-")) out.push(value)
  })
  if (url.username) out.push(url.username, safeDecode(url.username))
  if (url.password) out.push(url.password, safeDecode(url.password))
  url.searchParams.forEach((value) => out.push(value))
  return out.filter((s) => s !== "")
}

function safeDecode(value: string) {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
