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
  /** Bindings whose value is `undefined` (a hole in `slots` reads the same). */
  private readonly undef = new Set<number>()
  /** Lazy mode: page offset at which each binding became visible (the end of its value). */
  private readonly at: number[] = []
  size = 0

  has(n: number): boolean {
    // Not `n in slots`: on a holey array that walks the prototype chain for every miss.
    return this.slots[n] !== undefined || this.undef.has(n)
  }

  get(n: number): unknown {
    return this.slots[n]
  }

  set(n: number, v: unknown, at = 0): void {
    if (!this.has(n)) this.size++
    this.slots[n] = v
    if (v === undefined) this.undef.add(n)
    else this.undef.delete(n)
    if (at) this.at[n] = at
  }

  /** Whether `$R[n]` was already bound at page offset `pos` (lazy builds replay reads in page order). */
  boundAt(n: number, pos: number): boolean {
    return this.has(n) && (this.at[n] ?? 0) <= pos
  }

  delete(n: number): void {
    if (!this.has(n)) return
    this.size--
    this.slots[n] = undefined
    this.undef.delete(n)
    this.at[n] = 0
  }
}

/**
 * Lazy mode: an object or array literal (or a `$R[n]=` value nested in one)
 * that was checked but not built. It is built from its source span on first
 * use, reading `$R` bindings as they stood at that point of the page.
 */
export class Lazy {
  /** 0 not built, 1 being built, 2 built. */
  state = 0
  value: unknown = undefined
  constructor(
    readonly src: string,
    /** Offset of `src` in the page. */
    readonly base: number,
    readonly start: number,
    readonly end: number,
  ) {}

  /** Object and array literals are plain data; other spans must be built before their type is known. */
  get plain(): boolean {
    const c = this.src.charCodeAt(this.start)
    return c === Ch.LBrace || c === Ch.LBracket
  }
}

/** The lazy path cannot reproduce eager semantics here (e.g. a reassigned `$R[n]`): parse eagerly instead. */
export class LazyFallback extends Error {}

/** Thrown inside a skim: the literal is not plain data, so it is parsed eagerly where it stands. */
const IMPURE: { readonly impure: true } = { impure: true }
/** Deep chains of lazy values referencing lazy values would recurse; past this, parse eagerly. */
const MAX_FORCE_DEPTH = 64

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
  /** Lazy mode: plain-data literals are skimmed and built only when asked for. */
  lazy = false
  /** Lazy mode: every script has been read (fix-ups created later are applied at once). */
  done = false
  forceDepth = 0
  /** Re-entrancy guards: nested builds leave their queued work to the loop already running. */
  applying = false
  draining = false
  /** Deferreds reachable from built values: their lazy settled values must be built too. */
  readonly exposed = new WeakSet<Deferred>()
  readonly exposeQueue: Deferred[] = []
  /** `$R[n]` bound during the current skim (one at a time), undone if the literal is re-parsed eagerly. */
  readonly skimRefs: number[] = []

  constructor(lazy = false) {
    this.lazy = lazy
  }

  diag(message: string): void {
    if (this.diagnostics.length < MAX_DIAGNOSTICS) this.diagnostics.push(message)
  }
}

/** Stands for any undefined `$R[n]` in callee position: `call` only asks whether it is a hole. */
const CALLED_HOLE = new RefHole(-1)

const ARROW_PARAMS = /\(\s*(?:[A-Za-z_$][\w$]*\s*(?:,\s*[A-Za-z_$][\w$]*\s*)*)?\)\s*=>/y
const ERROR_CTORS = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "AggregateError"])

export class ScriptParser {
  private pos = 0
  private depth = 0
  /** Lazy mode: checking a plain-data literal without building it. */
  private skim = false
  /** Lazy mode: building a skimmed span (reads see bindings as of their page offset). */
  private build = false
  /** Lazy mode: the next value may stay unbuilt (it is stored, not inspected). */
  private allowLazy = false

  constructor(
    private readonly st: HydrationState,
    private readonly src: string,
    /** Offset of the script in the page (lazy mode orders bindings by it). */
    private readonly base = 0,
  ) {}

