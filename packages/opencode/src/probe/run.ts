import { Installation } from "../installation"
import { Provider, ProviderCatalog, type ProviderError } from "../provider"
import { SessionProcessor, SessionRetry } from "../session"
import * as Identifier from "../id/id"
import { RuntimeError } from "../util/error"
import { Budget } from "./budget"
import { CASES, distinctNetworks, type InstallSpec, type Spec } from "./cases"
import * as Conclusion from "./conclusion"
import * as FreeTier from "./free-tier"
import * as Install from "./install"
import * as Network from "./network"
import { describe, type CaseReport, type FreeTierReport, type InstallReport, type Outcome, type Report, type Verdict } from "./report"
import * as Target from "./target"

/** Enough for the free-tier check and the whole matrix against a simulator started with `--free-daily-limit 3 --no-new-client-bonus`. */
export const DEFAULT_MAX_REQUESTS = 50
export const QUICK_SIM = "bun run sim --trust-proxy --free-daily-limit 3 --no-new-client-bonus"

export interface Options {
  /** The gateway origin; default https://opencode.ai. */
  baseURL?: string
  /** A free Zen model, `big-pickle` or `opencode/big-pickle`. */
  model?: string
  maxRequests?: number
  /** The Zen key for the keyed cases, and the variable it was read from (for the skip reason). */
  key?: { env: string; value: string | undefined }
  /** A Go key, for the Go windows case. */
  goKey?: { env: string; value: string | undefined }
  acceptRealQuota?: boolean
  /** Every HTTP request goes through this (tests inject a recorder). */
  fetch?: typeof fetch
  /** One line per request sent, for stderr. */
  progress?: (line: string) => void
}

export class InvalidProbeOptionError extends RuntimeError {
  readonly code = "usage"
  constructor(message: string) {
    super(message)
    this.name = "InvalidProbeOptionError"
  }
}

/**
 * Asks once whether the gateway serves this runtime's anonymous free requests at all, then runs
 * the comparison matrix through the real runtime (Provider.getModel, SessionProcessor) with fresh
 * throwaway installs, never more than `maxRequests` HTTP requests in all, and concludes which
 * identity the gateway keys the anonymous free allowance on. Refuses, before creating or sending
 * anything, to run against a non-loopback gateway unless `acceptRealQuota`.
 */
export async function run(options: Options = {}): Promise<Report> {
  const target = Target.parse(options.baseURL)
  const maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS
  if (!Number.isSafeInteger(maxRequests) || maxRequests < 0) throw new InvalidProbeOptionError(`--max-requests takes a whole number, 0 or more.`)
  Target.guard(target, options.acceptRealQuota === true, maxRequests)
  const modelID = freeModel(options.model)
  const goModelID = Object.keys(ProviderCatalog.BUILTIN["opencode-go"]!.models)[0]!
  const probe = new Probe(target, new Budget(maxRequests), options.fetch ?? fetch, options.progress ?? (() => {}), modelID, goModelID, options)
  const root = await Install.makeRoot()
  try {
    const freeTier = await probe.freeTier(root)
    const cases = await probe.matrix(root)
    const quota = Conclusion.decide(cases, { target, budget: { max: maxRequests, exhausted: probe.exhausted }, honoured: probe.honoured, freeTier: freeTier.answer })
    return {
      target: { baseURL: target.baseURL, loopback: target.loopback, model: `opencode/${modelID}`, goModel: options.goKey?.value ? `opencode-go/${goModelID}` : null },
      network: { method: Network.method(target), honoured: probe.honoured },
      budget: { max: maxRequests, used: probe.budget.used, exhausted: probe.exhausted },
      freeTier,
      cases,
      conclusion: { ...quota, anonymousFreeTier: freeTier.answer, freeTierText: freeTier.reason },
    }
  } finally {
    await Install.removeRoot(root)
  }
}

/** Only free Zen models: with a key in play, a paid model would be billed. */
export function freeModel(given: string | undefined): string {
  const id = given === undefined ? ProviderCatalog.DEFAULT_MODEL.modelID : given.startsWith("opencode/") ? given.slice("opencode/".length) : given
  const model = ProviderCatalog.BUILTIN.opencode!.models[id]
  if (!model || model.cost.input !== 0) {
    const free = Object.values(ProviderCatalog.BUILTIN.opencode!.models).filter((m) => m.cost.input === 0).map((m) => `opencode/${m.id}`)
    throw new InvalidProbeOptionError(`--model ${JSON.stringify(given)} is not a free OpenCode Zen model. The probe only uses free models: ${free.join(", ")}.`)
  }
  return id
}

interface Participant {
  role: InstallReport["role"]
  resolved: Provider.Resolved
  network: Network.Network
  sent: number
  succeeded: number
  outcome: Outcome | null
  /** The last request's normalized failure, when it failed. */
  failure?: ProviderError.Info
  lastSession?: string
}

class Probe {
  exhausted = false
  /** The free-tier check's answer; until it has run, nothing is known. */
  freeTierAnswer: FreeTier.Answer = "unknown"
  /** Whether the gateway counted the x-real-ip addresses; null until known (or unknowable). */
  honoured: boolean | null = null
  #checked = false
  readonly #networks: Network.Allocator

