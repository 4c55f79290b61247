import type { ProviderError } from "../provider"

/**
 * Whether the gateway serves this runtime's anonymous free requests at all. Since 2026-09-17 the
 * real gateway refuses anonymous free-tier requests that do not look like OpenCode's own client
 * (gateway-drift-2026.md, section 1): `403 FreeTierError`, or `426 Upgrade Required` where a
 * minimum client version is enforced. The probe asks once, with exactly the headers this runtime
 * sends, before comparing allowances, because a refused free tier has no allowance to compare.
 */

export type Answer = "served" | "gated" | "outdated" | "unknown"

export interface Verdict {
  answer: Answer
  text: string
}

/** What one anonymous request got: served, or the normalized failure. */
export type Result = { ok: true } | { ok: false; failure: ProviderError.Info }

export function judge(result: Result, userAgent: string): Verdict {
  if (result.ok)
    return {
      answer: "served",
      text: `An anonymous request with this runtime's own headers (a canonical x-opencode-session, User-Agent ${userAgent}) was served. OpenCode can close its free tier to other clients at any time, so this holds for now, not for good.`,
    }
  const { failure } = result
  if (failure.kind === "free_tier_gated")
    return {
      answer: "gated",
      text: `The gateway refused this runtime's anonymous request (${failure.statusCode ?? "no status"} FreeTierError): OpenCode serves its free models only to its own app. This is not a key problem; a saved OpenCode key or an OpenCode Go subscription works. The allowance comparisons below need the anonymous free tier and were not run.`,
    }
  if (failure.kind === "client_outdated")
    return {
      answer: "outdated",
      text: `The gateway answered 426 Upgrade Required: it serves anonymous free requests only to newer OpenCode clients than this runtime's User-Agent (${userAgent}) says. PawWork reports its own version and does not borrow another client's; a saved OpenCode key or an OpenCode Go subscription works. The allowance comparisons below need the anonymous free tier and were not run.`,
    }
  return {
    answer: "unknown",
    text: `The anonymous request failed with ${failure.kind}${failure.statusCode !== null ? ` ${failure.statusCode}` : ""}, which says neither that the free tier serves this runtime nor that it refuses it.${failure.kind === "free_usage_limit" ? " The free allowance of this network is spent for today: ask again after it resets." : ""}`,
  }
}

/** Whether the anonymous cases can run: only when the free tier was not refused outright. */
export function refused(answer: Answer) {
  return answer === "gated" || answer === "outdated"
}
