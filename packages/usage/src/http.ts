/** Shared HTTP plumbing: secret-safe errors, manual redirects, body excerpts. */
import { UsageError, scrub } from "./errors.ts"

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export const DEFAULT_TIMEOUT_MS = 30_000
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
    throw new UsageError("network", `request to ${safeURL(url)} failed: ${why}`, { secrets, cause: e })
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
    text = await res.text()
  } catch {
    return ""
  }
  return excerptOf(text, secrets)
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