  /** Build a skimmed span (lazy mode). */
  static buildSpan(st: HydrationState, lz: Lazy): unknown {
    const p = new ScriptParser(st, lz.src, lz.base)
    p.build = true
    p.pos = lz.start
    const v = p.value()
    if (p.pos !== lz.end) throw new LazyFallback("lazy span ended elsewhere than its skim")
    return v
  }

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
    const lazyOK = this.allowLazy
    this.allowLazy = false
    this.ws()
    const src = this.src
    const start = this.pos
    const c = src.charCodeAt(start)
    if (this.skim) return this.skimValue(c)
    switch (c) {
      case Ch.Dollar:
        if (src.startsWith("$R[", start)) return this.reference(lazyOK)
        break
      case 95:
        if (src.startsWith("_$HY.r[", start)) return this.queryAssignment()
        break
      case Ch.LParen:
        return this.parenthesised()
      case Ch.LBrace:
        return lazyOK ? this.lazyLiteral() : this.object()
      case Ch.LBracket:
        return lazyOK ? this.lazyLiteral() : this.array()
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

  /**
   * Check one value of a plain-data literal without building it. Accepts the
   * same syntax as the eager parser; anything with effects or value-dependent
   * checks (calls, member access, `Object.assign`, `!x`, ...) and any error
   * throws IMPURE, and the enclosing literal is re-parsed eagerly.
   */
  private skimValue(c: number): undefined {
    const src = this.src
    const start = this.pos
    switch (c) {
      case Ch.Dollar:
        if (src.startsWith("$R[", start)) return this.skimReference()
        break
      case 95:
        if (src.startsWith("_$HY.r[", start)) throw IMPURE
        break
      case Ch.LBrace:
        return this.skimObject()
      case Ch.LBracket:
        return this.skimArray()
      case Ch.Quote:
      case Ch.Apos:
        return this.skimString()
      case 33:
      case 45:
      case 43: {
        // Only `!0`, `-1`, ...: the eager parser's operand checks need a value.
        this.pos++
        this.ws()
        const d = src.charCodeAt(this.pos)
        if (!((d >= 48 && d <= 57) || d === 46)) throw IMPURE
        this.value()
        return undefined
      }
      case 46:
        this.skimNumber()
        return undefined
    }
    if (c >= 48 && c <= 57) {
      this.skimNumber()
      return undefined
    }
    if (isIdentStart(c)) return this.skimIdentifierValue()
    throw IMPURE
  }

  /**
   * Plain decimals (`12`, `1.5`, `.5`, `1e-6`) are checked in place; anything
   * else (hex, bigint, separators, leading zeros, malformed) goes to `number()`.
   */
  private skimNumber(): void {
    const src = this.src
    const n = src.length
    const start = this.pos
    let i = start
    let digits = 0
    while (i < n && isDigit(src.charCodeAt(i))) i++
    digits = i - start
    if (digits > 1 && src.charCodeAt(start) === 48) return void this.number()
    if (src.charCodeAt(i) === 46) {
      const f = ++i
      while (i < n && isDigit(src.charCodeAt(i))) i++
      digits += i - f
    }
    if (digits === 0) return void this.number()
    const e = src.charCodeAt(i)
    if (e === 101 || e === 69) {
      i++
      const sign = src.charCodeAt(i)
      if (sign === 43 || sign === 45) i++
      const x = i
      while (i < n && isDigit(src.charCodeAt(i))) i++
      if (i === x) return void this.number()
    }
    const after = src.charCodeAt(i)
    if (isIdentPart(after) || after === 46) return void this.number()
    this.pos = i
  }

  private skimReference(): undefined {
    const n = this.refIndex()
    if (this.atAssign()) {
      this.pos++
      this.ws()
      const start = this.pos
      this.value()
      const st = this.st
      if (st.refs.has(n)) throw new LazyFallback(`$R[${n}] bound twice`)
      st.refs.set(n, new Lazy(this.src, this.base, start, this.pos), this.base + this.pos)
      this.st.skimRefs.push(n)
      return undefined
    }
    if (this.postfixFollows()) throw IMPURE
    return undefined
  }

  private skimObject(): undefined {
    const src = this.src
    this.pos++
    while (true) {
      this.ws()
      const c = src.charCodeAt(this.pos)
      if (c === Ch.RBrace) {
        this.pos++
        return undefined
      }
      if (c === Ch.Quote || c === Ch.Apos) this.skimString()
      else if ((c >= 48 && c <= 57) || c === 46) this.skimNumber()
      else if (isIdentStart(c)) this.pos = this.identEnd(this.pos)
      else throw IMPURE
      this.ws()
      if (!this.peekIs(58)) throw IMPURE
      this.pos++
      this.value()
      this.ws()
      if (this.peekIs(Ch.Comma)) this.pos++
      else if (!this.peekIs(Ch.RBrace)) throw IMPURE
    }
  }

  private skimArray(): undefined {
    const src = this.src
    this.pos++
    while (true) {
      this.ws()
      const c = src.charCodeAt(this.pos)
      if (c === Ch.RBracket) {
        this.pos++
        return undefined
      }
      if (c === Ch.Comma) {
        this.pos++
        continue
      }
      this.value()
      this.ws()
      if (this.peekIs(Ch.Comma)) this.pos++
      else if (this.peekIs(Ch.RBracket)) {
        this.pos++
        return undefined
      } else throw IMPURE
    }
  }

  /** Validate a string literal exactly as `string()` would, without building it. */
  private skimString(): undefined {
    const src = this.src
    const n = src.length
    const quote = src.charCodeAt(this.pos)
    let i = this.pos + 1
    while (true) {
      if (i >= n) throw IMPURE
      const c = src.charCodeAt(i)
      if (c === quote) {
        this.pos = i + 1
        return undefined
      }
      if (c === Ch.LF || c === Ch.CR) throw IMPURE
      if (c === Ch.Backslash) {
        i = this.skimEscape(i + 1)
        continue
      }
      i++
    }
  }

  /** Index after the escape whose body starts at `i`; mirrors `escape()`. */
  private skimEscape(i: number): number {
    const src = this.src
    if (i >= src.length) throw IMPURE
    const c = src.charCodeAt(i)
    switch (c) {
      case 110: // n
      case 116: // t
      case 114: // r
      case 98: // b
      case 102: // f
      case 118: // v
      case Ch.LF:
      case Ch.LS:
      case Ch.PS:
        return i + 1
      case Ch.CR:
        return src.charCodeAt(i + 1) === Ch.LF ? i + 2 : i + 1
      case 48: {
        const d = src.charCodeAt(i + 1)
        if (d >= 48 && d <= 57) throw IMPURE
        return i + 1
      }
      case 120: // x
        if (!isHex(src.charCodeAt(i + 1)) || !isHex(src.charCodeAt(i + 2))) throw IMPURE
        return i + 3
      case 117: {
        // u
        if (src.charCodeAt(i + 1) === Ch.LBrace) {
          let j = i + 2
          let cp = 0
          while (j < src.length && j - (i + 2) < 7 && isHex(src.charCodeAt(j))) cp = cp * 16 + Number.parseInt(src.charAt(j++), 16)
          if (j === i + 2 || j - (i + 2) > 6 || src.charCodeAt(j) !== Ch.RBrace || cp > 0x10ffff) throw IMPURE
          return j + 1
        }
        for (let k = 1; k <= 4; k++) if (!isHex(src.charCodeAt(i + k))) throw IMPURE
        return i + 5
      }
      default:
        if (c >= 49 && c <= 57) throw IMPURE
        return i + 1
    }
  }

  private identEnd(start: number): number {
    const src = this.src
    let i = start + 1
    while (i < src.length && isIdentPart(src.charCodeAt(i))) i++
    return i
  }

  private isWord(start: number, end: number, word: string): boolean {
    return end - start === word.length && this.src.startsWith(word, start)
  }

  private skimIdentifierValue(): undefined {
    const start = this.pos
    const end = this.identEnd(start)
    this.pos = end
    // No closure here: this runs for every `new Date(...)` and `null` in the page.
    if (this.isWord(start, end, "null") || this.isWord(start, end, "undefined") || this.isWord(start, end, "true")) return undefined
    if (this.isWord(start, end, "false") || this.isWord(start, end, "NaN") || this.isWord(start, end, "Infinity")) return undefined
    if (this.isWord(start, end, "void")) {
      this.value()
      return undefined
    }
    if (this.isWord(start, end, "new")) return this.skimConstruct(start)
    if (this.isWord(start, end, "Promise")) {
      if (!this.peekIs(46)) return this.skimUnknown(start)
      this.pos++
      if (!isIdentStart(this.src.charCodeAt(this.pos))) throw IMPURE
      const mEnd = this.identEnd(this.pos)
      const isMethod = this.isWord(this.pos, mEnd, "resolve") || this.isWord(this.pos, mEnd, "reject")
      this.pos = mEnd
      if (!isMethod) return this.skimUnknown(start)
      return this.skimArgs()
    }
    if (this.isWord(start, end, "Object") || this.isArrowAfterIdent(end)) throw IMPURE
    return this.skimUnknown(start)
  }

  private skimConstruct(start: number): undefined {
    this.ws()
    if (!isIdentStart(this.src.charCodeAt(this.pos))) throw IMPURE
    const cStart = this.pos
    const cEnd = this.identEnd(cStart)
    this.pos = cEnd
    const known = this.isWord(cStart, cEnd, "Date") || this.isWord(cStart, cEnd, "Map") || this.isWord(cStart, cEnd, "Set") || ERROR_CTORS.has(this.src.slice(cStart, cEnd))
    if (!known) return this.skimUnknown(start)
    this.ws()
    if (this.peekIs(Ch.LParen)) this.skimArgs()
    return undefined
  }

  private skimArgs(): undefined {
    if (!this.peekIs(Ch.LParen)) {
      this.ws()
      if (!this.peekIs(Ch.LParen)) throw IMPURE
    }
    this.pos++
    this.ws()
    if (this.peekIs(Ch.RParen)) {
      this.pos++
      return undefined
    }
    while (true) {
      this.value()
      this.ws()
      if (this.peekIs(Ch.Comma)) {
        this.pos++
        this.ws()
        if (this.peekIs(Ch.RParen)) {
          this.pos++
          return undefined
        }
        continue
      }
      if (!this.peekIs(Ch.RParen)) throw IMPURE
      this.pos++
      return undefined
    }
  }

  private skimUnknown(start: number): undefined {
    const end = skipCode(this.src, start, "value")
    if (end <= start) throw IMPURE
    this.pos = end
    return undefined
  }

  private queryAssignment(): unknown {
    this.pos += "_$HY.r[".length
    this.ws()
    const key = this.string()
    this.expect(Ch.RBracket)
    this.expectAssign()
    let v: unknown
    try {
      this.allowLazy = this.st.lazy && !this.build
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
    const src = this.src
    const start = this.pos
    let n = 0
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos)
      if (c < 48 || c > 57) break
      n = n * 10 + (c - 48)
      this.pos++
    }
    if (this.pos === start || this.pos - start > 9) this.fail("bad $R index")
    this.expect(Ch.RBracket)
    return n
  }

