import type { Provider, ProviderError } from "../provider"
import type { Answer } from "./free-tier"
import type { Method } from "./network"

/** What `probe --json` prints. Fingerprints only: no key and no install token ever appears here. */

export type Verdict = "shared" | "separate" | "inconclusive"
export type Quota = "ip" | "install" | "key" | "none" | "unknown"

export interface Outcome {
  ok: boolean
  kind: ProviderError.Kind | null
  statusCode: number | null
  retryAfterMs: number | null
  resetAt: string | null
}

export interface InstallReport {
  /** "check": the free-tier check's install. */
  role: "A" | "B" | "check"
  authSource: Provider.AuthSource
  keyFingerprint: string | null
  installFingerprint: string | null
  network: { label: string; address: string | null }
  requestsSent: number
  /** Requests answered normally before the last one. */
  succeeded: number
  /** The last request's result; null when it sent nothing. */
  outcome: Outcome | null
}

export interface CaseReport {
  name: string
  description: string
  status: "ran" | "skipped" | "not_run"
  installs: InstallReport[]
  requestsSent: number
  verdict: Verdict
  reason: string
}

/** The free-tier check: one anonymous free request from a fresh install, before the cases. */
export interface FreeTierReport {
  status: "ran" | "not_run"
  /** The install that asked; null when nothing was sent. */
  install: InstallReport | null
  requestsSent: number
  answer: Answer
  reason: string
}

export interface Report {
  target: { baseURL: string; loopback: boolean; model: string; goModel: string | null }
  network: { method: Method; honoured: boolean | null }
  budget: { max: number; used: number; exhausted: boolean }
  freeTier: FreeTierReport
  cases: CaseReport[]
  conclusion: {
    anonymousFreeQuota: Quota
    text: string
    /** Whether the gateway serves this runtime's anonymous free requests at all. */
    anonymousFreeTier: Answer
    freeTierText: string
  }
}

/** One outcome in a few words: `ok`, or `free_usage_limit 429, retry-after 50223 s`. */
export function describe(outcome: Outcome): string {
  if (outcome.ok) return "ok"
  const parts = [`${outcome.kind}${outcome.statusCode !== null ? ` ${outcome.statusCode}` : ""}`]
  if (outcome.retryAfterMs !== null) parts.push(`retry-after ${Math.round(outcome.retryAfterMs / 1000)} s`)
  return parts.join(", ")
}
