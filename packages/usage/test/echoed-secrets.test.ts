import { describe, expect, test } from "bun:test"
import { runUsageCommand } from "../src/cli.ts"
import { cookieSecrets } from "../src/errors.ts"
import { fakeIO, serverPerTest } from "./helpers.ts"

// A dashboard or Go API that echoes part of the cookie or key back, in the shapes a server or a
// proxy produces: cut short, percent-encoded, with a zero-width character or line break inserted.
// No 8 characters of a cookie value or of the key may reach stdout or stderr, --json or not.

const server = serverPerTest()

function planted(prefix: string) {
  const letters = "bcdfghjkmnpqrstvwxzBCDFGHJKMNPQRSTVWXZ"
  const part = () => Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => letters[b % letters.length]).join("")
  return `${prefix}/${part()}+${part()}=${part()}`
}

function pieces(value: string) {
  return Array.from({ length: value.length - 7 }, (_, i) => value.slice(i, i + 8))
}

const shapes = (v: string) => [v.slice(0, 14), encodeURIComponent(v), `${v.slice(0, 9)}\u200b${v.slice(9)}`, `${v.slice(0, 10)}\n${v.slice(10)}`]

describe("usage zen", () => {
  for (const json of [false, true])
    test(`an echoed cookie value leaves no 8 characters${json ? " (--json)" : ""}`, async () => {
      const session = planted("Fe26.2")
      const cookie = `theme=darkmode1; auth=${session}`
      const url = server((req) => {
        const value = (req.headers.get("cookie") ?? "").split("auth=")[1] ?? ""
        return new Response(`<p>${shapes(value).join(" | ")}</p>`, { status: 500 })
      })
      const io = fakeIO({ env: { C: ` ${cookie}\n` } })
      const code = await runUsageCommand(["zen", "--cookie-env", "C", "--base-url", url, ...(json ? ["--json"] : [])], io)
      expect(code).toBe(1)
      const printed = io.text()
      expect(printed).toContain("500")
      for (const piece of pieces(session)) expect(printed).not.toContain(piece)
    })

  test("a cookie's names are not secrets, its values are", () => {
    expect(cookieSecrets(" Cookie: theme=dark; auth=abc=def==\n")).toEqual(["dark", "abc=def=="])
  })
})

describe("usage go", () => {
  test("an echoed key leaves no 8 characters", async () => {
    const key = planted("gokey")
    const url = server((req) => {
      const echoed = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "")
      return Response.json({ type: "error", error: { type: "AuthError", message: shapes(echoed).join(" | ") } }, { status: 401 })
    })
    const io = fakeIO({ env: { K: `${key}\r\n` } })
    expect(await runUsageCommand(["go", "--api-key-env", "K", "--base-url", `${url}/zen/go/v1`], io)).toBe(1)
    for (const piece of pieces(key)) expect(io.text()).not.toContain(piece)
  })
})

describe("a key no HTTP request can carry", () => {
  test("usage go refuses a key with a control or invisible character, naming the variable", async () => {
    for (const bad of ["\u001b[2J", "\u200b", "\r\nX-Injected: 1", "\u2026"]) {
      let requests = 0
      const url = server(() => {
        requests++
        return new Response("{}")
      })
      const key = planted("gokey")
      const io = fakeIO({ env: { K: `${key.slice(0, 10)}${bad}${key.slice(10)}` } })
      expect(await runUsageCommand(["go", "--api-key-env", "K", "--base-url", `${url}/zen/go/v1`], io)).toBe(2)
      expect(io.text()).toContain("the Go API key in K contains a control or invisible character")
      expect(requests).toBe(0)
      for (const piece of pieces(key)) expect(io.text()).not.toContain(piece)
    }
  })

  test("usage zen refuses a service-account key with one too", async () => {
    let requests = 0
    const url = server(() => {
      requests++
      return new Response("{}")
    })
    const key = planted("console")
    const io = fakeIO({ env: { K: `${key}\u0007` } })
    expect(await runUsageCommand(["zen", "--api-key-env", "K", "--base-url", url], io)).toBe(2)
    expect(io.text()).toContain("the API key in K contains a control or invisible character")
    expect(requests).toBe(0)
  })
})
