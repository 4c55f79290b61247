import { normalise, type Normalised } from "./normalise"

/**
 * The secrets one request or command carried (an API key, configured header values, URL credentials,
 * an install token, a dashboard cookie), and the removal of every trace of them from text that may
 * echo them: an upstream error body, a header, a page.
 *
 * What counts as a trace: any stretch of the text that, once both are normalised (normalise.ts:
 * escapes decoded, invisible characters and whitespace dropped), shares FRAGMENT or more consecutive
 * characters with a secret. A key cut in half, spread over two fields, trimmed by HTTP, percent- or
 * JSON-escaped, or with a zero-width character inserted still shares such a stretch. Every
 * FRAGMENT-character window of every secret goes into one hash set, and the text is scanned once with
 * a rolling hash (a window's string is built only on a hash hit), so the cost is linear in the text
 * whatever the number of secrets.
 *
 * Secrets shorter than FRAGMENT (after normalisation) are removed only where they occur whole, and
 * those shorter than MIN_SECRET not at all: removing "v1" or "blue" everywhere would mangle ordinary
 * text, and a value that short protects nothing. The anonymous key `public` is no secret.
 */

export const REDACTED = "[redacted]"
/** A shared stretch this long is a leak. */
export const FRAGMENT = 8
/** Below this length a value is not treated as a secret at all. */
export const MIN_SECRET = 6

// Polynomial rolling hash of a window, mod 2^32: TOP is BASE^(FRAGMENT-1), the weight of its first unit.
const BASE = 0x01000193
const TOP = Array.from({ length: FRAGMENT - 1 }).reduce<number>((p) => Math.imul(p, BASE) >>> 0, 1)

// `hash` extended by `count` units of `text` from `at`.
function rollIn(text: string, at: number, hash: number, count: number) {
  let h = hash
  for (let k = 0; k < count; k++) h = (Math.imul(h, BASE) + text.charCodeAt(at + k)) >>> 0
  return h
}

const NOT_SECRET = new Set(["public"])
/** The most text `stream` holds back. */
const STREAM_HOLD_MAX = 16 * 1024

export class SecretSet {
  private readonly hashes: ReadonlySet<number>

  private constructor(
    private readonly windows: ReadonlySet<string>,
    private readonly whole: readonly string[],
  ) {
    this.hashes = new Set([...windows].map((w) => rollIn(w, 0, 0, FRAGMENT)))
  }

  static readonly none = new SecretSet(new Set(), [])

  /** The set of the given values; empty, short and non-secret values are left out. */
  static of(values: Iterable<string | null | undefined>): SecretSet {
    const windows = new Set<string>()
    const whole = new Set<string>()
    for (const value of values) {
      if (typeof value !== "string" || NOT_SECRET.has(value.trim())) continue
      const form = normalise(value).text
      if (form.length >= FRAGMENT) for (let i = 0; i + FRAGMENT <= form.length; i++) windows.add(form.slice(i, i + FRAGMENT))
      else if (form.length >= MIN_SECRET && !NOT_SECRET.has(form)) whole.add(form)
    }
    return windows.size === 0 && whole.size === 0 ? SecretSet.none : new SecretSet(windows, [...whole])
  }

  get empty() {
    return this.windows.size === 0 && this.whole.length === 0
  }

  /** The spans of `text` ([start, end), sorted, not overlapping) that hold a trace of a secret. */
  find(text: string, form: Normalised = normalise(text)): [number, number][] {
    if (this.empty || text.length === 0) return []
    const hits: [number, number][] = []
    const t = form.text
    if (this.windows.size > 0) {
      // Windows that overlap or touch merge into one stretch as the scan goes.
      let from = -1
      let to = -1
      let hash = t.length >= FRAGMENT ? rollIn(t, 0, 0, FRAGMENT - 1) : 0
      for (let i = 0; i + FRAGMENT <= t.length; i++) {
        hash = rollIn(t, i + FRAGMENT - 1, hash, 1)
        const hit = this.hashes.has(hash) && this.windows.has(t.slice(i, i + FRAGMENT))
        hash = (hash - Math.imul(t.charCodeAt(i), TOP)) >>> 0
        if (!hit) continue
        if (i > to) {
          if (from >= 0) hits.push([from, to])
          from = i
        }
        to = i + FRAGMENT
      }
      if (from >= 0) hits.push([from, to])
    }
    for (const secret of this.whole) for (let at = t.indexOf(secret); at >= 0; at = t.indexOf(secret, at + 1)) hits.push([at, at + secret.length])
    if (hits.length === 0) return []
    hits.sort((a, b) => a[0] - b[0])
    // Back to the original text: from where the first matched unit came from to where the last one ended,
    // so escapes and characters dropped in between go too.
    const spans: [number, number][] = []
    for (const [a, b] of hits) {
      const s = form.start[a]!
      const e = form.end[b - 1]!
      const last = spans.at(-1)
      if (last && s <= last[1]) last[1] = Math.max(last[1], e)
      else spans.push([s, e])
    }
    return spans
  }

  /** `text` with every trace of a secret replaced by `replacement`. */
  remove(text: string, replacement = REDACTED): string {
    return replace(text, this.find(text), replacement)
  }

  /**
   * Removal from text that arrives in pieces (a streamed answer), where a secret may straddle two
   * pieces. `push` returns what is safe to show so far; `end` returns the rest. What is held back is
   * at most the last FRAGMENT - 1 characters of the normalised text (with anything dropped or still
   * undecoded around them), plus a trace that reaches into them: only those can still become, or grow
   * into, a trace once more text arrives. Held text past STREAM_HOLD_MAX (a long run of whitespace or
   * invisible characters) is let go: at most FRAGMENT - 1 characters of a secret go with it, and the
   * cost of a piece stays bounded whatever a stream sends.
   */
  stream(replacement = REDACTED): { push(piece: string): string; end(): string } {
    let pending = ""
    return {
      push: (piece) => {
        pending += piece
        if (this.empty) {
          const out = pending
          pending = ""
          return out
        }
        const form = normalise(pending)
        const units = form.text.length
        let cut = pending.length > STREAM_HOLD_MAX ? pending.length : units >= FRAGMENT ? form.start[units - (FRAGMENT - 1)]! : 0
        const spans = this.find(pending, form)
        for (const [s, e] of spans) if (e > cut) cut = Math.min(cut, s)
        const out = replace(pending.slice(0, cut), spans.filter(([, e]) => e <= cut), replacement)
        pending = pending.slice(cut)
        return out
      },
      end: () => {
        const out = this.remove(pending, replacement)
        pending = ""
        return out
      },
    }
  }

  /** Whether any trace of a secret is in `text`: a last check before something is printed. */
  leaks(text: string): boolean {
    return this.find(text).length > 0
  }
}

function replace(text: string, spans: [number, number][], replacement: string) {
  if (spans.length === 0) return text
  let out = ""
  let at = 0
  for (const [s, e] of spans) {
    out += text.slice(at, s) + replacement
    at = e
  }
  return out + text.slice(at)
}
