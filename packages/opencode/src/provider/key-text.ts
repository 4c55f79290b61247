/**
 * An API key as found in a file, a config value or the environment, checked once where it is read.
 * Surrounding whitespace (a key pasted with its newline, an env file's `\r`) is trimmed: HTTP trims
 * header values anyway, so keeping it would only make the key sent differ from the key known, and
 * leave its trimmed echo unrecognised. A control or invisible character inside is refused: no HTTP
 * client sends it, and a key that looks right but is not is worse than a clear error.
 */

export type Checked = { ok: true; key: string; trimmed: boolean } | { ok: false; problem: string }

// C0 and C1 controls, DEL, and format characters (zero-width, bidi, soft hyphen, BOM); and anything
// past Latin-1, which fetch refuses in a header ("has invalid value", naming neither key nor file),
// such as a dash, ellipsis or curly quote a document put into a pasted key.
const FORBIDDEN = /[\p{Cc}\p{Cf}]|[^\u0000-\u00ff]/u

const NAMES: Record<number, string> = {
  0x00: "a NUL character",
  0x09: "a tab",
  0x0a: "a line break",
  0x0d: "a carriage return",
  0x1b: "an escape character",
  0x7f: "a delete character",
  0x200b: "a zero-width space",
  0xfeff: "a byte-order mark",
}

export function check(raw: string): Checked {
  const key = raw.trim()
  const bad = forbidden(key)
  if (bad !== undefined) return { ok: false, problem: `contains ${bad}` }
  return { ok: true, key, trimmed: key.length !== raw.length }
}

// What a forbidden character is, by name and code point: never the key around it.
function describe(char: string) {
  const cp = char.codePointAt(0) ?? 0
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`
  if (NAMES[cp]) return `${NAMES[cp]} (${code})`
  return cp > 0xff && !/\p{Cf}/u.test(char) ? `a character an HTTP header cannot carry (${code})` : `an invisible or control character (${code})`
}

/** The first forbidden character in `text`, described, or undefined. */
export function forbidden(text: string): string | undefined {
  const bad = FORBIDDEN.exec(text)?.[0]
  return bad === undefined ? undefined : describe(bad)
}
