/**
 * The relay's counters, served by `GET /metrics` in Prometheus' text format. Labels are fixed
 * words and HTTP status codes only, never a token, an address or a fingerprint: those would make
 * one series per user and put identities in the monitoring system.
 */

type Labels = Record<string, string>

interface Family {
  help: string
  type: "counter" | "gauge"
  series: Map<string, { labels: Labels; value: number }>
}

export class Metrics {
  private readonly families = new Map<string, Family>()

  constructor() {
    this.define("relay_requests_total", "counter", "Requests received, by route and outcome (served, refused, rejected, failed).")
    this.define("relay_refusals_total", "counter", "Requests refused by an allowance, by scope (install, ip, new-install, global, concurrency, redis).")
    this.define("relay_upstream_responses_total", "counter", "Answers from the upstream gateway, by HTTP status.")
    this.define("relay_redis_round_trips_total", "counter", "Commands sent to Redis and answered or timed out.")
    this.define("relay_redis_errors_total", "counter", "Redis commands that failed, timed out or could not be sent.")
    this.define("relay_redis_latency_seconds_sum", "counter", "Total time spent waiting for Redis answers.")
    this.define("relay_redis_latency_seconds_count", "counter", "Redis answers timed (pairs with the sum).")
    this.define("relay_redis_up", "gauge", "1 while the connection to Redis is up, 0 while it is down.")
    this.define("relay_fail_open_requests_total", "counter", "Requests served while Redis was down, counted only in this instance's memory (fail-open).")
    this.define("relay_active_requests", "gauge", "Requests being forwarded right now by this instance.")
    this.set("relay_redis_up", 0)
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const s = this.series(name, labels)
    s.value += by
  }

  set(name: string, value: number, labels: Labels = {}): void {
    this.series(name, labels).value = value
  }

  get(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.series.get(labelText(labels))?.value ?? 0
  }

  /** Prometheus text exposition format 0.0.4. */
  text(): string {
    const lines: string[] = []
    for (const [name, f] of this.families) {
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`)
      for (const [text, s] of f.series) lines.push(`${name}${text} ${formatValue(s.value)}`)
    }
    return lines.join("\n") + "\n"
  }

  private define(name: string, type: Family["type"], help: string) {
    this.families.set(name, { help, type, series: new Map() })
  }

  private series(name: string, labels: Labels) {
    const family = this.families.get(name)
    if (!family) throw new Error(`unknown metric ${name}`)
    const text = labelText(labels)
    let s = family.series.get(text)
    if (!s) family.series.set(text, (s = { labels, value: 0 }))
    return s
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels)
  if (!entries.length) return ""
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`).join(",")}}`
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6)
}
