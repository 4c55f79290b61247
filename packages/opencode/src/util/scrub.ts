/**
 * Removes anything shaped like a credential from text that came from outside (an upstream error
 * message, a pasted body) before it is stored, printed or sent to support. It errs towards
 * redacting: a lost id in an error message costs little, a leaked key costs a rotation.
 *
 * These rules only catch shapes. Values the caller knows (the request's key, install token, header
 * values) are removed in every form an echo can take by a SecretSet from @pawwork/secrets.
 */

const REDACTED = "[redacted]"

const RULES: [RegExp, string | ((match: string, ...groups: string[]) => string)][] = [
  // Authorization schemes first, so the token after them is taken whole whatever its shape.
  [/\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  [/\b(set-cookie|cookie)\b\s*[:=][^\r\n]*/gi, (_m, name) => `${name}: ${REDACTED}`],
  // "api_key": "...", apiKey=..., password: ...
  [
    /\b(api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|secret|password|authorization|x-api-key)(["']?\s*[:=]\s*["']?)[^\s"',;&}]+/gi,
    (_m, name, sep) => `${name}${sep}${REDACTED}`,
  ],
  // Provider key prefixes: sk-..., sk-ant-..., sk-proj-..., sk-or-v1-..., pk-/rk-.
  [/\b(sk|pk|rk)[-_][A-Za-z0-9_-]{6,}/g, (_m, prefix) => `${prefix}-${REDACTED}`],
  [/[A-Fa-f0-9]{32,}/g, REDACTED],
  // Padded base64 and long url-safe tokens (JWT segments, opaque keys). A digit is required so long
  // ordinary words and identifiers survive.
  [/[A-Za-z0-9+/]{32,}={1,2}/g, REDACTED],
  [/[A-Za-z0-9_-]{32,}/g, (m) => (/\d/.test(m) && /[A-Za-z]/.test(m) ? REDACTED : m)],
]

export function scrub(text: string): string {
  let out = text
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement as never)
  return out
}

// Control characters (C0 except the whitespace collapsed below, DEL, C1), format characters (bidi
// overrides, zero-width) and lone surrogates: a terminal obeys the first (ESC sequences), the others
// hide or reorder what a reader sees.
const INVISIBLE = /(?![\t\n\v\f\r])[\p{Cc}\p{Cf}\p{Cs}]/gu

/**
 * Drops control and invisible characters, scrubs, collapses whitespace and bounds the length.
 * Control characters go before scrubbing, so one cannot split a key into pieces too short for the
 * rules that would join up again afterwards; scrubbing goes before the cut, so no cut-off key survives.
 */
export function bounded(text: string, max: number): string {
  let window = text
  if (text.length > max * 4) {
    window = text.slice(0, max * 4)
    // Drop the token cut in half by the slice: a partial key may be too short for the rules to see.
    const lastSpace = window.search(/\s\S*$/)
    if (lastSpace > 0) window = window.slice(0, lastSpace)
  }
  const clean = scrub(window.replace(INVISIBLE, "")).replace(/\s+/g, " ").trim()
  return clean.length > max ? clean.slice(0, max - 1) + "…" : clean
}

// For whole lines of output: every control character but the line break (tab becomes a space
// first), plus the format characters and lone surrogates above. A terminal acts on C0/C1 controls
// (ESC sequences recolour, move the cursor, retitle the window, hide text); the bidi overrides and
// isolates (U+202A-U+202E, U+2066-U+2069), direction marks (U+200E, U+200F) and zero-width
// characters reorder or hide what the reader sees.
const TERMINAL_UNSAFE = /(?!\n)[\p{Cc}\p{Cf}\p{Cs}]/gu

/** Text for a terminal, as diagnose shows records: line breaks kept, nothing a terminal acts on or a reader cannot see. */
export function printable(text: string): string {
  return text.replace(/\t/g, " ").replace(TERMINAL_UNSAFE, "")
}

/**
 * JSON text for a terminal: the same characters written as `\uXXXX` escapes, so the parsed data is
 * unchanged. Raw, they can only stand inside strings (JSON.stringify escapes C0 itself, not C1 or bidi).
 */
export function printableJson(json: string): string {
  return json.replace(TERMINAL_UNSAFE, (c) => Array.from({ length: c.length }, (_, i) => "\\u" + c.charCodeAt(i).toString(16).padStart(4, "0")).join(""))
}

// For a model's answer, text meant to be read as written: the controls a terminal acts on (C0 but
// the line break and tab, DEL, C1: an OSC 52 sequence sets the clipboard) and the bidi embeddings,
// overrides and isolates that reorder what is read. Unlike printable(), joiners and direction marks
// stay: emoji sequences and Arabic or Persian words use them.
const ANSWER_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** A model's answer for a terminal: per character, so it can be applied to each streamed piece. */
export function printableAnswer(text: string): string {
  return text.replace(ANSWER_UNSAFE, "")
}
