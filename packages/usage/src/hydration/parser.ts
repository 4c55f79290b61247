/**
 * A parser for the JavaScript subset that seroval (via SolidStart) emits to
 * hydrate a page. It builds inert values and never evaluates page code.
 * Statements it does not recognise are skipped; a malformed statement costs
 * only itself. Recursion is bounded so hostile nesting fails cleanly.
 */
import { UsageError } from "../errors.ts"
import { Ch, isIdentPart, isIdentStart, isNewline, isSpace, skipBalanced, skipCode, skipComment, skipString } from "./scan.ts"
import { Deferred, HelperFn, PageError, RefHole, UnknownValue, isRecord, safeGet, safeSet } from "./values.ts"

export const MAX_DEPTH = 400
const MAX_DIAGNOSTICS = 50
const EXCERPT = 60

/** A statement-local syntax problem: the statement is skipped, parsing goes on. */
class SyntaxFail extends Error {}

interface Fixup {
  target: unknown
  key: string
  id: number
}

/**
 * `$R` slots. Seroval numbers them densely from 0, so an array keeps them in
 * order in memory (far fewer cache misses than a hash map on big pages);
 * a hostile huge index only makes the array sparse.
 */
export class RefTable {
  private readonly slots: unknown[] = []
  size = 0

  has(n: number): boolean {
    return n < this.slots.length && n in this.slots
  }

  get(n: number): unknown {
    return this.slots[n]
  }

  set(n: number, v: unknown): void {
    if (!this.has(n)) this.size++
    this.slots[n] = v
  }
}

/** State shared by all scripts of one page, since references cross script boundaries. */
export class HydrationState {
  readonly refs = new RefTable()
  readonly entries = new Map<string, unknown>()
  readonly placeholders = new WeakMap<object, Deferred>()
  /** Query keys whose value could not be parsed, with the reason. */
  readonly failedKeys = new Map<string, string>()
  readonly diagnostics: string[] = []
  readonly fixups: Fixup[] = []
  readonly entryFixups: { key: string; id: number }[] = []
  readonly lateSettles: { id: number; role: "resolve" | "reject"; value: unknown }[] = []
  hydrationStatements = 0

  diag(message: string): void {
    if (this.diagnostics.length < MAX_DIAGNOSTICS) this.diagnostics.push(message)
  }
}

const ARROW_PARAMS = /\(\s*(?:[A-Za-z_$][\w$]*\s*(?:,\s*[A-Za-z_$][\w$]*\s*)*)?\)\s*=>/y
const ERROR_CTORS = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "AggregateError"])

export class ScriptParser {
  private pos = 0
  private depth = 0

  constructor(
    private readonly st: HydrationState,
    private readonly src: string,
  ) {}

  run(): void {
    this.statements(false)
  }

  /** `inBlock`: stop before a `}` that closes an enclosing arrow body. */
  private statements(inBlock: boolean): void {
    const src = this.src
    while (true) {
      this.ws()
      if (this.pos >= src.length) return
      const c = src.charCodeAt(this.pos)
      if (c === Ch.Semi) {
        this.pos++
        continue
      }
      if (inBlock && c === Ch.RBrace) return
      const start = this.pos
      const depth = this.depth
      if (this.looksKnown()) {
        try {
          this.sequence()
          this.endStatement()
          continue
        } catch (e) {
          if (!(e instanceof SyntaxFail)) throw e
          this.depth = depth
          this.st.diag(`${e.message} in statement "${this.excerpt(start)}"`)
          this.pos = start
        }
      }
      this.pos = skipCode(src, this.pos, "statement")
      if (this.pos === start) {
        if (inBlock) return
        this.pos++ // a stray closer at top level; step over it
      }
    }
  }

  private looksKnown(): boolean {
    const { src, pos } = this
    const c = src.charCodeAt(pos)
    if (c === Ch.Dollar) return src.startsWith("$R[", pos)
    if (c === 95) return src.startsWith("_$HY.r[", pos)
    if (c === Ch.LParen) {
      let i = pos + 1
      while (isSpace(src.charCodeAt(i))) i++
      return src.startsWith("$R", i) || src.startsWith("self.$R", i)
    }
    return false
  }

  private endStatement(): void {
    const sawNewline = this.ws()
    const c = this.src.charCodeAt(this.pos)
    if (this.pos >= this.src.length || c === Ch.Semi || c === Ch.RBrace) return
    if (sawNewline) return
    this.fail("expected end of statement")
  }