  constructor(
    readonly target: Target.Target,
    readonly budget: Budget,
    readonly base: typeof fetch,
    readonly progress: (line: string) => void,
    readonly modelID: string,
    readonly goModelID: string,
    readonly options: Options,
  ) {
    this.#networks = new Network.Allocator(target)
  }

  /**
   * One anonymous free request from a fresh install on a fresh network, with exactly the headers
   * the runtime sends, tried once: a retry would only repeat the question and spend the budget.
   */
  async freeTier(root: string): Promise<FreeTierReport> {
    if (this.budget.remaining < 1) {
      this.exhausted = true
      return { status: "not_run", install: null, requestsSent: 0, answer: "unknown", reason: `Not asked: the budget of ${this.budget.max} requests left none for it.` }
    }
    const made = await Install.create(root, "free-tier-check", this.target, { kind: "none" })
    const resolved = await Provider.getModel("opencode", this.modelID, made.env)
    const who: Participant = { role: "check", resolved, network: this.#networks.fresh(), sent: 0, succeeded: 0, outcome: null }
    const served = await this.turn("free-tier", who, false)
    const verdict: FreeTier.Verdict =
      who.sent === 0 || (!served && !who.failure)
        ? { answer: "unknown", text: "Not asked: the request could not be sent within the budget." }
        : FreeTier.judge(served ? { ok: true } : { ok: false, failure: who.failure! }, Installation.userAgent("cli"))
    this.freeTierAnswer = verdict.answer
    return { status: "ran", install: report(who), requestsSent: who.sent, answer: verdict.answer, reason: verdict.text }
  }

  async matrix(root: string): Promise<CaseReport[]> {
    const skips = new Map(CASES.map((spec) => [spec.name, this.skipReason(spec)]))
    const reports: CaseReport[] = []
    for (const [index, spec] of CASES.entries()) {
      const skip = skips.get(spec.name)
      if (skip) {
        reports.push(empty(spec, "skipped", skip))
        continue
      }
      // Equal shares of what is left, so a budget too small for the whole matrix still gives every
      // case a fair chance instead of letting the first one take it all.
      const left = CASES.slice(index).filter((s) => !skips.get(s.name)).length
      const share = Math.max(2, Math.floor(this.budget.remaining / left))
      if (this.exhausted || this.budget.remaining < 2) {
        this.exhausted = true
        reports.push(empty(spec, "not_run", `budget exhausted: ${this.budget.used} of ${this.budget.max} requests used`))
        continue
      }
      reports.push(await this.run(spec, Math.min(share, this.budget.remaining), root))
    }
    return reports
  }

  skipReason(spec: Spec): string | undefined {
    if (FreeTier.refused(this.freeTierAnswer) && (spec.a.key === "none" || spec.b.key === "none"))
      return `the gateway does not serve this runtime's anonymous free requests (free-tier check: ${this.freeTierAnswer}), and this case needs them`
    if (spec.needs === "key" && !this.options.key?.value)
      return this.options.key ? `$${this.options.key.env} is empty or not set` : "no key: give --key-env <VAR> naming a variable that holds an OpenCode key"
    if (spec.needs === "go-key" && !this.options.goKey?.value)
      return this.options.goKey ? `$${this.options.goKey.env} is empty or not set` : "no Go key: give --go-key-env <VAR> naming a variable that holds an OpenCode Go key"
    if (distinctNetworks(spec) && !this.target.loopback)
      return "needs two networks: against a remote gateway the probe cannot choose its client address; run it again from a second network (another connection, a phone hotspot) right after this one"
    return undefined
  }

  async run(spec: Spec, share: number, root: string): Promise<CaseReport> {
    const first = this.#networks.fresh()
    const second = distinctNetworks(spec) ? this.#networks.fresh() : first
    const a = await this.participant(spec, spec.a, "A", spec.a.network === "first" ? first : second, root)
    const b = await this.participant(spec, spec.b, "B", spec.b.network === "first" ? first : second, root)
    const before = this.budget.used
    const finish = (verdict: Verdict, reason: string): CaseReport => ({
      name: spec.name,
      description: spec.description,
      status: "ran",
      installs: [report(a), report(b)],
      requestsSent: this.budget.used - before,
      verdict,
      reason,
    })

    // A spends its allowance, keeping one request of the share for B.
    while (a.sent < share - 1 && !this.exhausted) {
      const ok = await this.turn(spec.name, a)
      if (!ok) break
      if (a.sent === 1 && distinctNetworks(spec) && !this.#checked) {
        this.#checked = true
        this.honoured = await Network.honoured(this.target, this.budget, this.base, new Map([[a.lastSession!, a.network.address ?? ""]]))
        this.progress(
          `probe: asked ${this.target.baseURL}/__sim/requests which address it counted: x-real-ip ${this.honoured === true ? "honoured" : this.honoured === false ? "ignored" : "not confirmed"} · ${this.budget.used}/${this.budget.max} requests used`,
        )
        if (this.honoured === false) return finish("inconclusive", ignoredProxyReason())
      }
    }
    if (a.outcome?.ok !== false || a.outcome.kind !== spec.limit) {
      if (a.outcome && !a.outcome.ok) return finish("inconclusive", `A failed with ${describe(a.outcome)} before its allowance ran out, so there was nothing to compare.`)
      if (this.exhausted) return finish("inconclusive", `budget exhausted before A's allowance ran out.`)
      return finish(
        "inconclusive",
        `A was not limited within ${a.sent} requests (this case's share of --max-requests ${this.budget.max}): raise --max-requests${this.target.loopback ? `, or start the simulator with \`${QUICK_SIM}\`` : ""}.`,
      )
    }
    if (a.succeeded === 0)
      return finish("inconclusive", `A was limited on its first request: this allowance was used up before the case began, so B's answer would say nothing about A.`)
    if (this.budget.remaining < 1) {
      this.exhausted = true
      return finish("inconclusive", "budget exhausted before B could send.")
    }
    await this.turn(spec.name, b)
    if (distinctNetworks(spec) && this.honoured === false) return finish("inconclusive", ignoredProxyReason())
    const unverified = distinctNetworks(spec) && this.honoured === null ? " (the gateway could not confirm it counted the x-real-ip addresses)" : ""
    if (b.outcome?.ok) return finish("separate", `B was served after A was limited (${describe(a.outcome)}): they do not share the allowance${unverified}.`)
    if (b.outcome && b.outcome.kind === spec.limit) return finish("shared", `B was limited too (${describe(b.outcome)}) as soon as A was: they share one allowance${unverified}.`)
    return finish("inconclusive", b.outcome ? `B failed with ${describe(b.outcome)}, not with A's limit.` : "B sent nothing.")
  }

  async participant(spec: Spec, install: InstallSpec, role: "A" | "B", network: Network.Network, root: string): Promise<Participant> {
    const key = spec.needs === "go-key" ? this.options.goKey?.value : this.options.key?.value
    const placement: Install.KeyPlacement = install.key === "none" || !key ? { kind: "none" } : { kind: install.key, key }
    const made = await Install.create(root, `${spec.name}-${role}`, this.target, placement)
    const resolved = await Provider.getModel(spec.providerID, spec.providerID === "opencode" ? this.modelID : this.goModelID, made.env)
    return { role, resolved, network, sent: 0, succeeded: 0, outcome: null }
  }

  /** One turn through the real processor; false when it failed (or could not be sent). */
  async turn(label: string, who: Participant, retry = true): Promise<boolean> {
    if (this.budget.remaining < 1) {
      this.exhausted = true
      return false
    }
    const policy = SessionRetry.policy()
    const sessionID = Identifier.create("session")
    who.lastSession = sessionID
    const before = this.budget.used
    const result = await SessionProcessor.process({
      model: who.resolved,
      sessionID,
      requestID: Identifier.ascending("message"),
      messages: [{ role: "user", content: "Reply with one word." }],
      fetch: this.budget.fetch(this.base, Network.headers(who.network)),
      // The runtime's own policy decides, except that a retry needs budget left; sleep is a no-op
      // because a probe must never wait on anything (the policy already stops at once on a quota).
      decide: (failure) => (!retry || this.budget.remaining < 1 ? { action: "stop" } : policy(failure)),
      sleep: async () => {},
    })
    who.sent += this.budget.used - before
    if (result.ok) who.succeeded++
    who.failure = result.ok ? undefined : result.failure
    who.outcome = result.ok
      ? { ok: true, kind: null, statusCode: 200, retryAfterMs: null, resetAt: null }
      : { ok: false, kind: result.failure.kind, statusCode: result.failure.statusCode, retryAfterMs: result.failure.retryAfterMs, resetAt: result.failure.resetAt }
    if (this.budget.hit) this.exhausted = true
    const where = who.network.address ? `${who.network.label} ${who.network.address}` : who.network.label
    this.progress(
      `probe: ${label} ${who.role} (${who.resolved.provider.credential.source}, ${where}) request ${who.sent}: ${who.outcome.ok ? "ok" : describe(who.outcome)} · ${this.budget.used}/${this.budget.max} requests used`,
    )
    return result.ok
  }
}

function report(p: Participant): InstallReport {
  const { credential } = p.resolved.provider
  return {
    role: p.role,
    authSource: credential.source,
    keyFingerprint: credential.fingerprint ?? null,
    installFingerprint: p.resolved.install.sent ? (p.resolved.install.fingerprint ?? null) : null,
    network: { label: p.network.label, address: p.network.address },
    requestsSent: p.sent,
    succeeded: p.succeeded,
    outcome: p.outcome,
  }
}

function empty(spec: Spec, status: "skipped" | "not_run", reason: string): CaseReport {
  return { name: spec.name, description: spec.description, status, installs: [], requestsSent: 0, verdict: "inconclusive", reason }
}

function ignoredProxyReason() {
  return `the gateway ignored x-real-ip (every request counted from the same address), so both installs were on one network after all: start the simulator with --trust-proxy.`
}
