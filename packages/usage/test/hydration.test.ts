import { describe, expect, test } from "bun:test"
import { extractInlineScripts, parseHydrationHtml, parseHydrationScripts } from "../src/hydration/index.ts"
import { Deferred, PageError, UnknownValue } from "../src/hydration/values.ts"

const one = (script: string) => parseHydrationScripts([script])
const val = (script: string, key = "k") => {
  const q = one(script).queries.get(key)
  if (q?.status !== "fulfilled") throw new Error(`not fulfilled: ${JSON.stringify(q)}`)
  return q.value as any
}

describe("inline script extraction", () => {
  test("reads inline scripts, skips src/JSON scripts and comments", () => {
    const html = `<script src="a.js"></script><!-- <script>no</script> --><script type="application/json">{"a":1}</script><script data-x="a>b" nonce=z>one</script><ScRiPt>two</sCrIpT >`
    expect(extractInlineScripts(html).map((s) => s.text)).toEqual(["one", "two"])
  })
  test("an escaped </script> inside a string does not end the script", () => {
    const html = `<script>_$HY.r["k"]="a\\u003C/script>b\\x3C/script>"</script><p>after</p>`
    expect(parseHydrationHtml(html).queries.get("k")).toEqual({ status: "fulfilled", value: "a</script>b</script>" })
  })
  test("an unclosed script runs to the end of the document", () => {
    expect(extractInlineScripts("<script>abc").map((s) => s.text)).toEqual(["abc"])
  })
})

describe("values", () => {
  test("booleans, void 0, null, undefined", () => {
    expect(val(`_$HY.r["k"]=[!0,!1,void 0,null,undefined,true,false]`)).toEqual([true, false, undefined, null, undefined, true, false])
  })
  test("numbers: exponents, negatives, hex, NaN, Infinity", () => {
    const v = val(`_$HY.r["k"]=[1,-2.5,3e3,1.5E-2,-1e+2,0x1F,0o17,0b101,.5,NaN,Infinity,-Infinity,-0]`)
    expect(v.slice(0, 9)).toEqual([1, -2.5, 3000, 0.015, -100, 31, 15, 5, 0.5])
    expect(Number.isNaN(v[9])).toBe(true)
    expect(v[10]).toBe(Number.POSITIVE_INFINITY)
    expect(v[11]).toBe(Number.NEGATIVE_INFINITY)
    expect(Object.is(v[12], -0)).toBe(true)
  })
  test("BigInt", () => {
    expect(val(`_$HY.r["k"]=[12n,-9007199254740993n,0x10n]`)).toEqual([12n, -9007199254740993n, 16n])
  })
  test("string escapes", () => {
    expect(val(String.raw`_$HY.r["k"]="q\"b\\n\nt\tu\u00e9x\x41cp\u{1F600}z\0"`)).toBe('q"b\\n\nt\tuéxAcp😀z\0')
    expect(val(String.raw`_$HY.r["k"]='it\'s'`)).toBe("it's")
  })
  test("objects with bare, quoted and numeric keys; arrays incl. sparse", () => {
    const v = val(`_$HY.r["k"]={a:1,"b c":2,3:"x",1.5:"y",$d:[,1],e:[1,,2,],f:[,],g:[]}`)
    expect(Object.keys(v)).toEqual(["3", "a", "b c", "1.5", "$d", "e", "f", "g"])
    expect(v.$d.length).toBe(2)
    expect(0 in v.$d).toBe(false)
    expect(v.e.length).toBe(3)
    expect(1 in v.e).toBe(false)
    expect(v.f.length).toBe(1)
    expect(v.g).toEqual([])
  })
  test("Date, Map, Set, Promise.resolve, Error", () => {
    const v = val(`_$HY.r["k"]={d:new Date("2026-11-20T08:11:02.000Z"),m:new Map([["a",1],[2,"b"]]),s:new Set([1,"x"]),p:Promise.resolve(5),e:Object.assign(new TypeError("bad"),{code:"E1"})}`)
    expect(v.d.toISOString()).toBe("2026-11-20T08:11:02.000Z")
    expect([...v.m]).toEqual([["a", 1], [2, "b"]])
    expect([...v.s]).toEqual([1, "x"])
    expect(v.p).toBeInstanceOf(Deferred)
    expect(v.p.value).toBe(5)
    expect(v.e).toBeInstanceOf(PageError)
    expect(v.e.errorName).toBe("TypeError")
    expect(v.e.extra.code).toBe("E1")
  })
  test("unknown expressions become inert markers instead of failing the entry", () => {
    const v = val(`_$HY.r["k"]={u:new URL("https://x"),s:Symbol.for("y"),f:foo.bar(1,[2,3]),ok:1}`)
    expect(v.u).toBeInstanceOf(UnknownValue)
    expect(v.s).toBeInstanceOf(UnknownValue)
    expect(v.f).toBeInstanceOf(UnknownValue)
    expect(v.ok).toBe(1)
  })
})