  /** `$R[n]`, `$R[n]=value`, or `$R[n]` followed by calls and member accesses. */
  private reference(lazyOK = false): unknown {
    const n = this.refIndex()
    const st = this.st
    if (this.atAssign()) {
      this.pos++
      if (this.build) return this.rebuildBinding(n)
      this.allowLazy = lazyOK
      const v = this.value()
      if (st.lazy) {
        // Later lazy builds read bindings by page offset; a second binding would need history.
        if (st.refs.has(n)) throw new LazyFallback(`$R[${n}] bound twice`)
        st.refs.set(n, v, this.base + this.pos)
      } else st.refs.set(n, v)
      return v
    }
    if (this.build) {
      const v = st.refs.boundAt(n, this.base + this.pos) ? real(st, st.refs.get(n)) : new RefHole(n)
      return this.postfix(v)
    }
    // A hole called at once (`$R[2](...)`, a helper the page never shows) is only inspected by `call`.
    let v = st.refs.has(n) ? st.refs.get(n) : this.peekCall() ? CALLED_HOLE : new RefHole(n)
    // Stored values (query results, bindings, helper arguments) may stay lazy; anything inspected is built.
    if (st.lazy && !(lazyOK && this.postfixFollows() === false)) v = real(st, v)
    return this.postfix(v)
  }

