import { describe, expect, test } from "bun:test"
import { FRAGMENT, REDACTED, SecretSet, normalise } from "../src"

// Random, with the characters that change under percent- and JSON-encoding (`/`, `+`, `=`, `:`).
function secret(prefix: string) {
  const letters = "bcdfghjkmnpqrstvwxzBCDFGHJKMNPQRSTVWXZ"
  const part = () => Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => letters[b % letters.length]).join("")
  return `${prefix}/PLANTED+${part()}=${part()}:${part()}`
}

/** Every FRAGMENT-character piece of `value` found in `text`. */
function fragmentsIn(text: string, value: string) {
  const found: string[] = []
  for (let i = 0; i + FRAGMENT <= value.length; i++) if (text.includes(value.slice(i, i + FRAGMENT))) found.push(value.slice(i, i + FRAGMENT))
  return found
}

const key = secret("key")
const set = SecretSet.of([key])

const unicodeEscaped = (s: string) => [...s].map((c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")).join("")
const percentAll = (s: string) => [...s].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()).join("")

describe("every shape an echo can take", () => {
  const shapes: [string, string][] = [
    ["as is", key],
    ["percent-encoded", encodeURIComponent(key)],
    ["every character percent-encoded", percentAll(key)],
    ["percent-encoded twice", encodeURIComponent(encodeURIComponent(key))],
    ["JSON-escaped slashes", key.replaceAll("/", "\\/")],
    ["\\u-escaped", unicodeEscaped(key)],
    ["HTML entities", [...key].map((c) => `&#${c.charCodeAt(0)};`).join("")],
    ["HTML5 named references for its punctuation", key.replaceAll("/", "&sol;").replaceAll("+", "&plus;").replaceAll("=", "&equals;").replaceAll(":", "&colon;")],
    ["a zero-width space inserted", `${key.slice(0, 9)}\u200b${key.slice(9)}`],
    ["a soft hyphen and a bidi override inserted", `${key.slice(0, 5)}\u00ad${key.slice(5, 14)}\u202e${key.slice(14)}`],
    ["a line break inserted", `${key.slice(0, 11)}\r\n${key.slice(11)}`],
    ["an escaped line break inserted", `${key.slice(0, 11)}\\n${key.slice(11)}`],
    ["a tag character inserted", `${key.slice(0, 11)}\u{e0041}${key.slice(11)}`],
    ["only its first 12 characters", key.slice(0, 12)],
    ["only its last 9 characters", key.slice(-9)],
    ["a middle piece of 8", key.slice(10, 18)],
  ]
  for (const [name, shape] of shapes)
    test(name, () => {
      // "~" is in no secret: a letter next to a cut-off shape could extend it, case-folded, by one.
      const out = set.remove(`before ~ ${shape} ~ after`)
      expect(out).toBe(`before ~ ${REDACTED} ~ after`)
      expect(fragmentsIn(out, key)).toEqual([])
    })

  test("a secret given with surrounding whitespace matches its trimmed echo, and the other way round", () => {
    expect(SecretSet.of([` ${key}\r\n`]).remove(`got ${key}.`)).toBe(`got ${REDACTED}.`)
    expect(SecretSet.of([key]).remove(`got \t${key}\n.`)).toBe(`got \t${REDACTED}\n.`)
  })

  test("a secret that is itself percent-encoded matches its decoded echo", () => {
    const cookie = `Fe26.2**${encodeURIComponent(key)}`
    expect(SecretSet.of([cookie]).remove(`value Fe26.2**${key} seen`)).toBe(`value ${REDACTED} seen`)
  })

  test("two halves in two fields are each removed", () => {
    const half = key.length >> 1
    expect(set.remove(key.slice(0, half))).toBe(REDACTED)
    expect(set.remove(key.slice(half))).toBe(REDACTED)
  })
})

describe("what is left alone", () => {
  test("text without the secret is returned as it was", () => {
    const text = 'Rate limit exceeded. Please try again later. {"type":"error"} %zz \\q &unknown;'
    expect(set.remove(text)).toBe(text)
  })

  test("fewer than 8 characters of a long secret are not a trace", () => {
    expect(set.remove(`x ${key.slice(0, FRAGMENT - 1)} y`)).toBe(`x ${key.slice(0, FRAGMENT - 1)} y`)
  })

  test("a short secret is removed only whole, a very short one and `public` not at all", () => {
    const short = SecretSet.of(["abc123x", "v1", "public", " public\n"])
    expect(short.remove("abc123x abc123 v1 public")).toBe(`${REDACTED} abc123 v1 public`)
    expect(SecretSet.of(["public", "v1", "", undefined, null]).empty).toBe(true)
  })

  test("the characters around a match stay", () => {
    expect(set.remove(`"${key}"`)).toBe(`"${REDACTED}"`)
    expect(set.remove(`a${key}b${key}c`)).toBe(`a${REDACTED}b${REDACTED}c`)
  })
})

describe("many secrets, long text", () => {
  test("200 secrets over 64 KiB: each planted copy removed, the filler intact", () => {
    const secrets = Array.from({ length: 200 }, (_, i) => secret(`s${i}`))
    const many = SecretSet.of(secrets)
    const filler = "lorem ipsum ".repeat(50)
    const text = secrets.map((s, i) => filler + (i % 2 ? encodeURIComponent(s) : unicodeEscaped(s))).join("")
    expect(text.length).toBeGreaterThan(64 * 1024)
    const out = many.remove(text)
    for (const s of secrets) expect(fragmentsIn(out, s)).toEqual([])
    expect(out.split(REDACTED).length - 1).toBe(200)
    expect(out.replaceAll(REDACTED, "")).toBe(filler.repeat(200))
  })

  test("hostile escapes (unterminated, invalid UTF-8, nested past the limit) never throw", () => {
    for (const text of ["\\u12", "%", "%E2%82", "%C0%80", "&#99999999;", "&#x110000;", "\\", "%25".repeat(5000) + "41", "\ud800"])
      expect(typeof set.remove(text)).toBe("string")
  })

  test("the map points each normalised character back to its source", () => {
    const form = normalise("a%41\\u0042 c&amp;")
    expect(form.text).toBe("aABc&")
    expect(Array.from(form.start)).toEqual([0, 1, 4, 11, 12])
    expect(Array.from(form.end)).toEqual([1, 4, 10, 12, 17])
  })
})

describe("stream: a secret split over the pieces of a streamed answer", () => {
  const run = (text: string, cuts: number[]) => {
    const stream = set.stream()
    let out = ""
    let at = 0
    for (const cut of [...cuts, text.length]) {
      out += stream.push(text.slice(at, cut))
      at = cut
    }
    return out + stream.end()
  }

  for (const [name, shape] of [
    ["as is", key],
    ["percent-encoded", encodeURIComponent(key)],
    ["\\u-escaped", unicodeEscaped(key)],
    ["a zero-width space inserted", `${key.slice(0, 9)}\u200b${key.slice(9)}`],
  ] as const)
    test(`${name}, one character at a time and in random pieces`, () => {
      const text = `before ${shape} after`
      const single = run(text, Array.from({ length: text.length }, (_, i) => i))
      const random = run(text, [...new Set(Array.from({ length: 6 }, () => Math.floor(Math.random() * text.length)))].sort((a, b) => a - b))
      for (const out of [single, random]) {
        expect(fragmentsIn(out, key)).toEqual([])
        expect(out.startsWith("before ")).toBe(true)
        expect(out.endsWith(" after")).toBe(true)
      }
    })

  test("ordinary text comes through as it arrives, but for its last 7 visible characters", () => {
    const stream = set.stream()
    expect(stream.push("Hello, this is an ordinary answer")).toBe("Hello, this is an ordinar")
    expect(stream.push(".")).toBe("y ")
    expect(stream.end()).toBe("answer.")
  })

  test("a long run of whitespace is let go, not held without bound", () => {
    const stream = set.stream()
    let out = stream.push("abc")
    for (let i = 0; i < 40; i++) out += stream.push(" ".repeat(1024))
    expect(out.length).toBeGreaterThan(16 * 1024)
  })
})
