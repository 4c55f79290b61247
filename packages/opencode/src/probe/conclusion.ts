import { refused as freeTierRefused, type Answer } from "./free-tier"
import type { CaseReport, Quota, Report, Verdict } from "./report"
import type { Target } from "./target"

/**
 * "No limit" is claimed only when one install was served this many times in a row without being
 * limited: more than any allowance known for the gateway (the simulator's default, 200 a day,
 * doubled for new clients). A smaller budget that saw no limit proves nothing, and says so.
 */
export const NONE_EVIDENCE = 500

export interface Context {
  target: Target
  budget: { max: number; exhausted: boolean }
  honoured: boolean | null
  /** The free-tier check's answer; refused (gated, outdated) means the anonymous cases did not run. */
  freeTier?: Answer
}

export type QuotaConclusion = Pick<Report["conclusion"], "anonymousFreeQuota" | "text">

/**
 * The conclusion from the cases' verdicts: same network separate → per install; same network
 * shared and different networks separate → per IP; same network shared but a key separates →
 * per key; nothing ever limited (with enough evidence) → none; anything else → unknown, saying
 * what is missing.
 */
export function decide(cases: CaseReport[], context: Context): QuotaConclusion {
  const verdict = (name: string): Verdict => cases.find((c) => c.name === name)?.verdict ?? "inconclusive"
  const same = verdict("same-network")
  const different = verdict("different-networks")
  const key = verdict("saved-key-vs-anonymous")
  // Only meaningful where installs share: with per-install allowances B is a new install anyway.
  const keyNote =
    same !== "shared"
      ? ""
      : key === "shared" ? " A saved key does not change it: keyed requests for free models draw on the same allowance." : key === "separate" ? " A request with a key was served although the anonymous allowance was used up." : ""
  const go = goNote(cases)

  if (same === "separate")
    return conclude("install", `Each install has its own free allowance, even on one network: the gateway tells installs apart (x-pawwork-install).${keyNote}${go}`)
  if (same === "shared" && different === "separate")
    return conclude(
      "ip",
      `Free-model requests are limited per client address: two installs on one network share one daily allowance, two on different networks each have their own.${keyNote} PawWork cannot promise each install its own free allowance on this gateway.${go}`,
    )
  if (same === "shared" && key === "separate")
    return conclude("key", `Anonymous installs on one network share one allowance, but a request with a key gets its own: the allowance follows the key.${go}`)

  const longest = Math.max(0, ...cases.flatMap((c) => c.installs.map((i) => (i.outcome?.ok ? i.succeeded : 0))))
  const limited = cases.some((c) => c.installs.some((i) => i.outcome?.ok === false && i.outcome.kind !== null && /_limit$/.test(i.outcome.kind)))
  if (!limited && longest >= NONE_EVIDENCE)
    return conclude("none", `No install was limited: one was served ${longest} times in a row. These requests do not look limited by the gateway.${go}`)

  const missing: string[] = []
  const refused = context.freeTier !== undefined && freeTierRefused(context.freeTier)
  if (refused)
    missing.push(`the gateway refused this runtime's anonymous free requests (${context.freeTier}), so the cases that need them were not run`)
  else if (!limited)
    missing.push(
      `no allowance ran out within ${context.budget.max} requests (the longest run was ${longest}), which does not show there is none: raise --max-requests${context.target.loopback ? ", or start the simulator with --free-daily-limit 3 --no-new-client-bonus" : ""}`,
    )
  if (context.budget.exhausted) missing.push(`the budget of ${context.budget.max} requests ran out before the matrix finished`)
  if (context.honoured === false)
    missing.push(
      `${same === "shared" ? "installs on one network share one allowance, but " : ""}the gateway ignored x-real-ip, so different networks could not be compared (start the simulator with --trust-proxy)`,
    )
  else if (same === "shared" && different !== "separate")
    missing.push(
      context.target.loopback
        ? "installs on one network share an allowance, but the different-networks case did not settle whether another network has its own"
        : "installs on one network share an allowance (as the per-IP rule predicts), but the probe cannot vary its network against a remote gateway: run it again from a second network while this one is limited",
    )
  if (same === "inconclusive" && limited && !refused) missing.push(`the same-network case was inconclusive (${cases.find((c) => c.name === "same-network")?.reason ?? "not run"})`)
  return conclude("unknown", `The cases do not settle it: ${missing.join("; ") || "their verdicts do not match any single identity"}.${go}`)
}

function goNote(cases: CaseReport[]): string {
  const go = cases.find((c) => c.name === "go-windows")
  if (!go || go.status !== "ran") return ""
  if (go.verdict === "shared") return " Go windows belong to the key's workspace member: the same Go key in two installs on two networks shares them."
  if (go.verdict === "separate") return " The same Go key in another install on another network was not limited: the Go windows did not follow the key."
  return ""
}

function conclude(anonymousFreeQuota: Quota, text: string): QuotaConclusion {
  return { anonymousFreeQuota, text }
}