  /** Building a span that contains `$R[n]=`: the binding the skim made for it, built once. */
  private rebuildBinding(n: number): unknown {
    this.ws()
    const b = this.st.refs.get(n)
    if (!(b instanceof Lazy) || b.src !== this.src || b.start !== this.pos) throw new LazyFallback(`$R[${n}] binding moved`)
    if (b.state === 2) {
      this.pos = b.end
      return b.value
    }
    if (b.state === 1) throw new LazyFallback(`$R[${n}] built re-entrantly`)
    b.state = 1
    const v = this.value()
    if (this.pos !== b.end) throw new LazyFallback(`$R[${n}] span mismatch`)
    finishLazy(this.st, b, v)
    return v
  }

  private peekCall(): boolean {
    const save = this.pos
    this.ws()
    const r = this.src.charCodeAt(this.pos) === Ch.LParen
    this.pos = save
    return r
  }

  private postfixFollows(): boolean {
    const save = this.pos
    this.ws()
    const c = this.src.charCodeAt(this.pos)
    const r = c === Ch.LParen || c === Ch.LBracket || (c === 46 && isIdentStart(this.src.charCodeAt(this.pos + 1)))
    this.pos = save
    return r
  }

  /** A plain-data literal in a position where it is only stored: check it now, build it on demand. */
  private lazyLiteral(): unknown {
    const start = this.pos
    const depth = this.depth
    this.skim = true
    try {
      this.skimValue(this.src.charCodeAt(start))
      this.skim = false
      this.st.skimRefs.length = 0
      return new Lazy(this.src, this.base, start, this.pos)
    } catch (e) {
      this.skim = false
      if (e instanceof LazyFallback) throw e
      // Not plain data, or malformed: parse it eagerly from the start, exactly as before.
      for (const n of this.st.skimRefs) this.st.refs.delete(n)
      this.st.skimRefs.length = 0
      this.depth = depth
      this.pos = start
      return this.src.charCodeAt(start) === Ch.LBrace ? this.object() : this.array()
    }
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
        v = this.call(v, this.args(this.st.lazy && !this.build))
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

  /** `lazyOK`: helper-call arguments are stored (placeholders, settled values), so they may stay unbuilt. */
  private args(lazyOK = false): unknown[] {
    this.expect(Ch.LParen)
    const out: unknown[] = []
    this.ws()
    if (this.peekIs(Ch.RParen)) {
      this.pos++
      return out
    }
    while (true) {
      this.allowLazy = lazyOK
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
    if (this.st.lazy) {
      // Unbuilt object/array literals may stay so; anything else must be built to know what it is.
      for (let i = 0; i < args.length; i++) {
        const a = args[i]
        if (a instanceof Lazy && (a.state === 2 || !a.plain)) args[i] = real(this.st, a)
      }
    }
    let role: HelperFn["role"] = callee instanceof HelperFn ? callee.role : "unknown"
    // Compact pages call helpers defined elsewhere (or never shown); infer from the call's shape.
    if (role === "unknown" && (callee instanceof HelperFn || callee instanceof RefHole || callee === undefined)) {
      const first = args[0]
      const placeholderLike =
        (first instanceof Lazy ? first.src.charCodeAt(first.start) === Ch.LBrace : isRecord(first)) || first instanceof RefHole || first instanceof Deferred
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
        out += this.escape(i + 1)
        i = this.escapeEnd
        chunkStart = i
        continue
      }
      i++
    }
  }

  /** Decode the escape whose body starts at `i` (after the backslash); sets `escapeEnd` (no tuple per escape). */
  private escape(i: number): string {
    const src = this.src
    const c = src[i]
    switch (c) {
      case undefined:
        return this.fail("unterminated string")
      case "n":
        return this.escaped("\n", i + 1)
      case "t":
        return this.escaped("\t", i + 1)
      case "r":
        return this.escaped("\r", i + 1)
      case "b":
        return this.escaped("\b", i + 1)
      case "f":
        return this.escaped("\f", i + 1)
      case "v":
        return this.escaped("\v", i + 1)
      case "0":
        if (!/[0-9]/.test(src[i + 1] ?? "")) return this.escaped("\0", i + 1)
        return this.fail("octal escape")
      case "x": {
        const hex = src.slice(i + 1, i + 3)
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail("bad \\x escape")
        return this.escaped(String.fromCharCode(Number.parseInt(hex, 16)), i + 3)
      }
      case "u": {
        if (src[i + 1] === "{") {
          const close = src.indexOf("}", i + 2)
          const hex = close < 0 ? "" : src.slice(i + 2, close)
          if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) this.fail("bad \\u{} escape")
          return this.escaped(String.fromCodePoint(Number.parseInt(hex, 16)), close + 1)
        }
        const hex = src.slice(i + 1, i + 5)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape")
        return this.escaped(String.fromCharCode(Number.parseInt(hex, 16)), i + 5)
      }
      case "\r":
        return this.escaped("", src[i + 1] === "\n" ? i + 2 : i + 1)
      case "\n":
      case "\u2028":
      case "\u2029":
        return this.escaped("", i + 1)
      default:
        if (/[1-9]/.test(c)) this.fail("octal escape")
        return this.escaped(c, i + 1)
    }
  }

