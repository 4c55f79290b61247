import { Provider } from "../provider"
import { SessionProcessor, SessionRetry } from "../session"
import * as Identifier from "../id/id"
import { Budget } from "./budget"
import * as Install from "./install"
import type { Outcome } from "./report"
import * as Target from "./target"

/**
 * The probe's relay mode: does a PawWork relay give installs on one network allowances of their
 * own? Two fresh anonymous installs, on this machine's one address, with the relay as their
 * `opencode` provider's baseURL: A sends until the relay refuses it, then B sends once. B served
 * means the relay counts per install (`separate`); B refused with the same refusal means it does
 * not (`shared`). Every request goes through the real runtime and counts against `maxRequests`.
 */

export const DEFAULT_MAX_REQUESTS = 50

export interface RelayOptions {
  /** The relay's OpenAI-compatible base URL, as it goes in opencode.json (`http://host:8787/v1`; `/v1` is added to an origin). */
  relayURL: string
  model?: string
  maxRequests?: number
  acceptRealQuota?: boolean
  fetch?: typeof fetch
  progress?: (line: string) => void
}

export interface RelayInstall {
  role: "A" | "B"
  installFingerprint: string | null
  requestsSent: number
  succeeded: number
  outcome: Outcome | null
  /** The refusal's scope (`relay-install`, `relay-ip`, ...), when it was one of the relay's. */
  quotaScope: string | null
}

export interface RelayReport {
  relay: string
  model: string
  budget: { max: number; used: number; exhausted: boolean }
  installs: RelayInstall[]
  verdict: "separate" | "shared" | "inconclusive"
  text: string
}