describe("references and promises", () => {
  test("references are reused across scripts", () => {
    const h = parseHydrationScripts([`$R[5]={a:1};$R[6]=new Date(0)`, `_$HY.r["k"]={x:$R[5],y:$R[5],d:$R[6]}`])
    const v = (h.queries.get("k") as any).value
    expect(v.x).toBe(v.y)
    expect(v.x.a).toBe(1)
    expect(v.d.getTime()).toBe(0)
  })
  test("compact helpers: placeholder created, settled in a later script", () => {
    const h = parseHydrationScripts([
      `_$HY.r["k"]=$R[21]=$R[2]($R[22]={p:0,s:0,f:0});`,
      `window.x=1;`,
      `$R[16]($R[22],$R[25]={a:1});`,
    ])
    expect(h.queries.get("k")).toEqual({ status: "fulfilled", value: Object.assign(Object.create(null), { a: 1 }) })
  })
  test("long-hand helpers are recognised by what they do, whatever their slot", () => {
    const h = parseHydrationScripts([
      `_$HY.r["a"]=$R[40]=($R[7]=r=>(r.p=new Promise((s,f)=>{r.s=s,r.f=f})))($R[41]={p:0,s:0,f:0});_$HY.r["b"]=$R[42]=$R[7]($R[43]={p:0,s:0,f:0})`,
      `($R[9]=(r,d)=>{r.s(d),r.p.s=1,r.p.v=d})($R[41],"yes");($R[8]=(r,d)=>{r.f(d),r.p.s=2,r.p.v=d})($R[43],"no")`,
    ])
    expect(h.queries.get("a")).toEqual({ status: "fulfilled", value: "yes" })
    expect(h.queries.get("b")).toEqual({ status: "rejected", error: "no" })
  })
  test("compact reject with an Error value is a rejection", () => {
    const h = one(`_$HY.r["k"]=$R[1]=$R[2]($R[3]={p:0,s:0,f:0});$R[17]($R[3],new Error("boom"))`)
    const q = h.queries.get("k")
    expect(q?.status).toBe("rejected")
  })
  test("Promise.reject is a rejection", () => {
    expect(one(`_$HY.r["k"]=Promise.reject("x")`).queries.get("k")).toEqual({ status: "rejected", error: "x" })
  })
  test("never settled -> pending", () => {
    expect(one(`_$HY.r["k"]=$R[1]=$R[2]($R[3]={p:0,s:0,f:0})`).queries.get("k")).toEqual({ status: "pending" })
  })
  test("forward references are patched at the end", () => {
    const v = val(`_$HY.r["k"]={a:$R[9],b:[$R[9]]};\n$R[9]="later"`)
    expect(v.a).toBe("later")
    expect(v.b[0]).toBe("later")
  })
  test("member assignments and collection calls on references", () => {
    const v = val(`_$HY.r["k"]=$R[1]={m:$R[2]=new Map,s:$R[3]=new Set};$R[1].self=$R[1];$R[2].set("a",1);$R[3].add(2);$R[1]["q"]=3`)
    expect(v.self).toBe(v)
    expect(v.m.get("a")).toBe(1)
    expect(v.s.has(2)).toBe(true)
    expect(v.q).toBe(3)
  })
  test("scoped IIFE form", () => {
    const h = one(`(self.$R=self.$R||{})["server-fn:0"]=[];($R=>_$HY.r["k"]=$R[0]=$R[2]($R[1]={p:0,s:0,f:0}))($R["server-fn:0"]);($R=>{$R[16]($R[1],7);})($R["server-fn:0"])`)
    expect(h.queries.get("k")).toEqual({ status: "fulfilled", value: 7 })
  })
})

describe("skipping what is not hydration", () => {
  test("unknown statements with strings, comments and brackets are skipped", () => {
    const h = one(`var a = "x;y\\";z"; function f(){ return {b:';'} } // c;"\n/* d; ' */ _$HY.r["k"]=1; gtag('a;b'); _$HY.r["j"]=2`)
    expect(h.queries.get("k")).toEqual({ status: "fulfilled", value: 1 })
    expect(h.queries.get("j")).toEqual({ status: "fulfilled", value: 2 })
  })
  test("newline-separated statements after unknown code (ASI)", () => {
    const h = one(`analytics.track("view")\n_$HY.r["k"]=1\nfoo()\n$R[3]=2\n_$HY.r["j"]=$R[3]`)
    expect(h.queries.get("k")).toEqual({ status: "fulfilled", value: 1 })
    expect(h.queries.get("j")).toEqual({ status: "fulfilled", value: 2 })
  })
  test("a malformed hydration statement is recorded and does not hide the next one", () => {
    const h = one(`_$HY.r["bad"]={a:1 b:2};_$HY.r["good"]=3`)
    expect(h.failedKeys.has("bad")).toBe(true)
    expect(h.queries.get("good")).toEqual({ status: "fulfilled", value: 3 })
  })
  test("pages without hydration report hydrationFound=false", () => {
    expect(parseHydrationHtml("<script>console.log(1)</script>").hydrationFound).toBe(false)
  })
})
