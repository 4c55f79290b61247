import { describe, expect, test } from "bun:test"
import { runUsageCommand } from "../src/cli.ts"
import { SECRET_COOKIE, SECRET_COOKIE_VALUE, SECRET_KEY, WS, WS_BLACK, WS_GO, fakeIO, fixture, serverPerTest } from "./helpers.ts"

const NOW = Date.parse("2026-11-21T12:00:00.000Z")
const server = serverPerTest()

const ZEN_KEYS = ["workspaceID", "balanceUSD", "monthlyUsageUSD", "monthlyLimitUSD", "reload", "subscription"]

/** Every byte the command wrote, checked for the planted secrets. */
function assertNoSecrets(text: string) {
  expect(text).not.toContain(SECRET_COOKIE_VALUE)
  expect(text).not.toContain(SECRET_COOKIE_VALUE.slice(8, 30))
  expect(text).not.toContain(SECRET_KEY)
  expect(text).not.toContain(SECRET_KEY.slice(3))
}

function goServer(status = 200, body?: unknown) {
  return server((req) => {
    if (req.headers.get("authorization") !== `Bearer ${SECRET_KEY}`) {
      return Response.json({ type: "error", error: { type: "AuthError", message: `Unauthorized ${req.headers.get("authorization")}` } }, { status: 401 })
    }
    return Response.json(
      body ?? {
        workspaceID: WS_GO,
        usage: {
          rolling: { status: "ok", percent: 58, resetInSec: 11_520 },
          weekly: { status: "ok", percent: 10, resetsAt: "2026-11-24T00:00:00.000Z" },
          monthly: { status: "rate-limited", percent: 100, resetsAt: "2026-12-01T00:00:00.000Z" },
        },
      },
      { status },
    )
  })
}

describe("usage zen", () => {
  test("--html-file --json prints exactly the documented shape", async () => {
    const io = fakeIO({ files: { "page.html": fixture("longhand-black.html") }, now: () => NOW })
    expect(await runUsageCommand(["zen", "--html-file", "page.html", "--json"], io)).toBe(0)
    const out = JSON.parse(io.out.join(""))
    expect(Object.keys(out)).toEqual([...ZEN_KEYS, "black"])
    expect(Object.keys(out.reload)).toEqual(["enabled", "amountUSD", "triggerUSD", "error"])
    expect(Object.keys(out.black)).toEqual(["plan", "rolling", "weekly"])
    expect(out.black.rolling).toEqual({ percent: 41, status: "ok", resetInSec: 8123, resetsAt: new Date(NOW + 8_123_000).toISOString() })
    expect(io.err.join("")).toContain("EXPERIMENTAL")
  })

  test("human output: table, progress bar, relative reset, EXPERIMENTAL label", async () => {
    const io = fakeIO({ files: { "page.html": fixture("longhand-black.html") }, now: () => NOW })
    expect(await runUsageCommand(["zen", "--html-file=page.html", "--workspace", WS_BLACK], io)).toBe(0)
    const text = io.out.join("")
    expect(text).toContain("EXPERIMENTAL")
    expect(text).toContain("-$1.50")
    expect(text).toContain("[########------------]  41%")
    expect(text).toContain("(in 2h 15m)")
    expect(text).toContain("(in 2d 7h)")
    expect(text).toContain("black-200")
  })

  test("--cookie-file with a `Cookie:` prefix, live fetch, secret never printed", async () => {
    let cookie = null as string | null
    const url = server((req, u) => {
      cookie = req.headers.get("cookie")
      if (u.pathname === "/workspace") return new Response(null, { status: 302, headers: { location: `/workspace/${WS}` } })
      return new Response(fixture("compact.html"))
    })
    const io = fakeIO({ files: { "/home/me/.cookie": `Cookie: ${SECRET_COOKIE}\n\n` } })
    expect(await runUsageCommand(["zen", "--cookie-file", "/home/me/.cookie", "--base-url", url, "--json"], io)).toBe(0)
    // Only the old dashboard's session reaches its page; the rest of the pasted jar stays here.
    expect(cookie).toBe(`auth=${SECRET_COOKIE_VALUE}`)
    expect(JSON.parse(io.out.join("")).legacy.balanceUSD).toBe(22)
    assertNoSecrets(io.text())
  })

  test("--cookie-env reads the variable; errors go to JSON with a code", async () => {
    const url = server(() => new Response(null, { status: 302, headers: { location: "/auth/authorize" } }))
    const io = fakeIO({ env: { OC_COOKIE: SECRET_COOKIE } })
    expect(await runUsageCommand(["zen", "--cookie-env", "OC_COOKIE", "--base-url", url, "--json"], io)).toBe(1)
    const out = JSON.parse(io.out.join(""))
    expect(Object.keys(out)).toEqual(["error"])
    expect(Object.keys(out.error)).toEqual(["code", "message"])
    expect(out.error.code).toBe("cookie_expired")
    assertNoSecrets(io.text())
  })

  test("errors in human mode go to stderr with the code", async () => {
    const io = fakeIO({ files: { "p.html": fixture("not-admin.html") } })
    expect(await runUsageCommand(["zen", "--html-file", "p.html"], io)).toBe(1)
    expect(io.err.join("")).toContain("error [not_admin]")
    expect(io.out).toEqual([])
  })

  test("server echoing the cookie in an error page: nothing leaks (human and JSON)", async () => {
    const url = server((req) => new Response(`debug: ${req.headers.get("cookie")} / ${decodeURIComponent(req.headers.get("cookie") ?? "")}`, { status: 500 }))
    for (const json of [true, false]) {
      const io = fakeIO({ env: { C: SECRET_COOKIE } })
      const args = ["zen", "--cookie-env", "C", "--base-url", url, "--workspace", WS]
      expect(await runUsageCommand(json ? [...args, "--json"] : args, io)).toBe(1)
      expect(io.text()).toContain("http_error")
      assertNoSecrets(io.text())
    }
  })

  test("bad flags -> exit 2 naming the flag", async () => {
    const cases: [string[], string][] = [
      [["zen", "--cookies", "x"], "--cookies"],
      [["zen"], "--cookie-file"],
      [["zen", "--cookie-file"], "--cookie-file needs a value"],
      [["zen", "--cookie-file", "a", "--html-file", "b"], "cannot be combined"],
      [["zen", "--html-file", "x", "--workspace", "wrk_short"], "--workspace"],
      [["zen", "--cookie-env", "NOPE"], "NOPE"],
      [["zen", "--cookie-file", "missing.txt"], "cannot read"],
      [["zen", "--cookie-env", "C", "--base-url", "http://evil.example"], "https"],
      [["zen", "--json=1", "--html-file", "x"], "--json takes no value"],
      [["zen", "stray"], "unexpected argument"],
      [["go", "--cookie-file", "x"], "--cookie-file"],
      [["go"], "no Go API key"],
      [["bill"], "unknown usage command"],
    ]
    for (const [argv, expected] of cases) {
      const io = fakeIO({ env: { C: SECRET_COOKIE } })
      expect(await runUsageCommand(argv, io)).toBe(2)
      expect(io.err.join("")).toContain(expected)
    }
  })

  test("bad flags with --json -> JSON error bad_args, exit 2", async () => {
    const io = fakeIO()
    expect(await runUsageCommand(["zen", "--json", "--nope"], io)).toBe(2)
    expect(JSON.parse(io.out.join("")).error.code).toBe("bad_args")
  })

  test("--help for each level", async () => {
    for (const argv of [["--help"], ["zen", "--help"], ["go", "-h"]]) {
      const io = fakeIO()
      expect(await runUsageCommand(argv, io)).toBe(0)
      expect(io.out.join("")).toContain("EXPERIMENTAL")
    }
    const none = fakeIO()
    expect(await runUsageCommand([], none)).toBe(2)
  })

  test("help is printed as written: the cookie it names is not taken for a credential and redacted", async () => {
    const io = fakeIO()
    expect(await runUsageCommand(["zen", "--help"], io)).toBe(0)
    expect(io.out.join("")).toContain("__Host-console_session=<value>")
    expect(io.out.join("")).not.toContain("[redacted]")
  })
})

