/**
 * The one form in which secrets and the text that may echo them are compared. A gateway, a relay or
 * a web page can hand a value back trimmed, percent-encoded, JSON-, JS- or HTML-escaped, or with a
 * zero-width character or a line break inserted, and comparing raw strings misses every one of those.
 * So both sides are brought to the same form: escapes decoded (nested up to MAX_ROUNDS layers deep,
 * so `%255C` or a `\u0041` inside a percent-encoded value are undone too) and every character a reader
 * cannot see or HTTP trims (whitespace, control, format and other default-ignorable characters)
 * dropped. Case is kept: folding it would make every configured header value that names the product
 * ("PawWork-OpenCode") remove "opencode" from the runtime's own advice and from diagnose's provider
 * ids. The text keeps a map from each character of the normalised form back to the span of the
 * original it came from, so a match is removed from the original, escapes and inserted characters
 * included. Linear in the length of the text.
 */

export interface Normalised {
  text: string
  /** For each UTF-16 unit of `text`, where its source starts in the original. */
  start: Int32Array
  /** For each UTF-16 unit of `text`, where its source ends (exclusive) in the original. */
  end: Int32Array
}

/** Layers of escaping undone: enough for any honest double encoding, bounded for hostile input. */
export const MAX_ROUNDS = 3

export function normalise(input: string): Normalised {
  let current = round(input)
  for (let i = 1; i < MAX_ROUNDS && current.changed; i++) {
    const next = round(current.text)
    // Each unit of the new round maps to a span of the previous one; compose down to the original.
    for (let k = 0; k < next.text.length; k++) {
      const from = next.start[k]!
      const to = next.end[k]! - 1
      next.start[k] = current.start[from]!
      next.end[k] = current.end[to]!
    }
    current = next
  }
  return { text: current.text, start: current.start, end: current.end }
}

interface Round extends Normalised {
  changed: boolean
}

// Characters HTTP trims or a reader cannot see: an echo may insert them anywhere.
const IGNORABLE = /^[\s\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]$/u
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z]{2,12}));/y
// HTML5's names for ASCII punctuation too: PHP's htmlentities(..., ENT_HTML5) writes `.` as `&period;`
// and `/` as `&sol;`, which left a key's pieces between them unmatched.
const NAMED: Record<string, number> = Object.assign(Object.create(null), {
  amp: 0x26, quot: 0x22, apos: 0x27, lt: 0x3c, gt: 0x3e, nbsp: 0xa0, Tab: 0x09, NewLine: 0x0a,
  excl: 0x21, num: 0x23, dollar: 0x24, percnt: 0x25, lpar: 0x28, rpar: 0x29, ast: 0x2a, midast: 0x2a,
  plus: 0x2b, comma: 0x2c, period: 0x2e, sol: 0x2f, colon: 0x3a, semi: 0x3b, equals: 0x3d, quest: 0x3f,
  commat: 0x40, lsqb: 0x5b, lbrack: 0x5b, bsol: 0x5c, rsqb: 0x5d, rbrack: 0x5d, Hat: 0x5e, lowbar: 0x5f,
  UnderBar: 0x5f, grave: 0x60, lcub: 0x7b, lbrace: 0x7b, verbar: 0x7c, vert: 0x7c, VerticalLine: 0x7c,
  rcub: 0x7d, rbrace: 0x7d,
})
// `\n`, `\t`... decode to characters that are dropped anyway; listed so the escape goes with them.
const SIMPLE_ESCAPES: Record<string, number> = { "/": 0x2f, "\\": 0x5c, '"': 0x22, "'": 0x27, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "0": 0 }

