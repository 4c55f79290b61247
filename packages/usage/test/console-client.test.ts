/**
 * The console reader against a loopback server answering with the fixtures: what is sent (only the
 * sessions, x-org-id), how each error body maps to a code, and that no credential is ever echoed.
 */
import { describe, expect, test } from "bun:test"
import { readZenUsage } from "../src/console/read.ts"
import { runUsageCommand } from "../src/cli.ts"
import type { UsageErrorCode } from "../src/errors.ts"
import { SECRET_COOKIE_VALUE, expectCodeAsync, fakeIO, fixture, serverPerTest } from "./helpers.ts"

const server = serverPerTest()
const ORG = "org_01JQ7XK3M9TZ4B8N2C6D5E1F0G"
const CONSOLE_SESSION = "Fe26.2**CONSOLEsessionPLANTED0a9b8c7d6e5f4g3h2**x"
const SERVICE_KEY = "oc_sk_PLANTEDserviceACCOUNTkey5d4c3b2a1"
const JAR = `_ga=GA1.1.99; __Host-console_session=${CONSOLE_SESSION}; theme=dark; auth=${SECRET_COOKIE_VALUE}; ph_xyz=tracking`
const NOW = Date.parse("2026-11-21T12:00:00.000Z")

const body = (name: string) => fixture(`console/${name}.json`)

interface Seen {
  path: string
  cookie: string | null
  authorization: string | null
  orgID: string | null
}

/** A console answering every endpoint from fixtures; `override` replaces one path's answer. */
function consoleServer(override: Record<string, () => Response> = {}, legacy?: () => Response) {
  const seen: Seen[] = []
  const url = server((req, u) => {
    seen.push({ path: u.pathname + u.search, cookie: req.headers.get("cookie"), authorization: req.headers.get("authorization"), orgID: req.headers.get("x-org-id") })
    const o = override[u.pathname]
    if (o) return o()
    const ok = (name: string) => new Response(body(name), { headers: { "content-type": "application/json" } })
    switch (u.pathname) {
      case "/console/api/orgs":
        return new Response(`[{"id":"${ORG}","name":"Paw Work"}]`)
      case "/console/api/orgs/current":
        return ok("orgs-current")
      case "/console/api/billing/status":
        return ok("billing-credit-negative")
      case "/console/api/go/status":
        return ok("go-status")
      case "/console/api/usage/summary":
        return ok("usage-summary")
    }
    if (u.pathname.startsWith("/workspace")) return legacy ? legacy() : new Response(null, { status: 302, headers: { location: "/console/login" } })
    return new Response("{}", { status: 404 })
  })
  return { url, seen }
}

function assertNoSecrets(text: string) {
  for (const s of [CONSOLE_SESSION, SERVICE_KEY, SECRET_COOKIE_VALUE]) {
    expect(text).not.toContain(s)
    expect(text).not.toContain(s.slice(10, 28))
  }
}

