/**
 * Character-level scanning shared by the parser and the skipper. Every
 * function here moves forward only, so skipping is linear in input size.
 */

export const enum Ch {
  Tab = 9,
  LF = 10,
  VT = 11,
  FF = 12,
  CR = 13,
  Space = 32,
  Quote = 34,
  Dollar = 36,
  Apos = 39,
  LParen = 40,
  RParen = 41,
  Star = 42,
  Comma = 44,
  Slash = 47,
  Semi = 59,
  LBracket = 91,
  Backslash = 92,
  RBracket = 93,
  Backtick = 96,
  LBrace = 123,
  RBrace = 125,
  NBSP = 160,
  LS = 0x2028,
  PS = 0x2029,
  BOM = 0xfeff,
}

export function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Tab || c === Ch.VT || c === Ch.FF || c === Ch.NBSP || c === Ch.BOM
}

export function isNewline(c: number): boolean {
  return c === Ch.LF || c === Ch.CR || c === Ch.LS || c === Ch.PS
}

export function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === Ch.Dollar
}

export function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57)
}

/**
 * Skip a quoted string starting at `pos` (the quote). Returns the index after
 * the closing quote, or -1 when the string is unterminated (a raw newline or
 * the end of the script, which JavaScript does not allow in such strings).
 */
export function skipString(src: string, pos: number): number {
  const quote = src.charCodeAt(pos)
  const n = src.length
  let i = pos + 1
  while (i < n) {
    const c = src.charCodeAt(i)
    if (c === quote) return i + 1
    if (c === Ch.Backslash) {
      i += 2
      continue
    }
    if (c === Ch.LF || c === Ch.CR) return -1
    i++
  }
  return -1
}

/** Template literals: `${}` nesting is not modelled; skipping stops at the next unescaped backtick. */
export function skipTemplate(src: string, pos: number): number {
  const n = src.length
  let i = pos + 1
  while (i < n) {
    const c = src.charCodeAt(i)
    if (c === Ch.Backtick) return i + 1
    i += c === Ch.Backslash ? 2 : 1
  }
  return n
}

/** Returns the index after a comment starting at `pos`, or `pos` if there is none. */
export function skipComment(src: string, pos: number): number {
  if (src.charCodeAt(pos) !== Ch.Slash) return pos
  const next = src.charCodeAt(pos + 1)
  if (next === Ch.Slash) {
    let i = pos + 2
    while (i < src.length && !isNewline(src.charCodeAt(i))) i++
    return i
  }
  if (next === Ch.Star) {
    const end = src.indexOf("*/", pos + 2)
    return end < 0 ? src.length : end + 2
  }
  return pos
}

/** Index of the next character that is not whitespace, a line break or a comment. */
export function skipTrivia(src: string, pos: number): number {
  let i = pos
  while (i < src.length) {
    const c = src.charCodeAt(i)
    if (isSpace(c) || isNewline(c)) i++
    else {
      const end = skipComment(src, i)
      if (end === i) return i
      i = end
    }
  }
  return i
}

/** Statement starts the parser understands; used to resynchronise after ASI-style newlines. */
export function isKnownStatementStart(src: string, pos: number): boolean {
  const c = src.charCodeAt(pos)
  if (c === Ch.Dollar) return src.startsWith("$R[", pos)
  if (c === 95) return src.startsWith("_$HY.r[", pos)
  if (c === Ch.LParen) return src.startsWith("$R", pos + 1) || src.startsWith("self.$R", pos + 1)
  return false
}

type Stop = "statement" | "value"

/**
 * Skip forward over code we do not model, respecting strings, comments and
 * brackets. A "statement" skip consumes the terminating `;`; a "value" skip
 * stops before a top-level `,` or `;`. Both stop before a closing bracket
 * they did not open, so an enclosing construct can still close.
 */
export function skipCode(src: string, pos: number, stop: Stop): number {
  const n = src.length
  let depth = 0
  let i = pos
  // Statements may end without `;` (ASI after a newline, or after a function body's `}`);
  // stop there if a hydration statement follows. `probedUntil` keeps the look-ahead linear.
  // (Inline rather than a closure: skipCode runs for every statement the parser does not model.)
  let probedUntil = -1
  while (i < n) {
    const c = src.charCodeAt(i)
    switch (c) {
      case Ch.Quote:
      case Ch.Apos: {
        const end = skipString(src, i)
        if (end < 0) {
          // Unterminated: resume at the line break (or give up at the end).
          let j = i + 1
          while (j < n && src.charCodeAt(j) !== Ch.LF && src.charCodeAt(j) !== Ch.CR) j++
          i = j
        } else i = end
        continue
      }
      case Ch.Backtick:
        i = skipTemplate(src, i)
        continue
      case Ch.Slash: {
        const end = skipComment(src, i)
        i = end === i ? i + 1 : end
        continue
      }
      case Ch.LParen:
      case Ch.LBracket:
      case Ch.LBrace:
        depth++
        break
      case Ch.RParen:
      case Ch.RBracket:
      case Ch.RBrace: {
        if (depth === 0) return i
        depth--
        if (depth === 0 && c === Ch.RBrace && stop === "statement" && i + 1 > probedUntil) {
          const j = skipTrivia(src, i + 1)
          probedUntil = j
          if (isKnownStatementStart(src, j)) return j
        }
        break
      }
      case Ch.Semi:
        if (depth === 0) return stop === "statement" ? i + 1 : i
        break
      case Ch.Comma:
        if (depth === 0 && stop === "value") return i
        break
      case Ch.LF:
      case Ch.CR:
        if (depth === 0 && stop === "statement" && i + 1 > probedUntil) {
          const j = skipTrivia(src, i + 1)
          probedUntil = j
          if (isKnownStatementStart(src, j)) return j
        }
        break
    }
    i++
  }
  return n
}

/** Index after the bracket matching the one at `pos`, or -1 if it never closes. */
export function skipBalanced(src: string, pos: number): number {
  const end = skipCode(src, pos + 1, "value")
  // skipCode stops before a top-level comma; keep going until the closer.
  let i = end
  while (i < src.length) {
    const c = src.charCodeAt(i)
    if (c === Ch.RParen || c === Ch.RBracket || c === Ch.RBrace) return i + 1
    i = skipCode(src, i + 1, "value")
  }
  return -1
}
