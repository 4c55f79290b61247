import { expect, test } from "bun:test"
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
  const result = Json.parse("[".repeat(200_000))
  expect(result).toMatchObject({ ok: false, line: 1, column: 200_001 })
})