describe("what the reader sends", () => {
  test("a pasted jar: only the console session to the console, only auth to the legacy page; x-org-id on org reads", async () => {
    const { url, seen } = consoleServer()
    const u = await readZenUsage({ baseURL: url, cookie: `Cookie: ${JAR}\n`, now: NOW })
    expect(u.org).toEqual({ id: ORG, name: "Paw Work", source: "/console/api/orgs" })
    expect(u.balance?.balanceMicroCents).toBe(-123_456_789n)
    for (const s of seen.filter((s) => s.path.startsWith("/console/"))) {
      expect(s.cookie).toBe(`__Host-console_session=${CONSOLE_SESSION}`)
      expect(s.authorization).toBeNull()
      expect(s.orgID).toBe(s.path === "/console/api/orgs" ? null : ORG)
    }
    // An org_ id names no legacy workspace: the old dashboard's last-used one could be another org's.
    expect(seen.map((s) => s.path).sort()).toEqual(["/console/api/billing/status", "/console/api/go/status", "/console/api/orgs", "/console/api/usage/summary?range=30d"])
    expect(u.legacy).toBeNull()
    expect(u.notes.join(" ")).toContain("--workspace wrk_")
  })

  test("with a wrk_ org, the legacy page gets the auth cookie alone; its redirect to the console is a note", async () => {
    const WRK = "wrk_01K6XGM22R6FM8JVABE9XDQXGH"
    const { url, seen } = consoleServer()
    const u = await readZenUsage({ baseURL: url, cookie: JAR, org: WRK, now: NOW })
    expect(seen.filter((s) => s.path.startsWith("/workspace"))).toEqual([{ path: `/workspace/${WRK}/billing`, cookie: `auth=${SECRET_COOKIE_VALUE}`, authorization: null, orgID: null }])
    expect(u.legacy).toBeNull()
    expect(u.notes.join(" ")).toContain("moved to the console")
  })

  test("a service-account key: Bearer, no cookie, org from orgs/current", async () => {
    const { url, seen } = consoleServer()
    const u = await readZenUsage({ baseURL: url, apiKey: SERVICE_KEY, now: NOW })
    expect(u.org).toEqual({ id: ORG, name: "Paw Work", source: "/console/api/orgs/current" })
    expect(seen[0]).toEqual({ path: "/console/api/orgs/current", cookie: null, authorization: `Bearer ${SERVICE_KEY}`, orgID: null })
    for (const s of seen) expect(s.cookie).toBeNull()
    expect(seen.some((s) => s.path.startsWith("/workspace"))).toBe(false)
  })

  test("--org skips discovery; several orgs without it is org_required listing them", async () => {
    const { url, seen } = consoleServer()
    await readZenUsage({ baseURL: url, cookie: JAR, org: "wrk_01K6XGM22R6FM8JVABE9XDQXGH", now: NOW })
    expect(seen.some((s) => s.path === "/console/api/orgs")).toBe(false)
    expect(seen.find((s) => s.path === "/console/api/billing/status")?.orgID).toBe("wrk_01K6XGM22R6FM8JVABE9XDQXGH")

    const many = consoleServer({ "/console/api/orgs": () => new Response(body("orgs")) })
    const e = await expectCodeAsync(readZenUsage({ baseURL: many.url, cookie: JAR }), "org_required")
    expect(e.message).toContain(ORG)
    expect(e.message).toContain("--org")
    const none = consoleServer({ "/console/api/orgs": () => new Response("[]") })
    await expectCodeAsync(readZenUsage({ baseURL: none.url, cookie: JAR }), "org_not_found")
  })

  test("a cookie file with one cookie per line (LF or CRLF) is read like one header", async () => {
    for (const sep of ["\n", "\r\n"]) {
      const { url, seen } = consoleServer()
      const file = ["_ga=GA1.1.99", `__Host-console_session=${CONSOLE_SESSION}`, `auth=${SECRET_COOKIE_VALUE}`, ""].join(sep)
      const u = await readZenUsage({ baseURL: url, cookie: file, org: "wrk_01K6XGM22R6FM8JVABE9XDQXGH", now: NOW })
      expect(u.balance?.balanceMicroCents).toBe(-123_456_789n)
      for (const s of seen) expect(s.cookie).toBe(s.path.startsWith("/workspace") ? `auth=${SECRET_COOKIE_VALUE}` : `__Host-console_session=${CONSOLE_SESSION}`)
      expect(seen.some((s) => s.path.startsWith("/workspace"))).toBe(true)
    }
    // Cookie names are not secrets: the advice naming the console's cookie survives the scrubbing.
    // (Values without English words, so only a cookie name can match the advice's words.)
    const { url } = consoleServer({ "/console/api/orgs": () => new Response(body("error-unauthorized"), { status: 401 }) })
    const io = fakeIO({ env: { JAR: `auth=Fe26.2**q7Zx4Kw9Vb2Nj5Hr8Tp3**z\n__Host-console_session=Fe26.2**m3Yc6Ud1Ga8Qe4Lf7Wk0**y\n` } })
    expect(await runUsageCommand(["zen", "--cookie-env", "JAR", "--base-url", url], io)).toBe(1)
    expect(io.err.join("")).toContain("error [session_expired]: the console session is missing or expired (an old `auth` cookie is refused too): sign in at opencode.ai, copy a fresh __Host-console_session cookie")
    assertNoSecrets(io.text())
  })

  test("a session cookie with a control or invisible character is refused before anything is sent, naming the problem", async () => {
    for (const bad of [
      `__Host-console_session=${CONSOLE_SESSION}\u001b[2J`,
      `__Host-console_session=Fe26.2**\u200bCONSOLE`,
      `__Host-console_session=${CONSOLE_SESSION}; auth=${SECRET_COOKIE_VALUE}\u0000`,
      // Curly quotes a document or chat put around a pasted value: past Latin-1, no header carries them.
      `__Host-console_session=\u201c${CONSOLE_SESSION}\u201d`,
    ]) {
      const { url, seen } = consoleServer()
      const e = await expectCodeAsync(readZenUsage({ baseURL: url, cookie: bad }), "bad_args")
      expect(e.message).toContain("control or invisible character")
      assertNoSecrets(e.message)
      expect(seen).toEqual([])
    }
  })

  test("a jar without any session is session_expired before anything is sent", async () => {
    const { url, seen } = consoleServer()
    await expectCodeAsync(readZenUsage({ baseURL: url, cookie: "theme=dark; _ga=1" }), "session_expired")
    expect(seen).toEqual([])
  })
})

