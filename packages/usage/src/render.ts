/** Human and JSON output for the usage commands. */
import type { ZenBilling } from "./billing.ts"
import { type UsageErrorCode, UsageError, scrub } from "./errors.ts"
import type { GoUsage } from "./go.ts"
import type { UsageWindow } from "./windows.ts"

export const EXPERIMENTAL_NOTICE =
  "EXPERIMENTAL: read from undocumented OpenCode pages/endpoints; figures may be wrong or break without notice."

const BAR_WIDTH = 20

export function progressBar(percent: number, width = BAR_WIDTH): string {
  const p = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0
  const filled = Math.round((p / 100) * width)
  const label = Number.isFinite(percent) ? `${Math.round(percent)}%` : "?%"
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${label.padStart(4)}`
}

/** "in 3h 12m", "in 2d 4h", "in 45s", or "now" once passed. */
export function relativeTime(targetMs: number, nowMs: number): string {
  const sec = Math.round((targetMs - nowMs) / 1000)
  if (sec <= 0) return "now"
  const d = Math.floor(sec / 86400)
  const h = Math.floor((sec % 86400) / 3600)
  const m = Math.floor((sec % 3600) / 60)
  if (d > 0) return `in ${d}d ${h}h`
  if (h > 0) return `in ${h}h ${m}m`
  if (m > 0) return `in ${m}m`
  return `in ${sec}s`
}

export function localTime(ms: number): string {
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

export function usd(n: number | null): string {
  if (n === null) return "-"
  const sign = n < 0 ? "-" : ""
  return `${sign}$${Math.abs(n).toFixed(2)}`
}

function windowLine(label: string, w: UsageWindow | null, now: number): string {
  if (!w) return `  ${label.padEnd(9)} (not reported)`
  const at = Date.parse(w.resetsAt)
  return `  ${label.padEnd(9)} ${progressBar(w.percent)}  ${w.status.padEnd(12)}  resets ${localTime(at)} (${relativeTime(at, now)})`
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(18)} ${value}`
}

export function renderZenHuman(b: ZenBilling, now: number = Date.now()): string {
  const lines = [EXPERIMENTAL_NOTICE, "", `OpenCode Zen billing — workspace ${b.workspaceID}`, row("Balance", usd(b.balanceUSD))]
  let monthly = b.monthlyUsageUSD === null ? "not reported" : usd(b.monthlyUsageUSD)
  if (b.monthlyLimitUSD !== null) {
    monthly += ` of ${usd(b.monthlyLimitUSD)} limit`
    if (b.monthlyUsageUSD !== null && b.monthlyLimitUSD > 0) monthly += `  ${progressBar((b.monthlyUsageUSD / b.monthlyLimitUSD) * 100)}`
  } else monthly += " (no monthly limit)"
  lines.push(row("Spent this month", monthly))
  const r = b.reload
  lines.push(
    row(
      "Auto-reload",
      r.enabled ? `on: add ${usd(r.amountUSD)} when balance falls below ${usd(r.triggerUSD)}` : "off",
    ),
  )
  if (r.error) lines.push(row("Reload error", r.error))
  lines.push(row("Subscription", b.subscription ?? "none"))
  if (b.black) {
    lines.push("", `Black usage (plan ${b.black.plan})`, windowLine("Rolling", b.black.rolling, now), windowLine("Weekly", b.black.weekly, now))
  }
  if (b.go) {
    lines.push("", "Go usage", windowLine("Rolling", b.go.rolling, now), windowLine("Weekly", b.go.weekly, now), windowLine("Monthly", b.go.monthly, now))
  }
  return `${lines.join("\n")}\n`
}

export function renderGoHuman(g: GoUsage, now: number = Date.now()): string {
  const head = g.workspaceID ? `OpenCode Go usage — workspace ${g.workspaceID}` : "OpenCode Go usage"
  const lines = [EXPERIMENTAL_NOTICE, "", head, windowLine("Rolling", g.rolling, now), windowLine("Weekly", g.weekly, now), windowLine("Monthly", g.monthly, now)]
  return `${lines.join("\n")}\n`
}

/** The documented Zen JSON shape, built field by field so nothing extra leaks in. */
export function zenJson(b: ZenBilling): Record<string, unknown> {
  const out: Record<string, unknown> = {
    workspaceID: b.workspaceID,
    balanceUSD: b.balanceUSD,
    monthlyUsageUSD: b.monthlyUsageUSD,
    monthlyLimitUSD: b.monthlyLimitUSD,
    reload: { enabled: b.reload.enabled, amountUSD: b.reload.amountUSD, triggerUSD: b.reload.triggerUSD, error: b.reload.error },
    subscription: b.subscription,
  }
  if (b.black) {
    out.black = {
      plan: b.black.plan,
      rolling: timedJson(b.black.rolling),
      weekly: timedJson(b.black.weekly),
    }
  }
  if (b.go) out.go = { rolling: windowJson(b.go.rolling), weekly: windowJson(b.go.weekly), monthly: windowJson(b.go.monthly) }
  return out
}

export function goJson(g: GoUsage): Record<string, unknown> {
  return { workspaceID: g.workspaceID, rolling: windowJson(g.rolling), weekly: windowJson(g.weekly), monthly: windowJson(g.monthly) }
}

function windowJson(w: UsageWindow | null): Record<string, unknown> | null {
  return w ? { percent: w.percent, status: w.status, resetsAt: w.resetsAt } : null
}

function timedJson(w: UsageWindow & { resetInSec: number }): Record<string, unknown> {
  return { percent: w.percent, status: w.status, resetInSec: w.resetInSec, resetsAt: w.resetsAt }
}

export interface ErrorLike {
  code: UsageErrorCode | "internal"
  message: string
}

export function toErrorLike(e: unknown, secrets: readonly (string | undefined)[] = []): ErrorLike {
  if (e instanceof UsageError) return { code: e.code, message: scrub(e.message, secrets) }
  const message = e instanceof Error ? e.message : String(e)
  return { code: "internal", message: scrub(`unexpected failure: ${message}`, secrets) }
}

export function errorJson(e: ErrorLike): { error: ErrorLike } {
  return { error: { code: e.code, message: e.message } }
}

export function renderErrorHuman(e: ErrorLike): string {
  return `error [${e.code}]: ${e.message}\n`
}

export function toJsonText(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`
}