  /** Comma expression; returns the last value. */
  private sequence(): unknown {
    let v = this.value()
    while (this.peekIs(Ch.Comma)) {
      this.pos++
      v = this.value()
    }
    return v
  }

  private value(): unknown {
    if (++this.depth > MAX_DEPTH) {
      throw new UsageError("parse_failed", `hydration data nested deeper than ${MAX_DEPTH} levels; refusing to parse`)
    }
    // No try/finally on this hot path: a failed statement resets the depth where it is caught.
    const v = this.valueInner()
    this.depth--
    return v
  }

  private valueInner(): unknown {
    this.ws()
    const src = this.src
    const start = this.pos
    const c = src.charCodeAt(start)
    switch (c) {
      case Ch.Dollar:
        if (src.startsWith("$R[", start)) return this.reference()
        break
      case 95:
        if (src.startsWith("_$HY.r[", start)) return this.queryAssignment()
        break
      case Ch.LParen:
        return this.parenthesised()
      case Ch.LBrace:
        return this.object()
      case Ch.LBracket:
        return this.array()
      case Ch.Quote:
      case Ch.Apos:
        return this.string()
      case 33: {
        // `!0` / `!1` are the minifier's booleans.
        this.pos++
        const v = this.value()
        if (v === null || v === undefined || typeof v === "number" || typeof v === "boolean" || typeof v === "string" || typeof v === "bigint") return !v
        return this.fail("unsupported operand for !")
      }
      case 45:
      case 43: {
        this.pos++
        const v = this.value()
        if (typeof v === "number") return c === 45 ? -v : v
        if (typeof v === "bigint") return c === 45 ? -v : v
        return this.fail("unary minus on a non-number")
      }
      case 46:
        return this.number()
    }
    if (c >= 48 && c <= 57) return this.number()
    if (isIdentStart(c)) return this.identifierValue()
    return this.fail(this.pos >= src.length ? "unexpected end of script" : `unexpected character ${JSON.stringify(src[start])}`)
  }

  private queryAssignment(): unknown {
    this.pos += "_$HY.r[".length
    this.ws()
    const key = this.string()
    this.expect(Ch.RBracket)
    this.expectAssign()
    let v: unknown
    try {
      v = this.value()
    } catch (e) {
      if (e instanceof SyntaxFail) this.st.failedKeys.set(key, e.message)
      throw e
    }
    this.st.entries.set(key, v)
    this.st.failedKeys.delete(key)
    this.st.hydrationStatements++
    if (v instanceof RefHole) this.st.entryFixups.push({ key, id: v.id })
    return v
  }

  private refIndex(): number {
    this.pos += 3
    this.ws()
    const start = this.pos
    while (this.pos < this.src.length && this.src.charCodeAt(this.pos) >= 48 && this.src.charCodeAt(this.pos) <= 57) this.pos++
    if (this.pos === start || this.pos - start > 9) this.fail("bad $R index")
    const n = Number(this.src.slice(start, this.pos))
    this.expect(Ch.RBracket)
    return n
  }

  /** `$R[n]`, `$R[n]=value`, or `$R[n]` followed by calls and member accesses. */
  private reference(): unknown {
    const n = this.refIndex()
    if (this.atAssign()) {
      this.pos++
      const v = this.value()
      this.st.refs.set(n, v)
      return v
    }
    const v = this.st.refs.has(n) ? this.st.refs.get(n) : new RefHole(n)
    return this.postfix(v)
  }

  private parenthesised(): unknown {
    const src = this.src
    ARROW_PARAMS.lastIndex = this.pos
    if (ARROW_PARAMS.test(src)) {
      this.pos = ARROW_PARAMS.lastIndex
      return this.postfix(this.arrowBody())
    }
    const open = this.pos
    this.pos++
    this.ws()
    // `(self.$R=self.$R||{})[...]=...` only sets up the page's ref store.
    if (src.startsWith("self.$R", this.pos)) {
      const end = skipBalanced(src, open)
      if (end < 0) this.fail("unterminated prelude")
      this.pos = end
      return this.postfix(new UnknownValue("self.$R"))
    }
    // Scoped form: `($R=>...)($R["server-fn:0"])`; refs stay global here.
    if (src.startsWith("$R", this.pos) && this.isArrowAfterIdent(this.pos + 2)) {
      this.pos = src.indexOf("=>", this.pos) + 2
      this.ws()
      if (this.peekIs(Ch.LBrace)) {
        this.pos++
        this.statements(true)
        this.expect(Ch.RBrace)
      } else this.sequence()
      this.expect(Ch.RParen)
      this.ws()
      if (this.peekIs(Ch.LParen)) {
        const end = skipBalanced(src, this.pos)
        if (end < 0) this.fail("unterminated call")
        this.pos = end
      }
      return undefined
    }
    const v = this.sequence()
    this.expect(Ch.RParen)
    return this.postfix(v)
  }

