import { describe, expect, test } from "bun:test"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import { generatePage } from "../bench.ts"
import { type HydrationResult, parseHydrationHtml, parseHydrationHtmlLazy } from "../src/hydration/index.ts"
import { Deferred, UnknownValue } from "../src/hydration/values.ts"
import { parseBillingHtml } from "../src/zen.ts"
import { WS, expectCode, fixture } from "./helpers.ts"

/**
 * A plain tree of a parsed value that also records sharing: the n-th distinct
 * object met is `#n`, and meeting it again gives `{ ref: n }`. So two results
 * compare equal only if they are equal *and* share (and cycle) the same way.
 */
function canon(v: unknown, ids = new Map<object, number>()): unknown {
  if (typeof v === "number" && Number.isNaN(v)) return "NaN"
  if (typeof v === "bigint") return `${v}n`
  if (typeof v !== "object" || v === null) return v
  const seen = ids.get(v)
  if (seen !== undefined) return { ref: seen }
  const id = ids.size
  ids.set(v, id)
  const kind = v.constructor?.name ?? "null-proto"
  if (v instanceof Date) return { id, kind, time: Number.isNaN(v.getTime()) ? "invalid" : v.getTime() }
  if (v instanceof Map) return { id, kind, entries: [...v].map(([k, x]) => [canon(k, ids), canon(x, ids)]) }
  if (v instanceof Set) return { id, kind, items: [...v].map((x) => canon(x, ids)) }
  if (Array.isArray(v)) return { id, kind, length: v.length, items: Object.keys(v).map((k) => [k, canon(v[Number(k)], ids)]) }
  return { id, kind, props: Object.keys(v).map((k) => [k, canon((v as Record<string, unknown>)[k], ids)]) }
}

/** The lazy parse (used by billing) must answer exactly what the eager parse answers. */
function outcome(parse: (html: string) => HydrationResult, html: string): unknown {
  let h: HydrationResult
  try {
    h = parse(html)
  } catch (e) {
    return { threw: e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e) }
  }
  const queries: [string, unknown][] = []
  const ids = new Map<object, number>()
  for (const key of h.queries.keys()) queries.push([key, canon(h.queries.get(key), ids)])
  return { queries, failedKeys: [...h.failedKeys], hydrationFound: h.hydrationFound, scriptCount: h.scriptCount, diagnostics: h.diagnostics }
}

function expectSame(html: string): void {
  expect(outcome(parseHydrationHtmlLazy, html)).toEqual(outcome(parseHydrationHtml, html))
}

const script = (...bodies: string[]) => bodies.map((b) => `<script>${b}</script>`).join("\n")

const lazyValue = (html: string, key = "k") => {
  const q = parseHydrationHtmlLazy(html).queries.get(key)
  if (q?.status !== "fulfilled") throw new Error(`not fulfilled: ${JSON.stringify(q)}`)
  return q.value as any
}

const FIXTURES = readdirSync(join(import.meta.dir, "fixtures")).filter((f) => f.endsWith(".html"))

const SNIPPETS: Record<string, string> = {
  earlierScript: script(`$R[5]={a:1,d:$R[6]=new Date(0)}`, `_$HY.r["k"]={x:$R[5],y:$R[5],d:$R[6]}`),
  nestedBindingReadLater: script(`_$HY.r["j"]=[$R[3]={n:1},$R[4]=[1,2]]`, `_$HY.r["k"]={a:$R[3],b:$R[4],c:$R[3]}`),
  cycleAcrossStatements: script(`$R[1]={a:$R[2]};$R[2]={b:$R[1]};_$HY.r["k"]=$R[1]`),
  cycleByMemberWrite: script(`_$HY.r["k"]=$R[1]={m:$R[2]=new Map,s:$R[3]=new Set};$R[1].self=$R[1];$R[2].set("a",$R[1]);$R[3].add(2);$R[1]["q"]=3`),
  selfReference: script(`_$HY.r["k"]=$R[1]={a:$R[1],b:[$R[1]]}`),
  forwardIntoMap: script(`_$HY.r["k"]={m:new Map([[$R[9],1]]),s:new Set([$R[9]]),o:{x:$R[9]}}`, `$R[9]={late:!0}`),
  forwardNeverDefined: script(`_$HY.r["k"]={a:$R[99],b:[$R[98]]}`),
  malformedUnrelated: script(`$R[7]={a:"unterminated`, `_$HY.r["k"]={ok:1}`, `$R[8]={a:!{}};$R[9]=[-"x"];_$HY.r["j"]=2`),
  malformedNeededLater: script(`$R[7]={a:!{}}`, `_$HY.r["k"]={x:$R[7]}`),
  badEscapesInLazy: script(`$R[1]={a:"\\x4"};$R[2]={a:"\\u{110000}"};$R[3]={a:"\\08"};$R[4]=["\\u{41}\\u0042\\x43\\
d"];_$HY.r["k"]=$R[4]`),
  reassigned: script(`$R[1]={v:1};_$HY.r["a"]={x:$R[1]};$R[1]={v:2};_$HY.r["b"]={x:$R[1]}`),
  reassignedNested: script(`_$HY.r["a"]=[$R[1]={v:1},$R[1]={v:2}];_$HY.r["b"]=$R[1]`),
  placeholderReadBeforeSettle: script(
    `_$HY.r["k"]=$R[1]=$R[2]($R[3]={p:0,s:0,f:0});_$HY.r["j"]={x:$R[1],ph:$R[3]}`,
    `$R[16]($R[3],$R[4]={v:[1,2],d:new Date(5)})`,
  ),
  placeholderBuiltEarly: script(`_$HY.r["k"]=$R[1]=$R[2]($R[3]={p:0,s:0,f:0});$R[3].extra=1`, `$R[16]($R[3],{v:1})`),
  settledWithLaterPromise: script(`_$HY.r["k"]=$R[1]=$R[2]($R[3]={p:0,s:0,f:0});$R[16]($R[3],{inner:$R[5]})`, `$R[5]=Promise.resolve({deep:[1]})`),
  rejectWithNestedError: script(`_$HY.r["k"]=$R[1]=$R[2]($R[3]={p:0,s:0,f:0});$R[10]={e:$R[11]=new Error("boom")};$R[17]($R[3],$R[11])`),
  helpersLongHand: script(
    `_$HY.r["k"]=$R[30]=($R[2]=r=>(r.p=new Promise((s,f)=>{r.s=s,r.f=f})))($R[31]={p:0,s:0,f:0});`,
    `($R[16]=(r,d)=>{r.s(d),r.p.s=1,r.p.v=d})($R[31],$R[32]={plan:"200",w:$R[33]={status:"ok"}});_$HY.r["j"]=$R[33]`,
  ),
  impureLiterals: script(`_$HY.r["k"]={a:$R[2]($R[3]={p:0,s:0,f:0}),b:Object.assign({},{c:1}),c:(1),d:x=>x,e:$R[5].y,f:!$R[6]}`),
  unknownValues: script(`_$HY.r["k"]={a:foo.bar(1),b:new Foo(1),c:Promise.all([1]),d:Promise.resolve(1),e:new TypeError("t"),f:void 0,g:-1.5e3,h:12n,i:0x1f,j:[,,1,],k:{1:2,"q":3,__proto__:{p:1}}}`),
  primitivesBound: script(`[$R[1]="s",$R[2]=5,$R[3]=!0];_$HY.r["k"]={a:!$R[1],b:-$R[2],c:$R[3]}`),
  aliasChain: script(`$R[1]={v:1};$R[2]=$R[1];_$HY.r["k"]=$R[2];_$HY.r["j"]=[$R[2],$R[1]]`),
  longChain: script(Array.from({ length: 300 }, (_, i) => `$R[${i + 1}]={p:$R[${i}]}`).join(";") + `;_$HY.r["k"]=$R[300]`),
  deepInLazy: script(`_$HY.r["k"]=${"[".repeat(500)}`),
  deepUnrelatedBinding: script(`$R[1]=${"[".repeat(500)}${"]".repeat(500)}`),
}

