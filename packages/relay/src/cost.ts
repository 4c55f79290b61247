/**
 * Finds the cost the upstream reports in an answer it passes through, without changing a byte: in
 * a stream, the top-level `cost` of any `data:` event (the gateway appends
 * `data: {"choices":[],"cost":"…"}` after `[DONE]`); in a JSON body, its top-level `cost`. Lines and
 * bodies past the bounds are skipped, so a hostile answer costs bounded memory and never throws.
 */

const MAX_LINE = 64 * 1024
const MAX_JSON_BODY = 1024 * 1024

export class CostScanner {
  private readonly decoder = new TextDecoder()
  private pending = ""
  private overflow = false
  private body = ""
  private cost: number | null = null

  constructor(private readonly stream: boolean) {}

  push(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true })
    if (!this.stream) {
      if (this.body.length + text.length <= MAX_JSON_BODY) this.body += text
      else this.overflow = true
      return
    }
    let start = 0
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", start)) {
      const line = this.pending + text.slice(start, i)
      if (!this.overflow && line.length <= MAX_LINE) this.line(line)
      this.pending = ""
      this.overflow = false
      start = i + 1
    }
    const rest = text.slice(start)
    if (this.overflow || this.pending.length + rest.length > MAX_LINE) {
      this.pending = ""
      this.overflow = true
    } else this.pending += rest
  }

  /** The last cost reported, in USD, or null when none was. */
  finish(): number | null {
    if (this.stream) {
      if (!this.overflow && this.pending) this.line(this.pending)
    } else if (!this.overflow) this.read(this.body)
    return this.cost
  }

  private line(line: string) {
    const trimmed = line.trimEnd()
    if (!trimmed.startsWith("data:") || !trimmed.includes('"cost"')) return
    this.read(trimmed.slice(5).trim())
  }

  private read(text: string) {
    if (!text.includes('"cost"')) return
    try {
      const value: unknown = JSON.parse(text)
      if (typeof value !== "object" || value === null || Array.isArray(value)) return
      const raw = (value as Record<string, unknown>).cost
      const cost = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN
      if (Number.isFinite(cost) && cost >= 0 && cost < 1e6) this.cost = cost
    } catch {
      // Not JSON: nothing reported.
    }
  }
}