  private escapeEnd = 0

  private escaped(text: string, end: number): string {
    this.escapeEnd = end
    return text
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

export function settle(st: HydrationState, target: unknown, role: "resolve" | "reject", value: unknown): void {
  let d: Deferred | undefined
  let placeholder = target
  if (placeholder instanceof Lazy && (placeholder.state === 2 || !placeholder.plain)) placeholder = real(st, placeholder)
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
  // Already part of a built value: its settled value must not stay lazy.
  if (value instanceof Lazy && st.exposed.has(d)) d.value = real(st, value)
}

/** Lazy mode: the built form of a stored value (Deferreds it reaches get built settled values). */
export function real(st: HydrationState, v: unknown): unknown {
  if (v instanceof Lazy) return force(st, v)
  if (v instanceof Deferred && st.lazy && !st.exposed.has(v)) {
    st.exposed.add(v)
    if (v.value instanceof Lazy || v.value instanceof Deferred) {
      st.exposeQueue.push(v)
      if (st.forceDepth === 0) drainExposed(st)
    }
  }
  return v
}

function drainExposed(st: HydrationState): void {
  if (st.draining) return
  st.draining = true
  try {
    // A queue, not recursion: a chain of promises settled with promises stays flat.
    while (st.exposeQueue.length > 0) {
      const d = st.exposeQueue.pop() as Deferred
      d.value = real(st, d.value)
    }
  } finally {
    st.draining = false
  }
}

/** Build a lazy value once; its bindings keep their identity. */
export function force(st: HydrationState, lz: Lazy): unknown {
  if (lz.state === 2) return lz.value
  if (lz.state === 1) throw new LazyFallback("lazy value needed while it is being built")
  if (st.forceDepth >= MAX_FORCE_DEPTH) throw new LazyFallback("lazy values nested too deeply")
  lz.state = 1
  st.forceDepth++
  let v: unknown
  try {
    v = ScriptParser.buildSpan(st, lz)
  } catch (e) {
    if (e instanceof LazyFallback) throw e
    throw new LazyFallback(`lazy value failed to build: ${e instanceof Error ? e.message : String(e)}`)
  } finally {
    st.forceDepth--
  }
  finishLazy(st, lz, v)
  if (st.forceDepth === 0) {
    if (st.done) applyFixups(st)
    drainExposed(st)
  }
  return v
}

export function finishLazy(st: HydrationState, lz: Lazy, v: unknown): void {
  lz.value = v
  lz.state = 2
  // A placeholder registered while unbuilt is the same placeholder once built.
  const d = st.placeholders.get(lz)
  if (d && typeof v === "object" && v !== null) st.placeholders.set(v, d)
}

/** Patch forward references (`$R[n]` read before `$R[n]=`) once the whole page is read. */
export function applyFixups(st: HydrationState): void {
  if (st.applying) return
  st.applying = true
  try {
    applyFixupsOnce(st)
  } finally {
    st.applying = false
  }
}

function applyFixupsOnce(st: HydrationState): void {
  const { fixups, entryFixups, lateSettles } = st
  // Index loops: in lazy mode building a value may queue more fix-ups.
  for (let i = 0; i < fixups.length; i++) {
    const f = fixups[i] as Fixup
    if (st.refs.has(f.id)) safeSet(f.target, f.key, st.lazy ? real(st, st.refs.get(f.id)) : st.refs.get(f.id))
  }
  fixups.length = 0
  for (const f of entryFixups) if (st.refs.has(f.id)) st.entries.set(f.key, st.refs.get(f.id))
  entryFixups.length = 0
  for (const s of lateSettles) {
    if (st.refs.has(s.id)) settle(st, st.refs.get(s.id), s.role, s.value)
    else st.diag(`settle call on $R[${s.id}], which the page never defines`)
  }
  lateSettles.length = 0
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
}
