/**
 * JSON.parse with a usable error: Bun's native message says what was expected but not where,
 * and a user fixing opencode.json or auth.json by hand needs the line and column.
 */
export type ParseResult = { ok: true; value: unknown } | { ok: false; line: number; column: number; problem: string }

export function parse(text: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    const failure = locate(text)
    return { ok: false, ...position(text, failure.offset), problem: failure.problem }
  }
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