export async function relay(options: RelayOptions): Promise<RelayReport> {
  const baseURL = relayBaseURL(options.relayURL)
  const maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS
  // A relay that is not on this machine serves from someone's budget: the same deliberate act as the gateway probe.
  Target.guard({ baseURL, zenBaseURL: baseURL, goBaseURL: baseURL, loopback: Target.isLoopback(new URL(baseURL).hostname) }, options.acceptRealQuota === true, maxRequests)
  const modelID = options.model?.replace(/^opencode\//, "") ?? "big-pickle"
  const budget = new Budget(maxRequests)
  const base = options.fetch ?? fetch
  const progress = options.progress ?? (() => {})
  const target: Target.Target = { baseURL, zenBaseURL: baseURL, goBaseURL: baseURL, loopback: true }
  const root = await Install.makeRoot()
  try {
    const make = async (role: "A" | "B") => {
      const made = await Install.create(root, `relay-${role}`, target, { kind: "none" })
      return { role, resolved: await Provider.getModel("opencode", modelID, made.env), sent: 0, succeeded: 0, outcome: null as Outcome | null, quotaScope: null as string | null }
    }
    const a = await make("A")
    const b = await make("B")
    const turn = async (who: Awaited<ReturnType<typeof make>>) => {
      if (budget.remaining < 1) return false
      const policy = SessionRetry.policy()
      const before = budget.used
      const result = await SessionProcessor.process({
        model: who.resolved,
        sessionID: Identifier.create("session"),
        requestID: Identifier.ascending("message"),
        messages: [{ role: "user", content: "Reply with one word." }],
        fetch: budget.fetch(base),
        decide: (failure) => (budget.remaining < 1 ? { action: "stop" } : policy(failure)),
        sleep: async () => {},
      })
      who.sent += budget.used - before
      if (result.ok) who.succeeded++
      who.outcome = result.ok
        ? { ok: true, kind: null, statusCode: 200, retryAfterMs: null, resetAt: null }
        : { ok: false, kind: result.failure.kind, statusCode: result.failure.statusCode, retryAfterMs: result.failure.retryAfterMs, resetAt: result.failure.resetAt }
      who.quotaScope = result.ok ? null : result.failure.quotaScope
      progress(`probe: relay ${who.role} request ${who.sent}: ${result.ok ? "ok" : `${result.failure.statusCode ?? "-"} ${result.failure.kind}`} · ${budget.used}/${budget.max} requests used`)
      return result.ok
    }

    // A spends, keeping one request for B.
    while (budget.remaining > 1 && (await turn(a))) {}
    const finish = (verdict: RelayReport["verdict"], text: string): RelayReport => ({
      relay: baseURL,
      model: `opencode/${modelID}`,
      budget: { max: maxRequests, used: budget.used, exhausted: budget.remaining < 1 || budget.hit },
      installs: [a, b].map((p) => ({
        role: p.role,
        installFingerprint: p.resolved.install.sent ? (p.resolved.install.fingerprint ?? null) : null,
        requestsSent: p.sent,
        succeeded: p.succeeded,
        outcome: p.outcome,
        quotaScope: p.quotaScope,
      })),
      verdict,
      text,
    })
    if (a.outcome?.ok !== false)
      return finish("inconclusive", `A was not refused within ${a.sent} requests: the relay's per-install allowance is larger than --max-requests ${maxRequests}; raise it.`)
    if (a.outcome.kind !== "relay_limit")
      return finish("inconclusive", `A failed with ${a.outcome.statusCode ?? "-"} ${a.outcome.kind}, not with one of the relay's allowances, so there was nothing to compare.`)
    if (a.succeeded === 0) return finish("inconclusive", `A was refused on its first request (${a.quotaScope}): that allowance was spent before the probe began.`)
    if (a.quotaScope !== "relay-install")
      return finish("inconclusive", `A ran into the relay's ${a.quotaScope} allowance before its own, so the relay's per-install allowance was not what stopped it.`)
    await turn(b)
    if (b.outcome?.ok)
      return finish("separate", `B, on the same network, was served after A had used up its ${a.succeeded} requests: the relay gives each install its own allowance.`)
    if (b.outcome?.kind === "relay_limit" && b.quotaScope === "relay-install")
      return finish("shared", "B was refused with A's per-install refusal: the relay does not tell these installs apart (is x-pawwork-install turned off?).")
    return finish("inconclusive", b.outcome ? `B failed with ${b.outcome.statusCode ?? "-"} ${b.outcome.kind}${b.quotaScope ? ` (${b.quotaScope})` : ""}, not with A's refusal.` : "B sent nothing (budget).")
  } finally {
    await Install.removeRoot(root)
  }
}

/** `http://host:8787` → `http://host:8787/v1`; a URL already ending in /v1 is kept. */
const RELAY_FLAG = { name: "--relay", example: "Give the relay's base URL, as in opencode.json, for example http://127.0.0.1:8787/v1." }

export function relayBaseURL(given: string): string {
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new Target.InvalidTargetError(given, "is not a URL", RELAY_FLAG)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Target.InvalidTargetError(given, "is not an http(s) URL", RELAY_FLAG)
  if (url.username || url.password || url.search || url.hash) throw new Target.InvalidTargetError(given, "must not carry credentials, a query or a fragment", RELAY_FLAG)
  const path = url.pathname.replace(/\/+$/, "")
  return url.origin + (path.endsWith("/v1") ? path : `${path}/v1`)
}

export function render(report: RelayReport): string {
  const lines = [
    `Relay probe of ${report.relay} with ${report.model}, two fresh installs on this machine's one network.`,
    `Requests: ${report.budget.used} of ${report.budget.max} (--max-requests).`,
    ...report.installs.map(
      (i) =>
        `install ${i.role} (${i.installFingerprint ?? "no install token"}): ${i.succeeded} ok of ${i.requestsSent}${i.outcome && !i.outcome.ok ? `, then ${i.outcome.statusCode ?? "-"} ${i.outcome.kind}${i.quotaScope ? ` (${i.quotaScope})` : ""}` : ""}`,
    ),
    `Verdict: ${report.verdict} — ${report.text}`,
  ]
  return lines.join("\n") + "\n"
}
