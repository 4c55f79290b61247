import type { Scope, Verdict } from "./allowance"
import { secondsUntil } from "./day"

/**
 * The relay's own refusals, in the gateway's error shape (`{ type: "error", error: { type,
 * message }, metadata }`) so any OpenCode client reads them, with types of their own so none is
 * mistaken for the gateway's (or for a key problem): the runtime's classifier knows each one.
 */

export const ERROR_TYPES: Record<Scope | "redis", string> = {
  install: "InstallLimitError",
  ip: "IpLimitError",
  "new-install": "NewInstallLimitError",
  global: "RelayBudgetError",
  concurrency: "ConcurrencyLimitError",
  redis: "RelayUnavailableError",
}

/** A full slot frees when a request ends: worth a short wait, not one to the reset. */
export const CONCURRENCY_RETRY_AFTER_SEC = 2
/** Redis is usually back (or fails over) within seconds. */
export const UNAVAILABLE_RETRY_AFTER_SEC = 5

type Refused = Extract<Verdict, { ok: false }>

export function refusalResponse(verdict: Refused, now: number, resetAt: number): Response {
  const daily = verdict.scope !== "concurrency"
  const retryAfter = daily ? secondsUntil(resetAt, now) : CONCURRENCY_RETRY_AFTER_SEC
  const resetsAt = new Date(resetAt).toISOString()
  return errorResponse(429, ERROR_TYPES[verdict.scope], message(verdict), {
    headers: { "retry-after": String(retryAfter) },
    metadata: {
      scope: verdict.scope,
      limitName: verdict.limitName,
      limit: verdict.limit,
      used: round(verdict.used),
      ...(daily ? { resetsAt } : {}),
    },
  })
}

export function unavailableResponse(): Response {
  return errorResponse(503, ERROR_TYPES.redis, "The PawWork relay cannot check allowances right now. Try again in a few seconds.", {
    headers: { "retry-after": String(UNAVAILABLE_RETRY_AFTER_SEC) },
    metadata: { scope: "redis" },
  })
}

export function errorResponse(
  status: number,
  type: string,
  text: string,
  options: { headers?: Record<string, string>; metadata?: Record<string, unknown> } = {},
): Response {
  const body: Record<string, unknown> = { type: "error", error: { type, message: text } }
  if (options.metadata) body.metadata = options.metadata
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...options.headers } })
}

function message(v: Refused): string {
  const amount = v.limitName === "spend" ? `$${v.limit.toFixed(2)}` : `${v.limit} ${v.limitName}`
  switch (v.scope) {
    case "install":
      return `This install's daily ${v.limitName === "spend" ? "spend " : ""}allowance on the PawWork relay is used up (${amount}). It resets at 00:00 UTC.`
    case "ip":
      return `The daily allowance of this network on the PawWork relay is used up (${amount}, shared by every install on this address). It resets at 00:00 UTC.`
    case "new-install":
      return `Too many new installs from this network today on the PawWork relay (${amount}). Installs already seen today keep working; it resets at 00:00 UTC.`
    case "global":
      return `The PawWork relay's daily budget is spent for everyone (${amount}). It resets at 00:00 UTC.`
    case "concurrency":
      return `This install already has ${v.limit} requests in progress on the PawWork relay. Wait for one to finish.`
  }
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6
}