describe("each console error has its code", () => {
  const cases: [number, string, UsageErrorCode][] = [
    [401, "error-unauthorized", "session_expired"],
    [400, "error-org-required", "org_required"],
    [403, "error-forbidden", "forbidden"],
    [403, "error-sso-required", "sso_required"],
    [404, "error-not-found", "org_not_found"],
    [400, "error-bad-request", "http_error"],
  ]
  for (const [status, name, code] of cases) {
    test(`${status} ${name} -> ${code}`, async () => {
      const { url } = consoleServer({ "/console/api/billing/status": () => new Response(body(name), { status }) })
      const e = await expectCodeAsync(readZenUsage({ baseURL: url, cookie: JAR }), code)
      assertNoSecrets(e.message)
    })
  }

  test("a 404 that names no org (the org list itself, or an untagged answer) is not org_not_found: --base-url is not the console", async () => {
    // What a wrong --base-url gets: the site's own 404 for /console/api/orgs.
    const list = consoleServer({ "/console/api/orgs": () => new Response("Not Found", { status: 404 }) })
    const a = await expectCodeAsync(readZenUsage({ baseURL: list.url, cookie: JAR }), "http_error")
    expect(a.message).toContain("--base-url")
    expect(a.status).toBe(404)
    const tagged = consoleServer({ "/console/api/orgs": () => new Response(body("error-not-found"), { status: 404 }) })
    expect((await expectCodeAsync(readZenUsage({ baseURL: tagged.url, cookie: JAR }), "http_error")).message).toContain("--base-url")
    // With an org sent, the console's own NotFound is still the org's.
    const org = consoleServer({ "/console/api/billing/status": () => new Response(body("error-not-found"), { status: 404 }) })
    await expectCodeAsync(readZenUsage({ baseURL: org.url, cookie: JAR }), "org_not_found")
  })

  test("a key's org read without x-org-id answered 400 BadRequest (the other reported form of OrgRequired) is org_required", async () => {
    const { url } = consoleServer({ "/console/api/orgs/current": () => new Response(body("error-bad-request"), { status: 400 }) })
    const e = await expectCodeAsync(readZenUsage({ baseURL: url, apiKey: SERVICE_KEY }), "org_required")
    expect(e.message).toContain("--org")
    assertNoSecrets(e.message)
  })

  test("a redirect to sign-in is session_expired, never followed", async () => {
    const { url, seen } = consoleServer({ "/console/api/orgs": () => new Response(null, { status: 302, headers: { location: "https://evil.example/console/login" } }) })
    await expectCodeAsync(readZenUsage({ baseURL: url, cookie: JAR }), "session_expired")
    expect(seen.length).toBe(1)
  })

  test("HTML where JSON was expected is parse_failed; a 500 is http_error; drift names the field", async () => {
    const html = consoleServer({ "/console/api/go/status": () => new Response("<html><body>Console</body></html>") })
    await expectCodeAsync(readZenUsage({ baseURL: html.url, cookie: JAR }), "parse_failed")
    const down = consoleServer({ "/console/api/usage/summary": () => new Response("upstream timeout", { status: 500 }) })
    expect((await expectCodeAsync(readZenUsage({ baseURL: down.url, cookie: JAR }), "http_error")).status).toBe(500)
    const drift = consoleServer({ "/console/api/billing/status": () => new Response(body("drift-billing-renamed")) })
    const e = await expectCodeAsync(readZenUsage({ baseURL: drift.url, cookie: JAR }), "parse_failed")
    expect(e.message).toContain('field "balanceMicroCents"')
    // What happened to the answer, and what to do: drift is reported, not retried.
    expect(e.message).toContain("The console API changed")
    expect(e.message).toContain("Reporting parser drift")
    const orgs = consoleServer({ "/console/api/orgs": () => new Response(body("drift-orgs-id-renamed")) })
    expect((await expectCodeAsync(readZenUsage({ baseURL: orgs.url, cookie: JAR }), "parse_failed")).message).toContain("Reporting parser drift")
  })

  test("hostile bodies: oversized, deeply nested, never finished: an error, never a crash or a hang", async () => {
    const huge = consoleServer({ "/console/api/billing/status": () => new Response(`{"pad":"${"x".repeat(3 * 1024 * 1024)}"}`) })
    expect((await expectCodeAsync(readZenUsage({ baseURL: huge.url, cookie: JAR }), "parse_failed")).message).toContain("KiB")
    const deep = consoleServer({ "/console/api/billing/status": () => new Response("[".repeat(500_000) + "]".repeat(500_000)) })
    await expectCodeAsync(readZenUsage({ baseURL: deep.url, cookie: JAR }), "parse_failed")
    // Headers, then a body that never ends: the configured deadline ends the read.
    const stalled = consoleServer({
      "/console/api/orgs": () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("[")) }), { headers: { "content-type": "application/json" } }),
    })
    expect((await expectCodeAsync(readZenUsage({ baseURL: stalled.url, cookie: JAR, timeoutMs: 200 }), "network")).message).toContain("timed out")
  })

  test("a refused connection is network", async () => {
    const { url } = consoleServer()
    const closed = url.replace(/:\d+$/, ":1")
    const e = await expectCodeAsync(readZenUsage({ baseURL: closed, cookie: JAR, timeoutMs: 2000 }), "network")
    // What happened, and what to do about it.
    expect(e.message).toContain(`request to ${closed}/console/api/orgs failed`)
    expect(e.message).toContain("check the network connection and the base URL")
  })

  test("a console that echoes the cookie and key in every error leaks nothing to any output", async () => {
    const echo = (req: Request) =>
      new Response(JSON.stringify({ _tag: "Weird", message: `cookie ${req.headers.get("cookie")} auth ${req.headers.get("authorization")}` }), { status: 418 })
    for (const argv of [
      ["zen", "--cookie-env", "JAR"],
      ["zen", "--cookie-env", "JAR", "--json"],
      ["zen", "--api-key-env", "KEY"],
      ["zen", "--api-key-env", "KEY", "--json"],
    ]) {
      let last: Request | undefined
      const url = server((req) => ((last = req), echo(req)))
      const io = fakeIO({ env: { JAR, KEY: SERVICE_KEY } })
      expect(await runUsageCommand([...argv, "--base-url", url], io)).toBe(1)
      expect(last).toBeDefined()
      expect(io.text()).toContain("http_error")
      assertNoSecrets(io.text())
    }
  })
})

