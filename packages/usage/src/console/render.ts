/** Human and JSON output of the merged `usage zen` answer (read.ts). Money is exact in JSON. */
import { EXPERIMENTAL_NOTICE, localTime, progressBar, relativeTime, renderZenHuman, zenJson } from "../render.ts"
import { formatUSD, microCentsToUSD, percentOf } from "./money.ts"
import type { GoMeter, GoStatus } from "./payloads.ts"
import type { ZenUsage } from "./read.ts"

/** Money in JSON: the exact dollar decimal and the micro-cents it came from, both strings. */
function money(microCents: bigint): { usd: string; microCents: string } {
  return { usd: microCentsToUSD(microCents), microCents: microCents.toString() }
}

function meterJson(m: GoMeter | null): Record<string, unknown> | null {
  if (!m) return null
  return {
    used: money(m.usedMicroCents),
    limit: money(m.limitMicroCents),
    percent: percentOf(m.usedMicroCents, m.limitMicroCents),
    resetsAt: m.resetsAt,
    resetFrom: m.resetFrom,
  }
}

/** The documented `usage zen --json` shape, built field by field so nothing extra leaks in. */
export function zenUsageJson(u: ZenUsage): Record<string, unknown> {
  const go = u.go
  return {
    org: u.org ? { id: u.org.id, name: u.org.name, source: u.org.source } : null,
    balance: u.balance
      ? {
          ...money(u.balance.balanceMicroCents),
          billingMode: u.balance.billingMode,
          mode: u.balance.mode,
          available: u.balance.availableMicroCents === null ? null : money(u.balance.availableMicroCents),
          source: u.balance.source,
        }
      : null,
    go: !go
      ? null
      : go.subscribed
        ? {
            subscribed: true,
            product: go.product,
            periodStartsAt: go.periodStartsAt,
            periodEndsAt: go.periodEndsAt,
            cancelAtPeriodEnd: go.cancelAtPeriodEnd,
            fiveHour: meterJson(go.fiveHour),
            week: meterJson(go.week),
            month: meterJson(go.month),
            source: go.source,
          }
        : { subscribed: false, source: go.source },
    spend30d: u.spend30d
      ? {
          cost: money(u.spend30d.totalCostMicroCents),
          requests: u.spend30d.totalRequests,
          inputTokens: u.spend30d.totalInputTokens,
          outputTokens: u.spend30d.totalOutputTokens,
          cacheReadTokens: u.spend30d.totalCacheReadTokens,
          cacheWrite5mTokens: u.spend30d.totalCacheWrite5mTokens,
          cacheWrite1hTokens: u.spend30d.totalCacheWrite1hTokens,
          source: u.spend30d.source,
        }
      : null,
    legacy: u.legacy ? { ...zenJson(u.legacy.billing), source: u.legacy.source } : null,
    notes: [...u.notes],
  }
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(18)} ${value}`
}

function meterLine(label: string, m: GoMeter | null, now: number): string {
  if (!m) return `  ${label.padEnd(9)} (not reported)`
  const pct = percentOf(m.usedMicroCents, m.limitMicroCents)
  const spent = `${formatUSD(m.usedMicroCents)} of ${formatUSD(m.limitMicroCents)}`
  let reset = "  reset not reported"
  if (m.resetsAt) {
    const at = Date.parse(m.resetsAt)
    reset = `  resets ${localTime(at)} (${relativeTime(at, now)})${m.resetFrom === "period_end" ? ", end of the subscription period" : ""}`
  }
  return `  ${label.padEnd(9)} ${progressBar(pct)}  ${spent}${reset}`
}

function goLines(go: GoStatus, now: number): string[] {
  return [meterLine("5 hours", go.fiveHour, now), meterLine("Week", go.week, now), meterLine("Month", go.month, now)]
}

export function renderZenUsageHuman(u: ZenUsage, now: number = Date.now()): string {
  const lines = [EXPERIMENTAL_NOTICE, ""]
  if (u.org) lines.push(`OpenCode console — org ${u.org.name ? `${u.org.name} (${u.org.id})` : u.org.id}`)
  if (u.balance) {
    const b = u.balance
    lines.push(`Billing  (from ${b.source})`)
    lines.push(row("Balance", `${formatUSD(b.balanceMicroCents)}  ${b.billingMode}${b.mode ? `, ${b.mode}` : ""}`))
    if (b.availableMicroCents !== null) lines.push(row("Available", formatUSD(b.availableMicroCents)))
  }
  if (u.spend30d) {
    const s = u.spend30d
    lines.push(row("Spent, 30 days", `${formatUSD(s.totalCostMicroCents)} in ${s.totalRequests} requests  (from ${s.source})`))
  }
  if (u.go) {
    lines.push("")
    if (u.go.subscribed) {
      lines.push(`Go usage  (from ${u.go.source})`, ...goLines(u.go, now))
    } else lines.push(`Go usage  (from ${u.go.source})`, "  No OpenCode Go subscription: no meters.")
  }
  if (u.legacy) {
    if (lines.length > 2) lines.push("")
    // The legacy page's own table, without its EXPERIMENTAL line (printed once above).
    const legacy = renderZenHuman(u.legacy.billing, now).split("\n").slice(2)
    lines.push(`${legacy[0] ?? ""}  (from ${u.legacy.source})`, ...legacy.slice(1).filter((l, i, all) => i < all.length - 1 || l !== ""))
  }
  if (u.notes.length > 0) lines.push("", "Notes", ...u.notes.map((n) => `  - ${n}`))
  return `${lines.join("\n")}\n`
}
