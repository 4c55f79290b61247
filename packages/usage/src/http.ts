/** Shared HTTP plumbing: secret-safe errors, manual redirects, body excerpts. */
import { UsageError, scrub } from "./errors.ts"

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export const DEFAULT_TIMEOUT_MS = 30_000

/**
 * What no header value can carry: C0/C1 controls and format characters, and anything past Latin-1,
 * which fetch refuses ("has invalid value"), such as a curly quote or dash a document put around a
 * pasted key or cookie. Checked where a credential is read, so the error can say what to fix.
 */
export const UNSENDABLE = /[\p{Cc}\p{Cf}]|[^\u0000-\u00ff]/u
const EXCERPT_CHARS = 200

export async function send(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  secrets: readonly (string | undefined)[],
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  } catch (e) {
    const why =
      e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")
        ? `timed out after ${Math.round(timeoutMs / 1000)}s`
        : e instanceof Error
          ? e.message
          : String(e)
    throw new UsageError("network", `request to ${safeURL(url)} failed: ${why}; check the network connection and the base URL`, { secrets, cause: e })
  }
}

/** Origin and path only: a query string could carry anything. */
export function safeURL(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return "<invalid url>"
  }
}

/** The first bytes of a body as one line of text, tags removed, secrets scrubbed. */
export async function bodyExcerpt(res: Response, secrets: readonly (string | undefined)[]): Promise<string> {
  let text: string
  try {
    // Only what the excerpt can show is read; the rest of an error page is left on the wire.
    text = (await readBounded(res, EXCERPT_BYTES)).text
  } catch {
    return ""
  }
  return excerptOf(text, secrets)
}

/** The most of an error body read for its excerpt (excerptOf looks at 4,000 characters). */
const EXCERPT_BYTES = 16 * 1024

/**
 * A response body as UTF-8, reading at most `maxBytes`: past that the body is cancelled, so a
 * server that sends hundreds of megabytes (or never stops) costs no more than the cap.
 * `truncated` says there was more; a character cut by the cap is left out.
 */
export async function readBounded(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: "", truncated: false }
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = ""
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { text: text + decoder.decode(), truncated: false }
    const room = maxBytes - bytes
    if (value.byteLength > room) {
      text += decoder.decode(value.subarray(0, room), { stream: true })
      await reader.cancel().catch(() => {})
      return { text, truncated: true }
    }
    bytes += value.byteLength
    text += decoder.decode(value, { stream: true })
  }
}

/** The whole body, or a UsageError when it is over `maxBytes` (`what` names it: "the billing page"). */
export async function readBody(res: Response, maxBytes: number, what: string, url: string, secrets: readonly (string | undefined)[]): Promise<string> {
  const body = await readBounded(res, maxBytes)
  if (body.truncated) {
    throw new UsageError("parse_failed", `${what} from ${safeURL(url)} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB, far more than it ever holds; stopped reading it`, { secrets })
  }
  return body.text
}

export function excerptOf(text: string, secrets: readonly (string | undefined)[]): string {
  const flat = text
    .slice(0, 4_000)
    .replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
  const cleaned = scrub(flat, secrets)
  return cleaned.length > EXCERPT_CHARS ? `${cleaned.slice(0, EXCERPT_CHARS)}…` : cleaned
}

export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400
}

/** Resolve a Location header against the request URL. */
export function locationOf(res: Response, requestURL: string): URL | undefined {
  const loc = res.headers.get("location")
  if (!loc) return undefined
  try {
    return new URL(loc, requestURL)
  } catch {
    return undefined
  }
}

export function trimBase(baseURL: string): string {
  return baseURL.replace(/\/+$/, "")
}