  private isArrowAfterIdent(i: number): boolean {
    const src = this.src
    if (isIdentPart(src.charCodeAt(i))) return false
    while (isSpace(src.charCodeAt(i))) i++
    return src.startsWith("=>", i)
  }

  /** Reduce an arrow function to the role it plays for promise placeholders. */
  private arrowBody(): HelperFn {
    this.ws()
    const src = this.src
    const start = this.pos
    const c = src.charCodeAt(start)
    let end: number
    if (c === Ch.LBrace || c === Ch.LParen) end = skipBalanced(src, start)
    else end = skipCode(src, start, "value")
    if (end < 0 || end === start) this.fail("unterminated arrow function")
    this.pos = end
    const body = src.slice(start, end)
    if (/new\s+Promise\b/.test(body)) return new HelperFn("create")
    if (/\.\s*f\s*\(/.test(body)) return new HelperFn("reject")
    if (/\.\s*s\s*\(/.test(body)) return new HelperFn("resolve")
    return new HelperFn("unknown")
  }

  /** Calls and member accesses after a reference or parenthesised value. */
  private postfix(target: unknown): unknown {
    let v = target
    while (true) {
      this.ws()
      const c = this.src.charCodeAt(this.pos)
      if (c === Ch.LParen) {
        v = this.call(v, this.args())
      } else if (c === 46 && isIdentStart(this.src.charCodeAt(this.pos + 1))) {
        this.pos++
        const name = this.identifier()
        v = this.member(v, name)
      } else if (c === Ch.LBracket) {
        this.pos++
        const k = this.value()
        this.expect(Ch.RBracket)
        if (typeof k !== "string" && typeof k !== "number") this.fail("computed member key is not a string or number")
        v = this.member(v, String(k))
      } else return v
    }
  }

  /** A member that is assigned, called as a collection method, or read. */
  private member(obj: unknown, name: string): unknown {
    if (this.atAssign()) {
      this.pos++
      const v = this.value()
      safeSet(obj, name, v)
      if (v instanceof RefHole) this.st.fixups.push({ target: obj, key: name, id: v.id })
      return v
    }
    this.ws()
    if (this.peekIs(Ch.LParen)) {
      const args = this.args()
      if (name === "set" && obj instanceof Map) obj.set(args[0], args[1])
      else if (name === "add" && obj instanceof Set) obj.add(args[0])
      else if (name === "push" && Array.isArray(obj)) for (const a of args) obj.push(a)
      return undefined
    }
    return safeGet(obj, name)
  }

  private args(): unknown[] {
    this.expect(Ch.LParen)
    const out: unknown[] = []
    this.ws()
    if (this.peekIs(Ch.RParen)) {
      this.pos++
      return out
    }
    while (true) {
      out.push(this.value())
      this.ws()
      if (this.peekIs(Ch.Comma)) {
        this.pos++
        this.ws()
        if (this.peekIs(Ch.RParen)) {
          this.pos++
          return out
        }
        continue
      }
      this.expect(Ch.RParen)
      return out
    }
  }

  private call(callee: unknown, args: unknown[]): unknown {
    let role: HelperFn["role"] = callee instanceof HelperFn ? callee.role : "unknown"
    // Compact pages call helpers defined elsewhere (or never shown); infer from the call's shape.
    if (role === "unknown" && (callee instanceof HelperFn || callee instanceof RefHole || callee === undefined)) {
      const first = args[0]
      const placeholderLike = isRecord(first) || first instanceof RefHole || first instanceof Deferred
      if (args.length === 1 && placeholderLike) role = "create"
      else if (args.length === 2 && placeholderLike) role = args[1] instanceof PageError ? "reject" : "resolve"
    }
    if (role === "create") {
      const ph = args[0]
      if (ph instanceof Deferred) return ph
      if (typeof ph !== "object" || ph === null) return this.fail("promise helper called without a placeholder")
      const d = this.st.placeholders.get(ph) ?? new Deferred()
      this.st.placeholders.set(ph, d)
      return d
    }
    if (role === "resolve" || role === "reject") {
      const ph = args[0]
      if (ph instanceof RefHole) {
        this.st.lateSettles.push({ id: ph.id, role, value: args[1] })
        return undefined
      }
      settle(this.st, ph, role, args[1])
      return undefined
    }
    return new UnknownValue("call")
  }

  private identifierValue(): unknown {
    const start = this.pos
    const name = this.identifier()
    switch (name) {
      case "null":
        return null
      case "undefined":
        return undefined
      case "true":
        return true
      case "false":
        return false
      case "NaN":
        return Number.NaN
      case "Infinity":
        return Number.POSITIVE_INFINITY
      case "void":
        this.value()
        return undefined
      case "new":
        return this.construct(start)
      case "Promise":
        return this.promiseStatic(start)
      case "Object":
        return this.objectStatic(start)
    }
    if (this.isArrowAfterIdent(this.pos)) {
      this.pos = this.src.indexOf("=>", this.pos) + 2
      return this.postfix(this.arrowBody())
    }
    return this.unknownFrom(start)
  }

  private construct(start: number): unknown {
    this.ws()
    const ctor = this.identifier()
    if (ctor !== "Date" && ctor !== "Map" && ctor !== "Set" && !ERROR_CTORS.has(ctor)) return this.unknownFrom(start)
    this.ws()
    const args = this.peekIs(Ch.LParen) ? this.args() : []
    switch (ctor) {
      case "Date": {
        const a = args[0]
        return new Date(typeof a === "string" || typeof a === "number" ? a : Number.NaN)
      }
      case "Map": {
        const m = new Map<unknown, unknown>()
        const entries = args[0]
        if (Array.isArray(entries)) for (const pair of entries) if (Array.isArray(pair)) m.set(pair[0], pair[1])
        return m
      }
      case "Set":
        return new Set(Array.isArray(args[0]) ? args[0] : [])
    }
    if (ERROR_CTORS.has(ctor)) {
      const msg = args[0]
      return new PageError(ctor, typeof msg === "string" ? msg : "")
    }
    return this.unknownFrom(start)
  }

  private promiseStatic(start: number): unknown {
    if (!this.peekIs(46)) return this.unknownFrom(start)
    this.pos++
    const method = this.identifier()
    if (method !== "resolve" && method !== "reject") return this.unknownFrom(start)
    const args = this.args()
    const d = new Deferred()
    d.state = method === "resolve" ? "fulfilled" : "rejected"
    d.value = args[0]
    return d
  }

  /** `Object.assign(target, props)` decorates errors and objects. */
  private objectStatic(start: number): unknown {
    if (!this.src.startsWith(".assign", this.pos)) return this.unknownFrom(start)
    this.pos += ".assign".length
    const args = this.args()
    const target = args[0]
    for (const source of args.slice(1)) {
      if (!isRecord(source)) continue
      for (const k of Object.keys(source)) safeSet(target, k, source[k])
    }
    return target
  }

  private unknownFrom(start: number): UnknownValue {
    const end = skipCode(this.src, start, "value")
    if (end <= start) this.fail("unexpected token")
    this.pos = end
    return new UnknownValue(this.src.slice(start, Math.min(end, start + EXCERPT)))
  }

  private object(): Record<string, unknown> {
    const src = this.src
    this.pos++
    const obj: Record<string, unknown> = Object.create(null)
    while (true) {
      this.ws()
      const c = src.charCodeAt(this.pos)
      if (c === Ch.RBrace) {
        this.pos++
        return obj
      }
      let key: string
      if (c === Ch.Quote || c === Ch.Apos) key = this.string()
      else if ((c >= 48 && c <= 57) || c === 46) key = String(this.number())
      else if (isIdentStart(c)) key = this.identifier()
      else return this.fail("bad object key")
      this.ws()
      this.expect(58) // ':'
      const v = this.value()
      // obj has a null prototype, so even "__proto__" is stored as plain data.
      obj[key] = v
      if (v instanceof RefHole) this.st.fixups.push({ target: obj, key, id: v.id })
      this.ws()
      if (this.peekIs(Ch.Comma)) this.pos++
      else if (!this.peekIs(Ch.RBrace)) this.fail("expected , or } in object")
    }
  }

  private array(): unknown[] {
    this.pos++
    const arr: unknown[] = []
    let index = 0
    while (true) {
      this.ws()
      const c = this.src.charCodeAt(this.pos)
      if (c === Ch.RBracket) {
        this.pos++
        arr.length = index
        return arr
      }
      if (c === Ch.Comma) {
        // A hole: `[,1]`.
        this.pos++
        index++
        continue
      }
      const v = this.value()
      arr[index] = v
      if (v instanceof RefHole) this.st.fixups.push({ target: arr, key: String(index), id: v.id })
      this.ws()
      if (this.peekIs(Ch.Comma)) {
        this.pos++
        index++
      } else if (this.peekIs(Ch.RBracket)) {
        this.pos++
        arr.length = index + 1
        return arr
      } else this.fail("expected , or ] in array")
    }
  }

  private string(): string {
    const src = this.src
    const quote = src.charCodeAt(this.pos)
    if (quote !== Ch.Quote && quote !== Ch.Apos) this.fail("expected a string")
    let i = this.pos + 1
    let chunkStart = i
    let out = ""
    while (true) {
      if (i >= src.length) this.fail("unterminated string")
      const c = src.charCodeAt(i)
      if (c === quote) {
        out += src.slice(chunkStart, i)
        this.pos = i + 1
        return out
      }
      if (c === Ch.LF || c === Ch.CR) this.fail("unterminated string")
      if (c === Ch.Backslash) {
        out += src.slice(chunkStart, i)
        const [text, next] = this.escape(i + 1)
        out += text
        i = next
        chunkStart = i
        continue
      }
      i++
    }
  }

  /** Decode the escape whose body starts at `i` (after the backslash). */
  private escape(i: number): [string, number] {
    const src = this.src
    const c = src[i]
    switch (c) {
      case undefined:
        return this.fail("unterminated string")
      case "n":
        return ["\n", i + 1]
      case "t":
        return ["\t", i + 1]
      case "r":
        return ["\r", i + 1]
      case "b":
        return ["\b", i + 1]
      case "f":
        return ["\f", i + 1]
      case "v":
        return ["\v", i + 1]
      case "0":
        if (!/[0-9]/.test(src[i + 1] ?? "")) return ["\0", i + 1]
        return this.fail("octal escape")
      case "x": {
        const hex = src.slice(i + 1, i + 3)
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail("bad \\x escape")
        return [String.fromCharCode(Number.parseInt(hex, 16)), i + 3]
      }
      case "u": {
        if (src[i + 1] === "{") {
          const close = src.indexOf("}", i + 2)
          const hex = close < 0 ? "" : src.slice(i + 2, close)
          if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) this.fail("bad \\u{} escape")
          return [String.fromCodePoint(Number.parseInt(hex, 16)), close + 1]
        }
        const hex = src.slice(i + 1, i + 5)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape")
        return [String.fromCharCode(Number.parseInt(hex, 16)), i + 5]
      }
      case "\r":
        return ["", src[i + 1] === "\n" ? i + 2 : i + 1]
      case "\n":
      case "\u2028":
      case "\u2029":
        return ["", i + 1]
      default:
        if (/[1-9]/.test(c)) this.fail("octal escape")
        return [c, i + 1]
    }
  }

  private number(): number | bigint {
    const src = this.src
    const start = this.pos
    // Fast path: plain integers are most numbers in a page.
    let fast = 0
    let j = start
    while (j < src.length) {
      const c = src.charCodeAt(j)
      if (c < 48 || c > 57) break
      fast = fast * 10 + (c - 48)
      j++
    }
    const after = src.charCodeAt(j)
    if (j - start < 16 && !(isIdentPart(after) || after === 46) && !(src.charCodeAt(start) === 48 && j - start > 1)) {
      this.pos = j
      return fast
    }
    let i = start
    const hexish = src.charCodeAt(i) === 48 && /[xob]/i.test(src[i + 1] ?? "")
    while (i < src.length) {
      const c = src.charCodeAt(i)
      if (isIdentPart(c) || c === 46) i++
      else if ((c === 43 || c === 45) && !hexish && /[eE]/.test(src[i - 1] ?? "")) i++
      else break
    }
    this.pos = i
    const text = src.slice(start, i).replaceAll("_", "")
    if (text.endsWith("n")) {
      const body = text.slice(0, -1)
      if (!isRadixLiteral(body) && !(isDigits(body, 0, body.length) && (body === "0" || body[0] !== "0"))) this.fail(`bad bigint ${clip(text)}`)
      return BigInt(body)
    }
    if (!isRadixLiteral(text) && !isDecimalLiteral(text)) this.fail(`bad number ${clip(text)}`)
    return Number(text)
  }

  private identifier(): string {
    const src = this.src
    const start = this.pos
    if (!isIdentStart(src.charCodeAt(start))) this.fail("expected an identifier")
    let i = start + 1
    while (i < src.length && isIdentPart(src.charCodeAt(i))) i++
    this.pos = i
    return src.slice(start, i)
  }

  /** Skip whitespace and comments; reports whether a line break was crossed (for ASI). */
  private ws(): boolean {
    const src = this.src
    let newline = false
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos)
      if (isSpace(c)) this.pos++
      else if (isNewline(c)) {
        newline = true
        this.pos++
      } else if (c === Ch.Slash) {
        const end = skipComment(src, this.pos)
        if (end === this.pos) return newline
        if (src.charCodeAt(this.pos + 1) === Ch.Slash) newline = true
        this.pos = end
      } else return newline
    }
    return newline
  }

  private peekIs(c: number): boolean {
    return this.src.charCodeAt(this.pos) === c
  }

  /** `=` that is an assignment, not `==` or `=>`. */
  private atAssign(): boolean {
    this.ws()
    if (!this.peekIs(61)) return false
    const next = this.src.charCodeAt(this.pos + 1)
    return next !== 61 && next !== 62
  }

  private expectAssign(): void {
    if (!this.atAssign()) this.fail("expected =")
    this.pos++
  }

  private expect(c: number): void {
    this.ws()
    if (!this.peekIs(c)) this.fail(`expected ${JSON.stringify(String.fromCharCode(c))}`)
    this.pos++
  }

  private excerpt(start: number): string {
    return this.src.slice(start, start + EXCERPT).replace(/\s+/g, " ")
  }

  private fail(message: string): never {
    throw new SyntaxFail(`${message} at offset ${this.pos}`)
  }
}

