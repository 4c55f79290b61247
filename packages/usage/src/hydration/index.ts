/**
 * Read the query results a SolidStart page embeds for hydration, without
 * running any of its code.
 */
import { forEachInlineScript, forEachInlineScriptRange } from "./html.ts"
import { HydrationState, Lazy, LazyFallback, ScriptParser, applyFixups, real } from "./parser.ts"
import { Deferred, type QueryResult } from "./values.ts"

export { Deferred, PageError, UnknownValue, safeGet, isRecord, type QueryResult } from "./values.ts"
export { extractInlineScripts, forEachInlineScript } from "./html.ts"
export { MAX_DEPTH } from "./parser.ts"

export interface HydrationResult {
  /** Query key (e.g. `billing.get["wrk_..."]`) -> outcome. */
  queries: Map<string, QueryResult>
  /** Query keys present in the page whose value could not be parsed, with why. */
  failedKeys: Map<string, string>
  /** Whether anything looked like seroval hydration output at all. */
  hydrationFound: boolean
  scriptCount: number
  /** Skipped or malformed statements (capped), for drift reports. */
  diagnostics: string[]
}

export function parseHydrationHtml(html: string): HydrationResult {
  const st = new HydrationState()
  let count = 0
  forEachInlineScript(html, (text) => {
    count++
    parseScript(st, text)
  })
  return finish(st, count)
}

/** Scripts must be in page order: later scripts settle promises created by earlier ones. */
export function parseHydrationScripts(scripts: readonly string[]): HydrationResult {
  const st = new HydrationState()
  for (const text of scripts) parseScript(st, text)
  return finish(st, scripts.length)
}

/** Cheap pre-check keeps analytics bundles and dictionaries out of the parser entirely. */
function isHydrationScript(text: string): boolean {
  // One pass over the `$`s instead of two `includes` over the whole script.
  for (let i = text.indexOf("$"); i >= 0; i = text.indexOf("$", i + 1)) {
    if (text.charCodeAt(i + 1) === 82 /* R */ || (text.charCodeAt(i - 1) === 95 /* _ */ && text.startsWith("HY", i + 1))) return true
  }
  return false
}

function parseScript(st: HydrationState, text: string, base = 0): void {
  if (!isHydrationScript(text)) return
  new ScriptParser(st, text, base).run()
}

function finish(st: HydrationState, scriptCount: number): HydrationResult {
  applyFixups(st)
  const queries = new Map<string, QueryResult>()
  for (const [key, raw] of st.entries) queries.set(key, toResult(st, raw))
  return result(st, queries, scriptCount)
}

function result(st: HydrationState, queries: Map<string, QueryResult>, scriptCount: number): HydrationResult {
  return {
    queries,
    failedKeys: st.failedKeys,
    hydrationFound: st.hydrationStatements > 0 || st.refs.size > 0 || st.failedKeys.size > 0,
    scriptCount,
    diagnostics: st.diagnostics,
  }
}

function toResult(st: HydrationState, raw: unknown): QueryResult {
  let r = raw
  if (st.lazy && r instanceof Lazy) r = r.state === 2 || !st.placeholders.has(r) ? real(st, r) : r
  const d = r instanceof Deferred ? r : typeof r === "object" && r !== null ? st.placeholders.get(r) : undefined
  if (!d) return { status: "fulfilled", value: st.lazy ? real(st, r) : r }
  if (d.state === "pending") return { status: "pending" }
  if (d.state === "rejected") return { status: "rejected", error: st.lazy ? real(st, d.value) : d.value }
  return { status: "fulfilled", value: st.lazy ? real(st, d.value) : d.value }
}

/**
 * Same result as `parseHydrationHtml`, but object and array literals stored by
 * the page (query results, `$R[n]=` bindings, settled values) are only checked
 * while reading and built when `queries.get(key)` asks for them, with whatever
 * they reference. Big pages then keep little alive, which keeps the parse
 * linear in practice (the GC otherwise re-marks every value built so far).
 * Whatever the lazy path cannot reproduce exactly falls back to the eager parse.
 */
export function parseHydrationHtmlLazy(html: string): HydrationResult {
  // The fallback re-reads the page: cheaper than holding every script for a rare case.
  const eager = () => parseHydrationHtml(html)
  const st = new HydrationState(true)
  const markers = new MarkerScan(html)
  let count = 0
  try {
    forEachInlineScriptRange(html, (start, end) => {
      count++
      // Only hydration scripts are copied out of the page. Offsets start at 1: 0 means "no position" in the ref table.
      if (markers.within(start, end)) new ScriptParser(st, html.slice(start, end), start + 1).run()
    })
    applyFixups(st)
  } catch (e) {
    if (e instanceof LazyFallback) return eager()
    throw e
  }
  st.done = true
  return result(st, new LazyQueries(st, eager), count)
}

const NOT_BUILT: QueryResult = Object.freeze({ status: "pending" })

/**
 * `isHydrationScript` over `[start, end)` of the page without copying it.
 * Scripts come in page order, so remembering the next `$` keeps it linear
 * even when many scripts without one sit before the next that has one.
 */
class MarkerScan {
  private nextDollar = -1

  constructor(private readonly html: string) {}

  within(start: number, end: number): boolean {
    const html = this.html
    let i = start
    while (true) {
      if (this.nextDollar < i) {
        const d = html.indexOf("$", i)
        this.nextDollar = d < 0 ? html.length : d
      }
      const d = this.nextDollar
      if (d >= end) return false
      if (d + 1 < end && html.charCodeAt(d + 1) === 82 /* R */) return true
      if (d > start && html.charCodeAt(d - 1) === 95 /* _ */ && d + 2 < end && html.charCodeAt(d + 1) === 72 && html.charCodeAt(d + 2) === 89) return true
      i = d + 1
    }
  }
}

/** A query map that builds each result on first access (and everything, if iterated). */
class LazyQueries extends Map<string, QueryResult> {
  private readonly built = new Map<string, QueryResult>()
  private fallback: Map<string, QueryResult> | undefined

  constructor(
    private readonly st: HydrationState,
    private readonly eager: () => HydrationResult,
  ) {
    super()
    // Placeholder values only: every read goes through `get`.
    for (const key of st.entries.keys()) super.set(key, NOT_BUILT)
  }

  override get(key: string): QueryResult | undefined {
    if (this.fallback) return this.fallback.get(key)
    if (!super.has(key)) return undefined
    let r = this.built.get(key)
    if (r) return r
    try {
      r = toResult(this.st, this.st.entries.get(key))
    } catch (e) {
      if (!(e instanceof LazyFallback)) throw e
      this.fallback = this.eager().queries
      return this.fallback.get(key)
    }
    this.built.set(key, r)
    return r
  }

  override set(key: string, value: QueryResult): this {
    this.built.set(key, value)
    return super.set(key, value)
  }

  override *entries(): MapIterator<[string, QueryResult]> {
    for (const key of [...super.keys()]) yield [key, this.get(key) as QueryResult]
  }

  override *values(): MapIterator<QueryResult> {
    for (const [, v] of this.entries()) yield v
  }

  override [Symbol.iterator](): MapIterator<[string, QueryResult]> {
    return this.entries()
  }

  override forEach(fn: (value: QueryResult, key: string, map: Map<string, QueryResult>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this)
  }
}
