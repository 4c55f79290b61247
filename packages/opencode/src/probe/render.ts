import { describe, type InstallReport, type Report } from "./report"

/** The probe's human output: where it probed, the free-tier check, a table of cases, and the conclusions. */
export function text(report: Report): string {
  const out: string[] = []
  const how =
    report.network.method === "x-real-ip"
      ? `networks simulated with x-real-ip (${report.network.honoured === true ? "honoured by the gateway" : report.network.honoured === false ? "IGNORED by the gateway: start the simulator with --trust-proxy" : "not confirmed by the gateway"})`
      : "one network: this machine's own address"
  out.push(`Probe of ${report.target.baseURL} with ${report.target.model}${report.target.goModel ? ` and ${report.target.goModel}` : ""}; ${how}.`)
  out.push(`Requests: ${report.budget.used} of ${report.budget.max} (--max-requests)${report.budget.exhausted ? ", budget exhausted" : ""}.`)
  const check = report.freeTier.install
  out.push(`Free-tier check: ${check ? install(check) : "not run"}.`)
  out.push("")
  const rows = [["case", "install A (spends its allowance)", "install B (then sends once)", "verdict"]]
  for (const c of report.cases) {
    const [a, b] = [c.installs.find((i) => i.role === "A"), c.installs.find((i) => i.role === "B")]
    rows.push([c.name, a ? install(a) : c.status === "skipped" ? "skipped" : "not run", b ? install(b) : "", c.verdict])
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)))
  for (const row of rows) out.push(row.map((cell, col) => cell.padEnd(widths[col]!)).join("  ").trimEnd())
  out.push("")
  for (const c of report.cases) out.push(`${c.name}: ${c.description}. ${c.status === "skipped" ? "Skipped: " : c.status === "not_run" ? "Not run: " : ""}${c.reason}`)
  out.push("")
  out.push(`Anonymous free tier: ${report.conclusion.anonymousFreeTier} — ${report.conclusion.freeTierText}`)
  out.push(`Conclusion: ${report.conclusion.anonymousFreeQuota} — ${report.conclusion.text}`)
  return out.join("\n") + "\n"
}

function install(i: InstallReport): string {
  const where = i.network.address ?? i.network.label
  const last = i.outcome === null ? "nothing sent" : i.outcome.ok ? "ok" : `${i.outcome.statusCode ?? "no answer"} ${i.outcome.kind}`
  const result = i.outcome?.ok ? (i.role === "A" ? `${i.succeeded} ok` : "ok") : i.succeeded > 0 ? `${i.succeeded} ok, then ${last}` : last
  return `${i.authSource} @${where}: ${result}`
}
