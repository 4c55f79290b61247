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