// Number validation is hand-written: a backtracking regex is quadratic on long digit runs.
function isDigits(t: string, from: number, to: number, max = 57): boolean {
  if (to <= from) return false
  for (let k = from; k < to; k++) {
    const c = t.charCodeAt(k)
    if (c < 48 || c > max) return false
  }
  return true
}

function isRadixLiteral(t: string): boolean {
  if (t.length < 3 || t[0] !== "0") return false
  const r = t[1]
  if (r === "x" || r === "X") {
    for (let k = 2; k < t.length; k++) if (!/[0-9a-fA-F]/.test(t[k] ?? "")) return false
    return true
  }
  if (r === "o" || r === "O") return isDigits(t, 2, t.length, 55)
  if (r === "b" || r === "B") return isDigits(t, 2, t.length, 49)
  return false
}

/** `12`, `1.5`, `1.`, `.5`, each with an optional `e[+-]digits`. */
function isDecimalLiteral(t: string): boolean {
  let e = t.length
  for (let k = 0; k < t.length; k++) {
    if (t[k] === "e" || t[k] === "E") {
      e = k
      break
    }
  }
  if (e < t.length) {
    const signAt = e + 1
    const expFrom = t[signAt] === "+" || t[signAt] === "-" ? signAt + 1 : signAt
    if (!isDigits(t, expFrom, t.length)) return false
  }
  const dot = t.indexOf(".")
  if (dot < 0 || dot > e) return isDigits(t, 0, e)
  const hasInt = dot > 0
  const hasFrac = e > dot + 1
  if (!hasInt && !hasFrac) return false
  return (!hasInt || isDigits(t, 0, dot)) && (!hasFrac || isDigits(t, dot + 1, e))
}

function clip(t: string): string {
  return t.length > 24 ? `${t.slice(0, 24)}…` : t
}

export function settle(st: HydrationState, placeholder: unknown, role: "resolve" | "reject", value: unknown): void {
  let d: Deferred | undefined
  if (placeholder instanceof Deferred) d = placeholder
  else if (typeof placeholder === "object" && placeholder !== null) {
    d = st.placeholders.get(placeholder)
    if (!d) {
      d = new Deferred()
      st.placeholders.set(placeholder, d)
    }
  }
  if (!d) {
    st.diag("settle call without a placeholder")
    return
  }
  if (d.state !== "pending") return
  d.state = role === "resolve" ? "fulfilled" : "rejected"
  d.value = value
}
