/**
 * OpenCode Go usage windows from `GET <base>/usage` with a Go API key.
 * The endpoint is undocumented; its shape is pinned in the tests.
 */
import { FieldReader, asRecord, describe } from "./check.ts"
import { UsageError } from "./errors.ts"
import { isRecord } from "./hydration/index.ts"
import { DEFAULT_TIMEOUT_MS, type FetchLike, excerptOf, readBounded, safeURL, send, trimBase } from "./http.ts"
import { type UsageWindow, readWindow, withoutSeconds } from "./windows.ts"

export const DEFAULT_GO_BASE_URL = "https://opencode.ai/zen/go/v1"
/** The usage answer, or an error body: a few hundred bytes either way. */
const MAX_BODY_BYTES = 256 * 1024

export interface GoUsage {
  workspaceID: string | null
  rolling: UsageWindow
  weekly: UsageWindow
  monthly: UsageWindow
}

export interface FetchGoUsageOptions {
  baseURL?: string
  apiKey: string
  fetch?: FetchLike
  timeoutMs?: number
  now?: number
}

export async function fetchGoUsage(options: FetchGoUsageOptions): Promise<GoUsage> {
  const apiKey = (options.apiKey ?? "").trim()
  const secrets = [options.apiKey, apiKey]
  if (!apiKey) throw new UsageError("auth", "no Go API key given")
  const url = `${trimBase(options.baseURL ?? DEFAULT_GO_BASE_URL)}/usage`
  const res = await send(
    options.fetch ?? fetch,
    url,
    { method: "GET", redirect: "manual", headers: { authorization: `Bearer ${apiKey}`, accept: "application/json", "user-agent": "pawwork-usage (experimental)" } },
    secrets,
    options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  )
  // The usage answer is a few hundred bytes: a body past the cap is not one, whatever its status.
  let read: { text: string; truncated: boolean }
  try {
    read = await readBounded(res, MAX_BODY_BYTES)
  } catch (e) {
    // The deadline covers the body too: headers and then silence is a timeout, not "not JSON".
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const why = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError") ? `timed out after ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}` : "the connection broke"
    throw new UsageError("network", `reading the answer of ${safeURL(url)} failed (${res.status}): ${why}; check connectivity or --base-url`, { status: res.status, secrets, cause: e })
  }
  if (read.truncated) throw new UsageError("parse_failed", `${safeURL(url)} answered ${res.status} with a body over ${MAX_BODY_BYTES / 1024} KiB; stopped reading it`, { secrets })
  const text = read.text
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  // The error body's type decides, whatever the status (proxies rewrite statuses).
  const errorType = errorTypeOf(body)
  if (errorType || res.status !== 200) throw classify(res.status, errorType, body, text, url, secrets)
  if (body === undefined) throw new UsageError("parse_failed", `${safeURL(url)} answered 200 with a body that is not JSON: ${excerptOf(text, secrets)}`, { secrets })
  return parseGoUsage(body, options.now ?? Date.now())
}

/** Validate a decoded `/usage` body. Exposed for tests and saved responses. */
export function parseGoUsage(body: unknown, now: number = Date.now()): GoUsage {
  const top = asRecord("go usage response", body)
  const wsRaw = top.raw("workspaceID")
  const workspaceID = typeof wsRaw === "string" ? wsRaw : null
  // Some clients saw the windows at the top level instead of under `usage`.
  const usage = isRecord(top.raw("usage")) ? top.requiredRecord("usage") : top
  const window = (name: string): UsageWindow => {
    const raw = usage.raw(name)
    if (!isRecord(raw)) throw new UsageError("parse_failed", `go usage response: field "usage.${name}": expected an object, found ${describe(raw)}`)
    return withoutSeconds(readWindow(new FieldReader(`go usage response usage.${name}`, raw), now))
  }
  return { workspaceID, rolling: window("rolling"), weekly: window("weekly"), monthly: window("monthly") }
}

function errorTypeOf(body: unknown): string | undefined {
  if (!isPlainObject(body)) return undefined
  const err = body.error
  if (isPlainObject(err) && typeof err.type === "string") return err.type
  if (body.type === "error" && typeof err === "string") return "error"
  return undefined
}

function errorMessageOf(body: unknown): string {
  if (isPlainObject(body) && isPlainObject(body.error) && typeof body.error.message === "string") return body.error.message
  return ""
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}

function classify(status: number, errorType: string | undefined, body: unknown, text: string, url: string, secrets: (string | undefined)[]): UsageError {
  const detail = (errorMessageOf(body) || excerptOf(text, secrets)).slice(0, 200)
  if (errorType === "AuthError" || (status === 401 && !errorType)) {
    return new UsageError("auth", `the Go API key was rejected (${status}${errorType ? ` ${errorType}` : ""}): ${detail}`, { status, secrets })
  }
  if (errorType === "EntitlementError") {
    return new UsageError("not_subscribed", `this key's workspace has no OpenCode Go subscription (${status} EntitlementError): ${detail}`, { status, secrets })
  }
  const type = errorType ? ` ${errorType}` : ""
  return new UsageError("http_error", `${status}${type} from ${safeURL(url)}: ${detail}`, { status, secrets })
}