describe("a console that echoes the credential in a successful answer", () => {
  test("an org name made of the session or the key is printed without it, in the table and in JSON", async () => {
    for (const argv of [["--cookie-env", "JAR"], ["--api-key-env", "KEY"]]) {
      for (const json of [[], ["--json"]]) {
        const { url } = consoleServer({
          "/console/api/orgs": () => new Response(JSON.stringify([{ id: ORG, name: `team ${CONSOLE_SESSION}` }])),
          "/console/api/orgs/current": () => new Response(JSON.stringify({ id: ORG, name: `key ${SERVICE_KEY}` })),
        })
        const io = fakeIO({ env: { JAR, KEY: SERVICE_KEY }, now: () => NOW })
        expect(await runUsageCommand(["zen", ...argv, "--base-url", url, ...json], io)).toBe(0)
        expect(io.out.join("")).toContain(ORG)
        assertNoSecrets(io.text())
      }
    }
  })
})

describe("the merged answer", () => {
  test("JSON: exact money as strings, percent, the month reset from the period end, sources", async () => {
    const { url } = consoleServer()
    const io = fakeIO({ env: { JAR }, now: () => NOW })
    expect(await runUsageCommand(["zen", "--cookie-env", "JAR", "--base-url", url, "--json"], io)).toBe(0)
    const out = JSON.parse(io.out.join(""))
    expect(Object.keys(out)).toEqual(["org", "balance", "go", "spend30d", "legacy", "notes"])
    expect(out.balance).toEqual({
      usd: "-1.23456789",
      microCents: "-123456789",
      billingMode: "credit",
      mode: "invoiceable",
      available: { usd: "498.76543211", microCents: "49876543211" },
      source: "/console/api/billing/status",
    })
    expect(out.go.fiveHour).toEqual({
      used: { usd: "4.20", microCents: "420000000" },
      limit: { usd: "12.00", microCents: "1200000000" },
      percent: 35,
      resetsAt: "2026-11-21T15:00:00.000Z",
      resetFrom: "meter",
    })
    expect(out.go.month).toMatchObject({ percent: 58.5, resetsAt: "2026-12-05T09:30:00.000Z", resetFrom: "period_end" })
    expect(out.spend30d).toMatchObject({ cost: { usd: "19.87654321", microCents: "1987654321" }, requests: 1234, source: "/console/api/usage/summary?range=30d" })
    expect(out.legacy).toBeNull()
    expect(io.err.join("")).toContain("EXPERIMENTAL")
    assertNoSecrets(io.text())
  })

  test("human: balance, meters with used, limit, percent and reset, 30-day spend, each with its source", async () => {
    const { url } = consoleServer()
    const io = fakeIO({ env: { JAR }, now: () => NOW })
    expect(await runUsageCommand(["zen", "--cookie-env", "JAR", "--base-url", url], io)).toBe(0)
    const text = io.out.join("")
    expect(text).toContain("org Paw Work (org_01JQ7XK3M9TZ4B8N2C6D5E1F0G)")
    expect(text).toContain("-$1.23  credit, invoiceable")
    expect(text).toContain("from /console/api/billing/status")
    expect(text).toMatch(/5 hours +\[#######-------------\]  35%  \$4\.20 of \$12\.00  resets .* \(in 3h 0m\)/)
    expect(text).toMatch(/Week +\[####################\] 100%  \$30\.00 of \$30\.00/)
    expect(text).toContain("end of the subscription period")
    expect(text).toContain("$19.88 in 1234 requests")
    assertNoSecrets(io.text())
  })

  test("no Go subscription is an answer, not an error", async () => {
    for (const name of ["go-status-null", "go-status-access-null"]) {
      const { url } = consoleServer({ "/console/api/go/status": () => new Response(body(name)) })
      const io = fakeIO({ env: { JAR }, now: () => NOW })
      expect(await runUsageCommand(["zen", "--cookie-env", "JAR", "--base-url", url, "--json"], io)).toBe(0)
      const out = JSON.parse(io.out.join(""))
      expect(out.go).toEqual({ subscribed: false, source: "/console/api/go/status" })
      expect(out.notes.join(" ")).toContain("No OpenCode Go subscription")
    }
  })
})