describe("usage go", () => {
  test("--api-key-env, JSON shape", async () => {
    const url = goServer()
    const io = fakeIO({ env: { GO_KEY: SECRET_KEY }, now: () => NOW })
    expect(await runUsageCommand(["go", "--api-key-env", "GO_KEY", "--base-url", url, "--json"], io)).toBe(0)
    const out = JSON.parse(io.out.join(""))
    expect(Object.keys(out)).toEqual(["workspaceID", "rolling", "weekly", "monthly"])
    expect(out.rolling).toEqual({ percent: 58, status: "ok", resetsAt: new Date(NOW + 11_520_000).toISOString() })
    assertNoSecrets(io.text())
  })

  test("saved key via io.savedGoKey, human output", async () => {
    const url = goServer()
    const io = fakeIO({ savedGoKey: async () => SECRET_KEY, now: () => NOW })
    expect(await runUsageCommand(["go", "--base-url", url], io)).toBe(0)
    const text = io.out.join("")
    expect(text).toContain("EXPERIMENTAL")
    expect(text).toContain("[############--------]  58%")
    expect(text).toContain("(in 3h 12m)")
    assertNoSecrets(io.text())
  })

  test("rejected key -> auth, echoed key scrubbed", async () => {
    const url = goServer()
    const io = fakeIO({ env: { K: `${SECRET_KEY}-wrong` } })
    expect(await runUsageCommand(["go", "--api-key-env", "K", "--base-url", url, "--json"], io)).toBe(1)
    expect(JSON.parse(io.out.join("")).error.code).toBe("auth")
    assertNoSecrets(io.text())
  })

  test("403 EntitlementError -> not_subscribed", async () => {
    const url = goServer(403, { type: "error", error: { type: "EntitlementError", message: "No subscription" } })
    const io = fakeIO({ env: { K: SECRET_KEY } })
    expect(await runUsageCommand(["go", "--api-key-env", "K", "--base-url", url], io)).toBe(1)
    expect(io.err.join("")).toContain("not_subscribed")
  })
})
