/**
 * JSON.parse with a usable error: Bun's native message says what was expected but not where,
 * and a user fixing opencode.json or auth.json by hand needs the line and column.
 */
export type ParseResult = { ok: true; value: unknown } | { ok: false; line: number; column: number; problem: string }

/** Deeper nesting is refused before parsing: no file a user writes by hand comes near it. */
export const MAX_DEPTH = 64

export interface Options {
  /** Accept comments and trailing commas, as OpenCode reads opencode.json (JSONC). */
  jsonc?: boolean
  maxDepth?: number
}

export function parse(text: string, options: Options = {}): ParseResult {
  let plain = text
  if (options.jsonc) {
    const stripped = stripJsonc(text)
    if (!stripped.ok) return stripped
    plain = stripped.text
  }
  const deep = tooDeep(plain, options.maxDepth ?? MAX_DEPTH)
  if (deep) return { ok: false, ...position(text, deep.offset), problem: deep.problem }
  try {
    return { ok: true, value: JSON.parse(plain) }
  } catch {
    // Stripping keeps every offset, so a position found on `plain` is the raw file's.
    const failure = locate(plain)
    return { ok: false, ...position(text, failure.offset), problem: failure.problem }
  }
}

/**
 * JSONC to JSON of exactly the same length: comments become spaces (their line breaks kept) and a
 * trailing comma before `}` or `]` a space, so every line and column stays where the file has it.
 */
export function stripJsonc(text: string): { ok: true; text: string } | Extract<ParseResult, { ok: false }> {
  // [from, to) ranges to blank out, built in one pass and applied in order at the end.
  const blanks: [number, number][] = []
  let i = 0
  // The last significant character outside comments, to tell a trailing comma from `[,]`.
  let comma = -1
  let previous = ""
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') {
      i++
      while (i < text.length && text[i] !== '"' && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1
      i++
      previous = '"'
      comma = -1
      continue
    }
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i)
      const stop = end === -1 ? text.length : end
      blanks.push([i, stop])
      i = stop
      continue
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2)
      if (end === -1) return { ok: false, ...position(text, i), problem: "unterminated /* comment" }
      blanks.push([i, end + 2])
      i = end + 2
      continue
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++
      continue
    }
    if ((c === "}" || c === "]") && comma !== -1) blanks.push([comma, comma + 1])
    comma = c === "," && previous !== "," && previous !== "{" && previous !== "[" ? i : -1
    previous = c
    i++
  }
  if (!blanks.length) return { ok: true, text }
  blanks.sort((a, b) => a[0] - b[0])
  let out = ""
  let at = 0
  for (const [from, to] of blanks) {
    out += text.slice(at, from) + text.slice(from, to).replace(/[^\r\n]/g, " ")
    at = to
  }
  return { ok: true, text: out + text.slice(at) }
}

// Iterative and string-aware, so it runs before JSON.parse ever recurses into a hostile file.
function tooDeep(text: string, max: number): Failure | undefined {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      i++
      while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1
    } else if (c === "{" || c === "[") {
      if (++depth > max) return new Failure(i, `nested deeper than ${max} levels, which no hand-written file does; check that it is the right file`)
    } else if (c === "}" || c === "]") depth--
  }
  return undefined
}

export function describe(result: Extract<ParseResult, { ok: false }>) {
  return `line ${result.line}, column ${result.column}: ${result.problem}`
}

function position(text: string, offset: number) {
  let line = 1
  let column = 1
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++
      column = 1
    } else column++
  }
  return { line, column }
}

class Failure {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

// A strict validator run only after JSON.parse has already failed: it finds the first offending
// character. Iterative over containers so a hostile, deeply nested file cannot overflow the stack.
function locate(text: string): Failure {
  let i = 0
  const stack: ("object" | "array")[] = []
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const show = (at: number) => (at >= text.length ? "end of file" : JSON.stringify(text[at]))
  const fail = (expected: string) => new Failure(i, `expected ${expected}, found ${show(i)}`)

  const scalar = (): Failure | undefined => {
    const c = text[i]
    if (c === '"') {
      i++
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") i++
        else if (text.charCodeAt(i) < 0x20) return new Failure(i, "control character inside a string")
        i++
      }
      if (i >= text.length) return new Failure(i, "unterminated string")
      i++
      return
    }
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400))
    if (!literal) return fail("a value")
    i += literal[0].length
    return
  }

  // `"name":` with the position left on the value.
  const propertyName = (): Failure | undefined => {
    if (text[i] !== '"') return fail("a property name in double quotes")
    const err = scalar()
    if (err) return err
    ws()
    if (text[i] !== ":") return fail("':'")
    i++
    return
  }

  ws()
  if (i >= text.length) return new Failure(0, "the file is empty")
  for (;;) {
    ws()
    // value position
    const c = text[i]
    if (c === "{" || c === "[") {
      stack.push(c === "{" ? "object" : "array")
      i++
      ws()
      if (text[i] === (c === "{" ? "}" : "]")) {
        i++
        stack.pop()
      } else if (c === "{") {
        const err = propertyName()
        if (err) return err
        continue
      } else continue
    } else {
      const err = scalar()
      if (err) return err
    }
    // after a value: close containers or move to the next element
    for (;;) {
      ws()
      const top = stack.at(-1)
      if (!top) return i < text.length ? fail("end of file") : new Failure(i, "invalid JSON")
      if (text[i] === ",") {
        i++
        ws()
        if (top === "object") {
          const err = propertyName()
          if (err) return err
        }
        break
      }
      if (text[i] === (top === "object" ? "}" : "]")) {
        i++
        stack.pop()
        continue
      }
      return fail(top === "object" ? "',' or '}'" : "',' or ']'")
    }
  }
}
