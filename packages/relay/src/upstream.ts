import type { SecretSet } from "@pawwork/secrets"
import { CostScanner } from "./cost"
import { errorResponse } from "./refusal"

/**
 * One forwarded request: to the configured upstream's `/chat/completions` only, with the relay's
 * key, the client's OpenCode identity headers as a normal client sends them, and nothing else
 * (never `x-pawwork-install`, cookies, forwarding headers or the client's own Authorization).
 * The answer's status and bytes pass through unchanged, so an upstream error keeps its type (an
 * error body is read whole, at most ERROR_BODY_MAX bytes, and every trace of the relay's key removed);
 * `done` is called exactly once, with the cost the answer reported, when it has been passed on
 * completely, failed, timed out or been abandoned by the client.
 */

// What an OpenCode client sends that the gateway reads (identity, routing, language); everything else stays here.
const FORWARDED_REQUEST_HEADERS = [
  "accept",
  "accept-language",
  "user-agent",
  "x-opencode-project",
  "x-opencode-session",
  "x-opencode-request",
  "x-opencode-client",
]
// The gateway passes on content-type and cache-control; its own limits add retry-after.
const FORWARDED_RESPONSE_HEADERS = ["content-type", "cache-control", "retry-after", "retry-after-ms"]
// Gateway error bodies are small; one that is not is cut here.
const ERROR_BODY_MAX = 64 * 1024

export interface UpstreamCall {
  url: string
  key: string
  /** The relay's key and anything else an upstream error must not echo to the client. */
  secrets: SecretSet
  body: Uint8Array
  headers: Headers
  stream: boolean
  firstByteTimeoutMs: number
  responseTimeoutMs: number
  /** The client's request signal: a client that leaves aborts the upstream call. */
  clientSignal: AbortSignal
  done: (result: { status: number; costUSD: number | null; outcome: "complete" | "aborted" | "failed" }) => void
  fetch?: typeof fetch
}

export async function forward(call: UpstreamCall): Promise<Response> {
  const headers = new Headers({ "content-type": "application/json", authorization: `Bearer ${call.key}` })
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = call.headers.get(name)
    if (value !== null) headers.set(name, value)
  }
  const upstreamAbort = new AbortController()
  let finished = false
  const finish = (status: number, costUSD: number | null, outcome: "complete" | "aborted" | "failed") => {
    if (finished) return
    finished = true
    clearTimeout(whole)
    call.clientSignal.removeEventListener("abort", onClientAbort)
    call.done({ status, costUSD, outcome })
  }
  const onClientAbort = () => upstreamAbort.abort(new DOMException("client went away", "AbortError"))
  call.clientSignal.addEventListener("abort", onClientAbort, { once: true })
  const firstByte = setTimeout(() => upstreamAbort.abort(new DOMException("first byte", "TimeoutError")), call.firstByteTimeoutMs)
  const whole = setTimeout(() => upstreamAbort.abort(new DOMException("response", "TimeoutError")), call.responseTimeoutMs)

  let upstream: Response
  try {
    upstream = await (call.fetch ?? fetch)(call.url, { method: "POST", headers, body: call.body, signal: upstreamAbort.signal, redirect: "manual" })
  } catch {
    clearTimeout(firstByte)
    if (call.clientSignal.aborted) {
      finish(499, null, "aborted")
      return new Response(null, { status: 499 })
    }
    const timedOut = upstreamAbort.signal.aborted
    finish(timedOut ? 504 : 502, null, "failed")
    return timedOut
      ? errorResponse(504, "UpstreamTimeoutError", `The PawWork relay got no answer from the gateway within ${Math.round(call.firstByteTimeoutMs / 1000)} s.`)
      : errorResponse(502, "UpstreamUnavailableError", "The PawWork relay could not reach the gateway.")
  }
  clearTimeout(firstByte)

  const out = new Headers()
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name)
    if (value !== null) out.set(name, value)
  }
  const status = upstream.status
  // A redirect would send the client (or the relay) somewhere else: no open proxy, not even by the upstream.
  if (status >= 300 && status < 400) {
    await upstream.body?.cancel().catch(() => {})
    finish(502, null, "failed")
    return errorResponse(502, "UpstreamUnavailableError", "The gateway answered with a redirect, which the PawWork relay does not follow.")
  }
  if (!upstream.body) {
    finish(status, null, "complete")
    return new Response(null, { status, headers: out })
  }
  if (status >= 400) {
    // An upstream that echoes the key it was called with must not hand it to the client.
    const text = await readText(upstream.body, ERROR_BODY_MAX).catch(() => "")
    finish(status, null, "complete")
    out.delete("content-length")
    return new Response(call.secrets.remove(text), { status, headers: out })
  }
  const scanner = new CostScanner(call.stream && (upstream.headers.get("content-type") ?? "").includes("text/event-stream"))
  const reader = upstream.body.getReader()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read()
        if (done) {
          controller.close()
          finish(status, scanner.finish(), "complete")
          return
        }
        scanner.push(value)
        controller.enqueue(value)
      } catch (error) {
        finish(status, scanner.finish(), call.clientSignal.aborted ? "aborted" : "failed")
        controller.error(error)
      }
    },
    cancel(reason) {
      // The client went away mid-answer: stop the upstream, free the slot.
      finish(status, scanner.finish(), "aborted")
      upstreamAbort.abort(reason)
      return reader.cancel(reason).catch(() => {})
    },
  })
  return new Response(body, { status, headers: out })
}

async function readText(body: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let text = ""
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    text += decoder.decode(value, { stream: true })
    if (size >= max) {
      await reader.cancel().catch(() => {})
      break
    }
  }
  return text + decoder.decode()
}
