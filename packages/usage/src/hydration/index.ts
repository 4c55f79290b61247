/**
 * Read the query results a SolidStart page embeds for hydration, without
 * running any of its code.
 */
import { forEachInlineScript } from "./html.ts"
import { HydrationState, ScriptParser, settle } from "./parser.ts"
import { Deferred, type QueryResult, safeSet } from "./values.ts"

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

function parseScript(st: HydrationState, text: string): void {
  // Cheap pre-check keeps analytics bundles and dictionaries out of the parser entirely.
  if (!text.includes("$R") && !text.includes("_$HY")) return
  new ScriptParser(st, text).run()
}

function finish(st: HydrationState, scriptCount: number): HydrationResult {
  applyFixups(st)
  const queries = new Map<string, QueryResult>()
  for (const [key, raw] of st.entries) queries.set(key, toResult(st, raw))
  return {
    queries,
    failedKeys: st.failedKeys,
    hydrationFound: st.hydrationStatements > 0 || st.refs.size > 0 || st.failedKeys.size > 0,
    scriptCount,
    diagnostics: st.diagnostics,
  }
}

function applyFixups(st: HydrationState): void {
  for (const f of st.fixups) if (st.refs.has(f.id)) safeSet(f.target, f.key, st.refs.get(f.id))
  for (const f of st.entryFixups) if (st.refs.has(f.id)) st.entries.set(f.key, st.refs.get(f.id))
  for (const s of st.lateSettles) {
    if (st.refs.has(s.id)) settle(st, st.refs.get(s.id), s.role, s.value)
    else st.diag(`settle call on $R[${s.id}], which the page never defines`)
  }
}

function toResult(st: HydrationState, raw: unknown): QueryResult {
  const d = raw instanceof Deferred ? raw : typeof raw === "object" && raw !== null ? st.placeholders.get(raw) : undefined
  if (!d) return { status: "fulfilled", value: raw }
  if (d.state === "pending") return { status: "pending" }
  if (d.state === "rejected") return { status: "rejected", error: d.value }
  return { status: "fulfilled", value: d.value }
}
