import { SessionDiagnostics } from "../../session"
import * as DiagnosticsRead from "../../session/diagnostics-read"
import * as DiagnosticsFindings from "../../session/diagnostics-findings"
import * as DiagnosticsBundle from "../../session/diagnostics-bundle"
import * as KnownSecrets from "../../session/known-secrets"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli diagnose [<file-or-dir>...] [--session <id>] [--since <time>] [--json]
       cli diagnose --bundle <out.json> [--force] [<file-or-dir>...] [--session <id>] [--since <time>]

Reads the diagnostics the runtime records for every failed attempt of a request to an OpenCode
provider (and a short line for each request that worked), and says what happened and why.

Arguments:
  <file-or-dir>     a diagnostics log, a log directory or a data directory
                    (default: the data dir's log/, all rotated files, oldest first)

Options:
  --session <id>    only this session's records
  --since <time>    only records from this time on: ISO time, or relative: 30m, 2h, 1d, 1w
  --json            print { "failures": [...], "findings": [...], "skipped": n }
  --bundle <file>   write a redacted support bundle (mode 0600) to attach to a report
  --force           with --bundle, replace an existing regular file (a symbolic link is
                    written through; a folder, device or FIFO is never replaced)
  -h, --help        show this help

Records never hold keys, cookies or install tokens: only their fingerprints. Damaged lines are
skipped and counted. Install identity changes (identity.log beside the logs) that fall between
the first and the last record are reported as findings. See docs/diagnostics.md.`

export async function run(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = Args.parse(
    argv,
    {
      session: { type: "string" },
      since: { type: "string" },
      json: { type: "boolean" },
      bundle: { type: "string" },
      force: { type: "boolean" },
    },
    "cli diagnose",
  )
  if (values.help) return io.stdout(help + "\n"), 0
  if (values.bundle !== undefined) checkBundlePath(values.bundle)
  const since = values.since === undefined ? undefined : parseSince(values.since, Date.now())
  const targets = positionals.length ? positionals : [SessionDiagnostics.logDir(io.env)]
  const files: string[] = []
  // The default log directory is only created by the first write: missing, it is simply empty.
  for (const target of targets) files.push(...(await DiagnosticsRead.locate(target, { missingIsEmpty: !positionals.length })))
  const read = await DiagnosticsRead.read(files, {
    ...(values.session !== undefined ? { sessionID: values.session } : {}),
    ...(since !== undefined ? { since } : {}),
  })
  const { skipped } = read
  // Records this version writes hold no secret; one written before, or by hand, may.
  const secrets = await KnownSecrets.of(io.env)
  const entries = read.entries.map((entry) => KnownSecrets.remove(entry, secrets))
  const identityLog = await DiagnosticsRead.readIdentityLogs(DiagnosticsRead.identityLogsBeside(files))
  const groups = DiagnosticsFindings.group(entries)
  const findings = [...DiagnosticsFindings.findings(groups), ...DiagnosticsFindings.identityFindings(entries, identityLog.events)]
  const failures = entries.filter((e): e is SessionDiagnostics.Failure => e.event === "provider.failure")

  if (values.bundle !== undefined) {
    const bundle = await DiagnosticsBundle.build(io.env, { entries, skipped, findings, identityLog })
    await DiagnosticsBundle.write(values.bundle, bundle, values.force === true)
    const ids = bundle.identity.optedOut ? "install identity: opted out" : `install identity ${bundle.identity.fingerprint ?? "not created yet"}`
    io.stdout(
      `Support bundle written to ${values.bundle} (mode 0600): ${bundle.records.length} records (${failures.length} failures), ${findings.length} findings, ` +
        `runtime ${bundle.runtimeVersion}, ${bundle.platform.os}/${bundle.platform.arch} Bun ${bundle.platform.bun}, ` +
        `config shape (${bundle.config.present ? "secrets redacted" : "no opencode.json"}), ${bundle.auth.providers.length} saved credentials (fingerprints only), ${ids}, ` +
        `${plural(bundle.identityLog.events.length, "identity log event")}.\n`,
    )
    return 0
  }

  if (values.json) {
    io.stdout(JSON.stringify({ failures, findings, skipped }) + "\n")
    return 0
  }
  io.stdout(render(files, groups, failures, findings, skipped))
  return 0
}

/** A usage error for a --bundle value that cannot name a file, before any log is read. */
export function checkBundlePath(value: string) {
  if (value.trim() === "") throw new Args.UsageError(`--bundle needs the name of the file to write, e.g. --bundle pawwork-bundle.json. See \`cli diagnose --help\`.`)
  if (/[\\/]$/.test(value) || /(^|[\\/])\.{1,2}$/.test(value))
    throw new Args.UsageError(`--bundle "${value.slice(0, 200)}" names a folder, not a file: add a file name, e.g. --bundle ${value.replace(/[\\/]*$/, "")}/pawwork-bundle.json.`)
}

