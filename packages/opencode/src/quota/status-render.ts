import { LABEL } from "./windows"
import type { StatusReport, Waybar } from "./status-schema"
import * as Words from "./words"

/** `status` as text for a person, and as Waybar's custom-module JSON. Pure: the report in, text out. */

const BAR = 10

export function human(report: StatusReport): string {
  const now = Date.parse(report.generatedAt)
  const lines: string[] = [`OpenCode quota status, ${report.generatedAt.slice(0, 16).replace("T", " ")} UTC (${Words.clock(now)} your time)`, ""]

  lines.push("Keys")
  const width = Math.max(...report.keys.map((k) => k.providerID.length), 0)
  for (const k of report.keys) lines.push(`  ${k.providerID.padEnd(width)}  ${k.summary}`)
  lines.push("")

  const free = report.free
  lines.push(`Free models, anonymous${free.inUse ? "" : " (not used now: opencode sends a key)"}`)
  const failed = Object.entries(free.today.failed)
  const refused = failed.reduce((n, [, c]) => n + c, 0)
  lines.push(
    `  Today (UTC ${free.today.day}): ${free.today.sent} sent by this install, ${free.today.answered} answered` +
      (refused ? `, ${refused} failed (${failed.map(([k, c]) => `${k} ${c}`).join(", ")})` : ""),
  )
  lines.push(...wrap(`Allowance: ${free.allowance.note} The day starts again ${Words.when(free.dayResetsAt, now)}.`, "  "))
  const r = free.lastRefusal
  if (!r) lines.push("  Free limit: no refusal recorded by this install.")
  else if (r.limitedNow && r.resetAt) lines.push(`  Free limit: reached, refused at ${Words.clock(Date.parse(r.at))} (your time); it resets ${Words.when(r.resetAt, now)}.`)
  else lines.push(`  Free limit: last reached at ${Words.clock(Date.parse(r.at))} (${r.at.slice(0, 10)}); it has reset since.`)
  const g = free.gate
  if (g.state === "refused")
    lines.push(
      ...wrap(
        g.kind === "client_outdated"
          ? `Gateway: refusing this client since ${Words.clock(Date.parse(g.refusedAt!))} (your time) as outdated (426); an update of the app is needed, not a key.`
          : `Gateway: refusing this client's anonymous requests since ${Words.clock(Date.parse(g.refusedAt!))} (your time): OpenCode's free tier serves only OpenCode's own app. A saved OpenCode key or Go works.`,
        "  ",
      ),
    )
  else if (g.state === "served") lines.push(`  Gateway: serving this client (last answer ${Words.clock(Date.parse(g.lastAnsweredAt!))} your time).`)
  else lines.push("  Gateway: not known yet (no anonymous request recorded).")
  lines.push("")

  const go = report.go
  if (!go.configured) lines.push("OpenCode Go", "  No Go key: save one with `auth set opencode-go` to see its windows.")
  else {
    const read = go.fetchedAt ? `read ${Words.duration(go.ageSec! * 1000)} ago` : "never read"
    lines.push(`OpenCode Go (key ${go.key!.keyFingerprint} of ${go.key!.providerID}, ${read})`)
    if (go.subscribed === false) lines.push("  This key has no OpenCode Go subscription.")
    for (const w of go.windows) {
      const filled = Math.max(0, Math.min(BAR, Math.round((w.percent / 100) * BAR)))
      const money = w.usedUSD !== null && w.limitUSD !== null ? `  $${cents(w.usedUSD)} of $${cents(w.limitUSD)}` : ""
      const state = w.blocking ? "  BLOCKING" : w.status !== "ok" ? `  ${w.status}` : ""
      lines.push(`  ${LABEL[w.name].padEnd(8)} ${String(w.percent).padStart(3)} %  [${"#".repeat(filled)}${"-".repeat(BAR - filled)}]${money}${state}  resets ${Words.when(w.resetsAt, now)}`)
      if (w.pace) lines.push(`           ${w.pace.text}`)
    }
    if (go.blocking) lines.push(`  Blocking: the ${LABEL[go.blocking]} window; Go requests are refused until it resets.`)
    else if (go.windows.length) lines.push("  Blocking: none.")
    if (go.lastRefusal)
      lines.push(
        `  Last Go refusal: ${go.lastRefusal.limitName ?? "a"} window at ${Words.clock(Date.parse(go.lastRefusal.at))} (your time)${go.lastRefusal.resetAt ? `, reset ${Date.parse(go.lastRefusal.resetAt) > now ? Words.when(go.lastRefusal.resetAt, now) : "since"}` : ""}.`,
      )
    if (go.error)
      lines.push(
        ...wrap(
          `The last read failed (${go.error.code}, ${Words.duration(Math.max(0, now - Date.parse(go.error.at)))} ago): ${go.error.message}${go.fetchedAt ? ` Showing the figures read ${Words.duration(go.ageSec! * 1000)} ago.` : ""}`,
          "  ",
        ),
      )
  }
  lines.push("")

  const zen = report.zen
  lines.push("Zen balance (console)")
  if (!zen.configured)
    lines.push(...wrap('Not configured: add "pawwork": { "quota": { "console": { "cookieFile": "<file with __Host-console_session=...>" } } } (or "apiKeyEnv") to opencode.json; see docs/status.md.', "  "))
  else {
    // A figure the console did not give is not known, never $0.00.
    const money = (usd: string | null) => (usd === null ? "not known" : `$${cents(usd)}`)
    if (zen.fetchedAt)
      lines.push(
        `  Balance ${money(zen.balanceUSD)} · 30-day spend ${money(zen.spend30dUSD)}${zen.requests30d !== null ? ` (${zen.requests30d} requests)` : ""} · read ${Words.duration(zen.ageSec! * 1000)} ago${zen.orgID ? ` · ${zen.orgID}` : ""}`,
      )
    if (zen.fetchedAt && zen.balanceUSD === null && zen.spend30dUSD === null)
      lines.push(
        ...wrap(
          "The console gave neither figure for this credential. An old `auth` cookie reaches only the legacy billing page: give the __Host-console_session cookie (cookieFile) or a service-account key (apiKeyEnv) instead.",
          "  ",
        ),
      )
    if (zen.error) lines.push(...wrap(`The last read failed (${zen.error.code}): ${zen.error.message}`, "  "))
  }

  if (report.relay) lines.push("", ...relayLines(report.relay, now))

  if (report.notes.length) {
    lines.push("", "Notes")
    for (const note of report.notes) lines.push(...wrap(note, "  - ", "    "))
  }
  return lines.join("\n") + "\n"
}

