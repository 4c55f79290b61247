import { describe, expect, test } from "bun:test"
import * as Json from "../src/util/json"

const cases: [string, string][] = [
  ['{"a":1,}', "line 1, column 8: expected a property name in double quotes"],
  ['{"a" 1}', "line 1, column 6: expected ':'"],
  ["[1,2", "line 1, column 5: expected ',' or ']', found end of file"],
  ["", "line 1, column 1: the file is empty"],
  ['{\n  "a": [1, {"b": tru}]\n}', "line 2, column 18: expected a value"],
  ['{"x": "a\nb"}', "control character inside a string"],
  ['{"a":1} x', "line 1, column 9: expected end of file"],
  ["{a:1}", "line 1, column 2: expected a property name in double quotes"],
]

test.each(cases)("locates the first error in %j", (text, expected) => {
  const result = Json.parse(text)
  expect(result.ok).toBe(false)
  if (!result.ok) expect(Json.describe(result)).toContain(expected)
})

test("valid JSON parses as JSON.parse does", () => {
  expect(Json.parse('{"a":[1,2,{"b":null}]}')).toEqual({ ok: true, value: { a: [1, 2, { b: null }] } })
})

test("hostile nesting is located without overflowing the stack", () => {
  // With the depth limit lifted, so the error locator itself walks all 200k levels.
  const result = Json.parse("[".repeat(200_000), { maxDepth: Infinity })
  expect(result).toMatchObject({ ok: false, line: 1, column: 200_001 })
  expect(Json.parse("[".repeat(200_000))).toMatchObject({ ok: false, line: 1, column: Json.MAX_DEPTH + 1 })
})

describe("JSONC, as OpenCode reads opencode.json", () => {
  test("comments and trailing commas load", () => {
    const text = '{\n  // the gateway\n  "url": "http://x//y", /* not a comment: "/*" */\n  "list": [1, 2,],\n  "s": "a /* b */ c",\n}\n'
    expect(Json.parse(text, { jsonc: true })).toEqual({ ok: true, value: { url: "http://x//y", list: [1, 2], s: "a /* b */ c" } })
  })

  test("a plain parse still refuses them", () => {
    expect(Json.parse('{"a":1,}').ok).toBe(false)
    expect(Json.parse('{"a":1} // c').ok).toBe(false)
  })

  test("errors keep the raw file's line and column past comments", () => {
    const result = Json.parse('{\n  /* one\n     two */ "a": 1,\n  // x\n  "b": tru\n}', { jsonc: true })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(Json.describe(result)).toBe('line 5, column 8: expected a value, found "t"')
  })

  test("an unterminated block comment is located", () => {
    const result = Json.parse('{"a": 1 /* open', { jsonc: true })
    expect(result).toMatchObject({ ok: false, line: 1, column: 9, problem: "unterminated /* comment" })
  })

  test("a comma with nothing before it is still an error", () => {
    expect(Json.parse("[1,,]", { jsonc: true }).ok).toBe(false)
    expect(Json.parse("{,}", { jsonc: true }).ok).toBe(false)
  })
})

describe("nesting depth", () => {
  test("a 100k-deep valid file is refused before parsing, at the bracket that goes too deep", () => {
    const deep = '{"a":\n' + "[".repeat(100_000) + "]".repeat(100_000) + "}"
    const result = Json.parse(deep)
    expect(result).toMatchObject({ ok: false, line: 2, column: Json.MAX_DEPTH })
    if (!result.ok) expect(result.problem).toContain(`nested deeper than ${Json.MAX_DEPTH} levels`)
  })

  test("brackets inside strings do not count", () => {
    expect(Json.parse(JSON.stringify({ a: "[".repeat(1000) }))).toEqual({ ok: true, value: { a: "[".repeat(1000) } })
  })

  test("nesting up to the limit parses", () => {
    const text = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH)
    expect(Json.parse(text).ok).toBe(true)
  })
})