/** ISO time, or `<n>s|m|h|d|w` before `now`. */
export function parseSince(value: string, now: number): number {
  const relative = /^\s*(\d{1,6})\s*(s|m|h|d|w)\s*$/i.exec(value)
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2]!.toLowerCase() as "s" | "m" | "h" | "d" | "w"]
    return now - Number(relative[1]) * unit
  }
  const at = /^\d{4}-\d{2}-\d{2}/.test(value.trim()) ? Date.parse(value.trim()) : NaN
  if (Number.isFinite(at)) return at
  throw new Args.UsageError(`--since "${value.slice(0, 40)}" is not a time: use an ISO time (2026-11-21T10:00:00Z) or a relative one (30m, 2h, 1d). See \`cli diagnose --help\`.`)
}

function render(files: string[], groups: DiagnosticsFindings.Group[], failures: SessionDiagnostics.Failure[], findings: string[], skipped: number): string {
  const out: string[] = []
  const skippedLine = skipped ? ` · skipped ${skipped} damaged ${skipped === 1 ? "line" : "lines"}` : ""
  if (!files.length) return "No diagnostics recorded yet (no provider*.jsonl found).\n"
  const s = DiagnosticsFindings.summary(groups)
  out.push(
    `${plural(s.requests, "request")} to OpenCode providers: ${s.failedRequests} failed, ${s.recovered} recovered after retries · ${plural(failures.length, "failed attempt")} · ${plural(files.length, "log file")}${skippedLine}`,
  )
  if (!failures.length) {
    out.push("No failures recorded.")
    // Findings that are not about a failure (an identity change, the header turned off) still count.
    if (findings.length) out.push("", "Findings:", ...findings.map((f) => `- ${f}`))
    return out.join("\n") + "\n"
  }
  out.push("")
  const rows = failures.map((f) => [
    f.time.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    `${f.providerID}/${f.modelID}`,
    f.authSource === "env" && f.authEnvVar ? `env ${f.authEnvVar}` : f.authSource,
    f.statusCode !== undefined ? String(f.statusCode) : "-",
    f.kind,
    DiagnosticsFindings.originOf(f) ?? "-",
    waitText(f),
    String(f.attempt),
    f.action === "retry" ? `retry in ${seconds(f.nextRetryMs ?? 0)}` : `stop${f.stopReason ? ` (${f.stopReason})` : ""}`,
  ])
  out.push(...table(["TIME", "MODEL", "AUTH", "STATUS", "KIND", "ORIGIN", "RETRY-AFTER / RESET", "ATTEMPT", "ACTION"], rows))
  out.push("", "Findings:", ...findings.map((f) => `- ${f}`))
  return out.join("\n") + "\n"
}

function waitText(f: SessionDiagnostics.Failure) {
  const parts: string[] = []
  if (f.retryAfterRaw !== undefined) parts.push(`${f.retryAfterRaw}s`)
  if (f.resetAt) parts.push(`reset ${f.resetAt.slice(5, 16).replace("T", " ")}Z`)
  return parts.join(" → ") || "-"
}

function seconds(ms: number) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(header), ...rows.map(line)]
}

function plural(n: number, one: string) {
  return `${n} ${one}${n === 1 ? "" : "s"}`
}
