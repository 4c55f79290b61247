import { createHmac, randomBytes } from "node:crypto"

/**
 * Groups the failed attempts of one request, so `diagnose` can say "gave up after 3 attempts" for a
 * host whose SDK retries on its own. The request id is the host's `x-opencode-request` when it sends
 * one (OpenCode's runtime does: one per user message, shared by its retries); otherwise a keyed hash
 * of method, URL and body, since an SDK retry sends the same bytes again. The key is random per
 * process, so the id says nothing about the prompt to anyone reading the log, and only groups
 * attempts made by one process.
 */

const KEY = randomBytes(32)
/** Characters of a request body hashed to recognise its retries. */
const MAX_HASHED = 1024 * 1024
/** Requests remembered for counting; the oldest is forgotten first. */
const MAX_TRACKED = 1024

const counts = new Map<string, number>()

/**
 * The id records of this request are grouped under. `identity` is what else a retry sends the same
 * (the key, the session): two requests with one prompt but another key are two requests.
 */
export function requestID(hostID: string | undefined, method: string, url: string, identity: readonly (string | null)[], body: string | undefined): string {
  if (hostID !== undefined) return hostID
  // A body that cannot be read (a stream) cannot be recognised again: each attempt is its own request.
  const material = body === undefined ? randomBytes(16).toString("hex") : body
  const hmac = createHmac("sha256", KEY).update(`${method}\n${url}\n`)
  for (const value of identity) hmac.update(`${value ?? ""}\n`)
  // A retry sends the same bytes: its length and its first MiB recognise it without hashing a 50 MB prompt.
  hmac.update(`${material.length}\n`).update(material.length > MAX_HASHED ? material.slice(0, MAX_HASHED) : material)
  return "fetch_" + hmac.digest("hex").slice(0, 20)
}

/** This failure's 1-based attempt number within its request. */
export function next(id: string): number {
  const attempt = Math.min(1000, (counts.get(id) ?? 0) + 1)
  // Delete first so a re-set moves the entry to the newest end of the Map's order.
  counts.delete(id)
  counts.set(id, attempt)
  if (counts.size > MAX_TRACKED) counts.delete(counts.keys().next().value!)
  return attempt
}