function round(input: string): Round {
  const n = input.length
  // Decoding never makes text longer, so the output fits in arrays the size of the input.
  const units = new Uint16Array(n)
  const start = new Int32Array(n)
  const end = new Int32Array(n)
  let length = 0
  let decoded = false
  let dropped = false
  // Another round is needed only if something was decoded, or a drop may have joined an escape.
  let introducers = false
  let i = 0
  while (i < n) {
    const c = input.charCodeAt(i)
    let cp = c
    let next = i + 1
    // Printable ASCII other than the escape introducers, and ASCII whitespace, are by far the common case.
    if (c !== 0x5c && c !== 0x25 && c !== 0x26 && c > 0x20 && c < 0x7f) {
      units[length] = c
      start[length] = i
      end[length++] = next
      i = next
      continue
    }
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      dropped = true
      i = next
      continue
    }
    const escape = c === 0x5c ? backslash(input, i) : c === 0x25 ? percent(input, i) : c === 0x26 ? entity(input, i) : undefined
    if (escape) {
      ;[cp, next] = escape
      decoded = true
    } else if (c === 0x5c || c === 0x25 || c === 0x26) {
      introducers = true
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const low = input.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00)
        next = i + 2
      }
    }
    if (ignorable(cp)) dropped = true
    else if (cp > 0xffff) {
      units[length] = 0xd800 + ((cp - 0x10000) >> 10)
      start[length] = i
      end[length++] = next
      units[length] = 0xdc00 + ((cp - 0x10000) & 0x3ff)
      start[length] = i
      end[length++] = next
    } else {
      units[length] = cp
      start[length] = i
      end[length++] = next
    }
    i = next
  }
  const changed = decoded || (dropped && introducers)
  return { text: fromUnits(units, length), start: start.subarray(0, length), end: end.subarray(0, length), changed }
}

function ignorable(cp: number) {
  if (cp > 0x20 && cp < 0x7f) return false
  return IGNORABLE.test(String.fromCodePoint(cp))
}

// `\uXXXX` (a surrogate pair as two), `\xHH`, and the one-character escapes of JSON and JavaScript.
function backslash(input: string, i: number): [number, number] | undefined {
  const kind = input[i + 1]
  if (kind === "u") {
    const unit = hex(input, i + 2, 4)
    if (unit === undefined) return undefined
    if (unit >= 0xd800 && unit <= 0xdbff && input[i + 6] === "\\" && input[i + 7] === "u") {
      const low = hex(input, i + 8, 4)
      if (low !== undefined && low >= 0xdc00 && low <= 0xdfff) return [0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), i + 12]
    }
    return [unit, i + 6]
  }
  if (kind === "x") {
    const byte = hex(input, i + 2, 2)
    return byte === undefined ? undefined : [byte, i + 4]
  }
  const simple = kind === undefined ? undefined : SIMPLE_ESCAPES[kind]
  return simple === undefined ? undefined : [simple, i + 2]
}

// `%HH`, and a whole UTF-8 sequence of them for a character outside ASCII.
function percent(input: string, i: number): [number, number] | undefined {
  const lead = hex(input, i + 1, 2)
  if (lead === undefined) return undefined
  if (lead < 0x80) return [lead, i + 3]
  const count = lead >= 0xf0 && lead <= 0xf4 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc2 ? 1 : -1
  if (count < 0 || lead > 0xf4) return undefined
  let cp = lead & (0x3f >> count)
  let at = i + 3
  for (let k = 0; k < count; k++) {
    if (input[at] !== "%") return undefined
    const byte = hex(input, at + 1, 2)
    if (byte === undefined || (byte & 0xc0) !== 0x80) return undefined
    cp = (cp << 6) | (byte & 0x3f)
    at += 3
  }
  return cp <= 0x10ffff ? [cp, at] : undefined
}

function entity(input: string, i: number): [number, number] | undefined {
  ENTITY.lastIndex = i
  const match = ENTITY.exec(input)
  if (!match) return undefined
  const cp = match[1] !== undefined ? Number(match[1]) : match[2] !== undefined ? parseInt(match[2], 16) : NAMED[match[3]!]
  return cp !== undefined && cp <= 0x10ffff ? [cp, i + match[0].length] : undefined
}

function hex(input: string, at: number, digits: number): number | undefined {
  let value = 0
  for (let k = 0; k < digits; k++) {
    const c = input.charCodeAt(at + k)
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1
    if (d < 0) return undefined
    value = value * 16 + d
  }
  return value
}

// In chunks, since an argument list has a size limit; `apply` on a typed array is far faster than a spread.
function fromUnits(units: Uint16Array, length: number) {
  let out = ""
  for (let at = 0; at < length; at += 8192) out += String.fromCharCode.apply(null, units.subarray(at, Math.min(length, at + 8192)) as unknown as number[])
  return out
}
