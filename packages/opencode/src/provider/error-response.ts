import { APICallError } from "ai"
import { readBounded } from "../util/bounded-stream"

/**
 * Wraps fetch so an error body that arrives with a success status reaches the classifier. The Go
 * endpoint has been seen answering 200 with a GoUsageLimitError JSON body; on a streaming request
 * the SDK would read that body as an empty event stream and report only "stream ended without a
 * finish reason", losing the type, metadata and retry-after. A streaming request is answered with
 * `text/event-stream`, so a JSON answer to one is read (bounded) and, when it is an error body,
 * raised as the APICallError a non-2xx answer would have produced.
 */

const MAX_BODY = 64 * 1024

/**
 * The longest stretch of an event stream without a line break. The SDK's event parser keeps an
 * unfinished line in memory until its line break comes, so a server that never sends one grew the
 * process by gigabytes while the silence deadline (which counts events) saw nothing wrong. A real
 * event is a few hundred bytes; this leaves room for any event a chat model sends.
 */
const MAX_LINE = 8 * 1024 * 1024

/**
 * Also caps what is read of any body that is not a stream of events: the SDK reads an error body
 * whole, and the classifier looks at far less than MAX_BODY, so a server that sends hundreds of
 * megabytes (or never stops) is cut there and the rest is never read.
 */
export function surfaceErrorBodies(base?: typeof fetch): typeof fetch {
  const wrapped = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    // Never followed: fetch drops Authorization on a redirect to another host, but sends the install
    // token, every configured header (a relay key) and the prompt on to it.
    const response = await (base ?? globalThis.fetch)(input, { ...init, redirect: "manual" })
    if (response.status >= 300 && response.status < 400) throw redirected(response, urlOf(input))
    if (!response.ok) return capped(response)
    // Only a streaming request's answer is an event stream: a non-streamed JSON answer may be one long line.
    if (!isStreaming(init?.body)) return response
    if (!(response.headers.get("content-type") ?? "").includes("json")) return lineBounded(response, urlOf(input))
    const { text: body, truncated } = response.body ? await readBounded(response.body, MAX_BODY) : { text: "", truncated: false }
    if (truncated || isErrorBody(body)) {
      throw new APICallError({
        message: truncated
          ? `The provider answered a streaming request with a JSON body over ${MAX_BODY / 1024} KiB instead of an event stream; only its start was read`
          : "The provider answered a streaming request with an error body",
        url: urlOf(input),
        requestBodyValues: {},
        statusCode: response.status,
        responseHeaders: Object.fromEntries(response.headers),
        responseBody: body,
        isRetryable: false,
      })
    }
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
  return Object.assign(wrapped, { preconnect: globalThis.fetch.preconnect }) as typeof fetch
}

/** The same response with a body that ends after MAX_BODY bytes; the rest is cancelled unread. */
function capped(response: Response): Response {
  if (!response.body) return response
  const reader = response.body.getReader()
  let bytes = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) return controller.close()
      const room = MAX_BODY - bytes
      bytes += value.byteLength
      if (value.byteLength < room) return controller.enqueue(value)
      controller.enqueue(value.subarray(0, room))
      controller.close()
      await reader.cancel().catch(() => {})
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
}

/**
 * The same response, failing with an APICallError once a line passes MAX_LINE bytes; the rest is
 * cancelled unread. Every streamed answer goes through here, so it is a pull source over the body's
 * reader, not a TransformStream: pipeThrough's machinery cost more per answer than the rest of the
 * runtime's own work on it.
 */
function lineBounded(response: Response, url: string): Response {
  if (!response.body) return response
  const reader = response.body.getReader()
  let run = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read()
      if (done) return controller.close()
      const last = Math.max(value.lastIndexOf(0x0a), value.lastIndexOf(0x0d))
      run = last >= 0 ? value.byteLength - 1 - last : run + value.byteLength
      if (run <= MAX_LINE) return controller.enqueue(value)
      controller.error(
        new APICallError({
          message: `The provider sent more than ${MAX_LINE / 1024 / 1024} MiB without a line break in its event stream; the answer was cut there`,
          url,
          requestBodyValues: {},
          statusCode: response.status,
          responseHeaders: Object.fromEntries(response.headers),
          isRetryable: false,
        }),
      )
      await reader.cancel().catch(() => {})
    },
    cancel: (reason) => reader.cancel(reason),
  })
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
}

function redirected(response: Response, url: string) {
  void response.body?.cancel().catch(() => {})
  let where = "another address"
  try {
    // Scheme, host and path only: a query or userinfo in the Location is not ours to print.
    const to = new URL(response.headers.get("location") ?? "", url)
    where = `${to.protocol}//${to.host}${to.pathname}`
  } catch {}
  return new APICallError({
    message: `The provider redirected the request to ${where}; it was not followed, so the key, headers and prompt went nowhere else. If the provider has moved, set its baseURL in opencode.json to the new address`,
    url,
    requestBodyValues: {},
    statusCode: response.status,
    responseHeaders: Object.fromEntries(response.headers),
    isRetryable: false,
  })
}

function urlOf(input: Parameters<typeof fetch>[0]) {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url
}

function isStreaming(body: unknown) {
  return typeof body === "string" && /"stream"\s*:\s*true/.test(body)
}

function isErrorBody(body: string) {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; type?: unknown }
    return typeof parsed === "object" && parsed !== null && (parsed.type === "error" || (typeof parsed.error === "object" && parsed.error !== null))
  } catch {
    return false
  }
}