function relayLines(relay: NonNullable<StatusReport["relay"]>, now: number): string[] {
  const read = relay.fetchedAt ? `, read ${Words.duration(relay.ageSec! * 1000)} ago` : ""
  const lines = [`PawWork relay (${relay.baseURL}${relay.installFingerprint ? `, install ${relay.installFingerprint}` : ""}${read})`]
  const r = relay.requests
  if (r && relay.dayOver) lines.push(`  The figures are of ${relay.day} (UTC), which has ended: this install's allowance has started again since.`)
  else if (r && relay.resetsAt) {
    const of = r.limit === null ? "no daily limit" : `${r.used} of ${r.limit} used, ${r.remaining} left`
    lines.push(`  This install today (UTC ${relay.day}): ${r.limit === null ? `${r.used} requests, ` : ""}${of}; it resets ${Words.when(relay.resetsAt, now)}.`)
    const s = relay.spendUSD
    if (s && s.limit !== null) lines.push(`  Spend: $${cents(s.used)} of $${cents(s.limit)}, $${cents(s.remaining ?? "0")} left.`)
    const n = relay.network
    if (n && n.limit !== null) lines.push(`  Your network (every install on this address): ${n.used} of ${n.limit} requests used.`)
    if (r.remaining === 0) lines.push("  Used up: the relay refuses this install's requests until the reset.")
    else if (n?.remaining === 0) lines.push("  Your network's allowance is used up: the relay refuses requests from this address until the reset.")
    if (relay.budgetLeft === false) lines.push("  The relay's budget for everyone is spent for today: it refuses every install until the reset.")
  }
  if (relay.error?.code === "identity_off" || relay.error?.code === "identity_not_saved") lines.push(...wrap(`No figures: ${relay.error.message}`, "  "))
  else if (relay.error)
    lines.push(
      ...wrap(
        `The last read failed (${relay.error.code}, ${Words.duration(Math.max(0, now - Date.parse(relay.error.at)))} ago): ${relay.error.message}${r ? ` Showing the figures read ${Words.duration(relay.ageSec! * 1000)} ago.` : ""}`,
        "  ",
      ),
    )
  return lines
}

export function waybar(report: StatusReport): Waybar {
  const go = report.go
  const free = report.free
  const top = go.windows.reduce<(typeof go.windows)[number] | undefined>((a, w) => (!a || w.percent > a.percent ? w : a), undefined)
  const percentage = Math.max(0, Math.min(100, Math.round(top?.percent ?? 0)))
  const parts: string[] = []
  // A key without Go has no windows to show: nothing to put in a bar.
  const watching = go.configured && go.subscribed !== false
  if (watching) parts.push(go.blocking ? `Go ${LABEL[go.blocking]} blocked` : top ? `Go ${percentage}%` : "Go ?")
  // Through a relay, the anonymous requests are the relay's count (below), not the gateway's free allowance.
  const relay = report.relay?.requests && !report.relay.dayOver ? report.relay : undefined
  if (free.inUse && !relay) {
    const limited = free.lastRefusal?.limitedNow === true
    parts.push(free.gate.state === "refused" ? "Free refused" : limited ? "Free limit reached" : `Free ${free.today.sent} today`)
  }
  const relayOut = relay !== undefined && (relay.requests!.remaining === 0 || relay.network?.remaining === 0 || relay.budgetLeft === false)
  if (relay) parts.push(relayOut ? "Relay used up" : relay.requests!.limit === null ? `Relay ${relay.requests!.used} today` : `Relay ${relay.requests!.remaining} left`)
  const blocked = go.blocking !== null || relayOut || (free.inUse && (free.lastRefusal?.limitedNow === true || free.gate.state === "refused"))
  const cls: Waybar["class"] = blocked
    ? "blocked"
    : watching && !top
      ? "unknown"
      : percentage >= 95
        ? "critical"
        : percentage >= 80
          ? "warning"
          : "ok"
  return { text: markup(parts.join(" · ") || "OpenCode"), tooltip: markup(human(report).trimEnd()), class: cls, percentage }
}

// Waybar sets both as Pango markup: a bare `<`, `>` or `&` (opencode.json examples, upstream text)
// would make the whole label fail to parse.
function markup(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
}

/** "12.3456" → "12.35"; exact figures stay in the JSON. */
function cents(usd: string): string {
  const n = Number(usd)
  return Number.isFinite(n) ? n.toFixed(2) : usd
}

function wrap(text: string, first: string, rest = first.replace(/./g, " ")): string[] {
  const out: string[] = []
  let line = first
  let empty = true
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + word.length + 1 > 100) {
      out.push(line.trimEnd())
      line = rest
      empty = true
    }
    line += (empty ? "" : " ") + word
    empty = false
  }
  if (!empty) out.push(line.trimEnd())
  return out
}