describe("lazy hydration parse matches the eager one", () => {
  for (const name of FIXTURES) test(`fixture ${name}`, () => expectSame(fixture(name)))
  for (const [name, html] of Object.entries(SNIPPETS)) test(`snippet ${name}`, () => expectSame(html))

  test("generated bench pages", () => {
    expectSame(generatePage(200_000, "realistic"))
    expectSame(generatePage(200_000, "dense"))
  })

  test("every truncation and a sample of byte deletions of the fixtures", () => {
    for (const name of ["compact.html", "longhand-black.html", "forward-ref.html", "escaped.html", "drift-reordered.html"]) {
      const html = fixture(name)
      const start = html.indexOf("<script")
      for (let cut = start; cut < html.length; cut += 3) expectSame(html.slice(0, cut))
      for (let at = start; at < html.length; at += 7) expectSame(html.slice(0, at) + html.slice(at + 1))
    }
  })
})

describe("lazy resolution", () => {
  test("a binding from an earlier script keeps its identity", () => {
    const v = lazyValue(SNIPPETS.earlierScript as string)
    expect(v.x).toBe(v.y)
    expect(v.x.d).toBe(v.d)
    expect(v.d).toBeInstanceOf(Date)
  })

  test("reference cycles are rebuilt as cycles", () => {
    const v = lazyValue(SNIPPETS.cycleAcrossStatements as string)
    expect(v.a.b).toBe(v)
    const w = lazyValue(SNIPPETS.cycleByMemberWrite as string)
    expect(w.self).toBe(w)
    expect(w.m.get("a")).toBe(w)
  })

  test("a malformed binding nobody needs costs only its statement, as before", () => {
    const h = parseHydrationHtmlLazy(SNIPPETS.malformedUnrelated as string)
    expect(h.queries.get("k")).toEqual({ status: "fulfilled", value: Object.assign(Object.create(null), { ok: 1 }) })
    expect(h.queries.get("j")).toEqual({ status: "fulfilled", value: 2 })
    expect(h.diagnostics.length).toBeGreaterThan(0)
  })

  test("a promise read before it is settled carries the built value", () => {
    const v = lazyValue(SNIPPETS.placeholderReadBeforeSettle as string, "j")
    expect(v.x).toBeInstanceOf(Deferred)
    expect(v.x.value.v).toEqual([1, 2])
    expect(v.x.value.d).toBeInstanceOf(Date)
  })

  test("values the page does not model stay inert", () => {
    const v = lazyValue(SNIPPETS.unknownValues as string)
    expect(v.a).toBeInstanceOf(UnknownValue)
    expect(Object.getPrototypeOf(v.k)).toBeNull()
    expect(Object.hasOwn(v.k, "__proto__")).toBe(true)
    expect(({} as any).p).toBeUndefined()
  })

  test("deep nesting still fails cleanly through the lazy path", () => {
    const e = expectCode(() => parseBillingHtml(`<script>_$HY.r["billing.get[\\"${WS}\\"]"]=${"[".repeat(100_000)}</script>`), "parse_failed")
    expect(e.message).toContain("nested deeper")
  })
})
