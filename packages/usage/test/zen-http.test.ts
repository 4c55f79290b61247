import { describe, expect, test } from "bun:test"
import { fetchZenBilling } from "../src/zen.ts"
import { SECRET_COOKIE, SECRET_COOKIE_VALUE, WS, WS_BLACK, expectCodeAsync, fixture, serve, serverPerTest } from "./helpers.ts"

const server = serverPerTest()

const signedIn = (req: Request) => (req.headers.get("cookie") ?? "").includes(SECRET_COOKIE_VALUE)

function dashboard(billingHTML: string, ws = WS) {
  const seen: { path: string; cookie: string | null; redirect: string }[] = []
  const url = server((req, u) => {
    seen.push({ path: u.pathname, cookie: req.headers.get("cookie"), redirect: req.redirect })
    if (!signedIn(req)) return new Response(null, { status: 302, headers: { location: "/auth/authorize?continue=%2Fworkspace" } })
    if (u.pathname === "/workspace") return new Response(null, { status: 302, headers: { location: `/workspace/${ws}` } })
    if (u.pathname === `/workspace/${ws}/billing`) return new Response(billingHTML, { headers: { "content-type": "text/html" } })
    return new Response("nope", { status: 404 })
  })
  return { url, seen }
}

describe("fetchZenBilling over HTTP", () => {
  test("discovers the workspace from the /workspace redirect, then reads billing", async () => {
    const { url, seen } = dashboard(fixture("compact.html"))
    const b = await fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE })
    expect(b.workspaceID).toBe(WS)
    expect(b.balanceUSD).toBe(22)
    expect(seen.map((s) => s.path)).toEqual(["/workspace", `/workspace/${WS}/billing`])
    expect(seen.every((s) => s.cookie === SECRET_COOKIE)).toBe(true)
  })

  test("accepts a `Cookie:` prefix and surrounding whitespace", async () => {
    const { url } = dashboard(fixture("longhand-black.html"), WS_BLACK)
    const b = await fetchZenBilling({ baseURL: `${url}/`, cookie: `  Cookie: ${SECRET_COOKIE}\n`, workspaceID: WS_BLACK })
    expect(b.black?.plan).toBe("200")
  })

  test("falls back to / when /workspace is 404, and reads the id from a 200 page", async () => {
    const url = server((req, u) => {
      if (u.pathname === "/workspace") return new Response("", { status: 404 })
      if (u.pathname === "/") return new Response(`<a href="/workspace/${WS}">open</a>`)
      if (u.pathname === `/workspace/${WS}/billing`) return new Response(fixture("compact.html"))
      return new Response("", { status: 500 })
    })
    expect((await fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE })).workspaceID).toBe(WS)
  })

  test("redirect to /auth/authorize -> cookie_expired (discovery and billing)", async () => {
    const { url } = dashboard(fixture("compact.html"))
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: "auth=stale-cookie-value" }), "cookie_expired")
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: "auth=stale-cookie-value", workspaceID: WS }), "cookie_expired")
  })

  test("401 and 403 -> cookie_expired", async () => {
    for (const status of [401, 403]) {
      const url = server(() => new Response("denied", { status }))
      await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "cookie_expired")
      await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE }), "cookie_expired")
    }
  })

  test("sign-in page served with 200 -> cookie_expired", async () => {
    const url = server(() => new Response(fixture("login.html")))
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "cookie_expired")
  })

  test("empty or malformed cookie -> cookie_expired without a request", async () => {
    await expectCodeAsync(fetchZenBilling({ baseURL: "http://127.0.0.1:9", cookie: "  " }), "cookie_expired")
    await expectCodeAsync(fetchZenBilling({ baseURL: "http://127.0.0.1:9", cookie: "auth=a\r\nX-Evil: 1" }), "cookie_expired")
  })

  test("404 -> workspace_not_found; malformed id rejected before any request", async () => {
    const url = server(() => new Response("<h1>Not found</h1>", { status: 404 }))
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "workspace_not_found")
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: "wrk_../../admin" }), "workspace_not_found")
  })

  test("page without billing -> not_admin", async () => {
    const url = server(() => new Response(fixture("not-admin.html")))
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "not_admin")
  })

  test("page without hydration -> parse_failed", async () => {
    const url = server(() => new Response(fixture("no-hydration.html")))
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "parse_failed")
  })

  test("500 -> http_error with a short, scrubbed excerpt even if the server echoes the cookie", async () => {
    const url = server((req) => new Response(`<h1>Oops</h1><pre>cookie was ${req.headers.get("cookie")} ${"x ".repeat(500)}</pre>`, { status: 500 }))
    const e = await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "http_error")
    expect(e.status).toBe(500)
    expect(e.message).toContain("500")
    expect(e.message).toContain("Oops")
    expect(e.message).not.toContain(SECRET_COOKIE_VALUE)
    expect(e.message.length).toBeLessThan(400)
  })

  test("off-site redirect during discovery is not followed", async () => {
    let hits = 0
    const other = server(() => {
      hits++
      return new Response("")
    })
    const url = server(() => new Response(null, { status: 302, headers: { location: `${other.replace("127.0.0.1", "localhost")}/somewhere` } }))
    await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE }), "http_error")
    expect(hits).toBe(0)
  })

  test("connection refused -> network", async () => {
    const s = serve(() => new Response(""))
    const url = s.url
    s.stop()
    const e = await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "network")
    expect(e.message).not.toContain(SECRET_COOKIE_VALUE)
  })

  test("an injected fetch that throws -> network", async () => {
    const failing = async () => {
      throw new TypeError(`socket hang up ${SECRET_COOKIE}`)
    }
    const e = await expectCodeAsync(fetchZenBilling({ cookie: SECRET_COOKIE, workspaceID: WS, fetch: failing }), "network")
    expect(e.message).not.toContain(SECRET_COOKIE_VALUE)
  })
})
