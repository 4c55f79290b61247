import { APICallError } from "ai"

/**
 * Wraps fetch so an error body that arrives with a success status reaches the classifier. The Go
 * endpoint has been seen answering 200 with a GoUsageLimitError JSON body; on a streaming request
 * the SDK would read that body as an empty event stream and report only "stream ended without a
 * finish reason", losing the type, metadata and retry-after. A streaming request is answered with
 * `text/event-stream`, so a JSON answer to one is read (bounded) and, when it is an error body,
 * raised as the APICallError a non-2xx answer would have produced.
 */

const MAX_BODY = 64 * 1024

export function surfaceErrorBodies(base?: typeof fetch): typeof fetch {
  const wrapped = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const response = await (base ?? globalThis.fetch)(input, init)
    if (!response.ok || !(response.headers.get("content-type") ?? "").includes("json") || !isStreaming(init?.body)) return response
    const body = await response.text()
    if (body.length <= MAX_BODY && isErrorBody(body)) {
      throw new APICallError({
        message: "The provider answered a streaming request with an error body",
        url: typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
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
