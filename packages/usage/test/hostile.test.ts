import { afterAll, describe, expect, test } from "bun:test"
import { parseHydrationHtml } from "../src/hydration/index.ts"
import { parseBillingHtml } from "../src/zen.ts"
import { WS, expectCode, fixture } from "./helpers.ts"

const protoNames = Object.getOwnPropertyNames(Object.prototype).sort()
const arrayProtoNames = Object.getOwnPropertyNames(Array.prototype).sort()

function assertPrototypesClean() {
  expect(({} as any).polluted).toBeUndefined()
  expect(([] as any).polluted).toBeUndefined()
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames)
  expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayProtoNames)
}

afterAll(assertPrototypesClean)

const key = `_$HY.r["billing.get[\\"${WS}\\"]"]`

describe("hostile input", () => {
  test("unterminated strings fail the statement, not the parse", () => {
    const h = parseHydrationHtml(`<script>_$HY.r["a"]="never closed\n_$HY.r["b"]=1;'also open</script>`)
    expect(h.failedKeys.has("a")).toBe(true)
    expect(h.queries.get("b")).toEqual({ status: "fulfilled", value: 1 })
    expectCode(() => parseBillingHtml(`<script>${key}={balance:"open</script>`), "parse_failed")
  })

  test("100k nested brackets in a hydration value -> parse_failed, no stack overflow", () => {
    const deep = "[".repeat(100_000)
    const e = expectCode(() => parseBillingHtml(`<script>${key}=${deep}</script>`), "parse_failed")
    expect(e.message).toContain("nested deeper")
    expectCode(() => parseBillingHtml(`<script>${key}=${"{a:".repeat(100_000)}1</script>`), "parse_failed")
    expectCode(() => parseBillingHtml(`<script>${key}=${"(".repeat(100_000)}1</script>`), "parse_failed")
    expectCode(() => parseBillingHtml(`<script>${key}=${"!".repeat(100_000)}0</script>`), "parse_failed")
  })

  test("deep nesting in unrelated scripts is skipped without recursion", () => {
    const html = `<script>var x=${"[".repeat(100_000)}</script><script>${key}=Promise.resolve({balance:100000000})</script>`
    expect(parseBillingHtml(html).balanceUSD).toBe(1)
  })

  test("__proto__ / constructor / prototype keys never reach a prototype", () => {
    const b = parseBillingHtml(fixture("proto-keys.html"))
    expect(b.balanceUSD).toBe(7)
    const h = parseHydrationHtml(fixture("proto-keys.html"))
    const v = (h.queries.get(`billing.get["${WS}"]`) as any).value
    expect(Object.getPrototypeOf(v)).toBeNull()
    expect(Object.hasOwn(v, "__proto__")).toBe(true)
    expect(v.__proto__.polluted).toBe("yes") // stored as plain data
    expect(Object.getPrototypeOf(v.arr)).toBe(Array.prototype)
    expect(h.queries.get("__proto__")?.status).toBe("fulfilled")
    assertPrototypesClean()
  })

  test("20 MB of noise -> parse_failed, prototypes untouched", () => {
    const chunk = `<div class="x">noise ${"<".repeat(3)} </script> <script>var q="${"a".repeat(50)}";({__proto__:{polluted:1}})[</script>"unterminated '{[(\n`
    const noise = chunk.repeat(Math.ceil(20_000_000 / chunk.length))
    expect(noise.length).toBeGreaterThan(19_000_000)
    expectCode(() => parseBillingHtml(noise), "parse_failed")
    assertPrototypesClean()
  })

  test("20 MB of random bytes inside one script -> parse_failed", () => {
    let seed = 42
    const alphabet = `$R[]{}()"'\\\`/*;,=!0123456789abc_HY.\n<>`
    const parts: string[] = []
    for (let i = 0; i < 20_000_000; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      parts.push(alphabet[seed % alphabet.length] ?? "x")
    }
    const html = `<script>${parts.join("")}</script>`
    let code: string | undefined
    try {
      parseBillingHtml(html)
    } catch (e: any) {
      code = e.code
    }
    // Random text may happen to contain entries, but never valid billing.
    expect(["parse_failed", "not_admin"]).toContain(code ?? "none")
    assertPrototypesClean()
  })

  test("long digit runs and unclosed <form tags do not trigger regex backtracking", () => {
    // Quadratic validation would take minutes here; the test timeout is the guard.
    for (const tail of ["x", "e", ".5.5", "n"]) {
      expectCode(() => parseBillingHtml(`<script>${key}=${"1".repeat(1_000_000)}${tail}</script>`), "parse_failed")
    }
    expectCode(() => parseBillingHtml(`<script>$R[1]=1</script>${"<form ".repeat(400_000)}`), "not_admin")
    expectCode(() => parseBillingHtml(`<script>$R[1]=1</script>${'<meta http-equiv="refresh" '.repeat(100_000)}`), "not_admin")
  })

  test("many repeated settle calls and huge sparse arrays stay bounded", () => {
    const html = `<script>${key}=$R[1]=$R[2]($R[3]={p:0,s:0,f:0});${"$R[16]($R[3],{balance:1});".repeat(10_000)}$R[9]=[${",".repeat(1_000_000)}]</script>`
    expect(parseBillingHtml(html).balanceUSD).toBe(1e-8)
  })
})
