import { describe, expect, test } from "bun:test"
import { fetchGoUsage, parseGoUsage } from "../src/go.ts"
import { SECRET_KEY, WS_GO, expectCode, expectCodeAsync, serve, serverPerTest } from "./helpers.ts"

const NOW = Date.parse("2026-11-21T12:00:00.000Z")
const server = serverPerTest()

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })
const errorBody = (type: string, message: string) => ({ type: "error", error: { type, message } })

describe("fetchGoUsage", () => {
  test("reads windows with resetsAt, sending the bearer key to <base>/usage", async () => {
    let auth = null as string | null
    let path = ""
    const url = server((req, u) => {
      auth = req.headers.get("authorization")
      path = u.pathname
      return json(200, {
        workspaceID: WS_GO,
        userID: "usr_1",
        usage: {
          rolling: { status: "ok", percent: 58, resetsAt: "2026-11-21T15:12:00.000Z" },
          weekly: { status: "ok", percent: 20, resetsAt: "2026-11-24T00:00:00.000Z" },
          monthly: { status: "rate-limited", percent: 100, resetsAt: "2026-12-01T00:00:00.000Z" },
        },
      })
    })
    const g = await fetchGoUsage({ baseURL: `${url}/zen/go/v1/`, apiKey: SECRET_KEY, now: NOW })
    expect(auth).toBe(`Bearer ${SECRET_KEY}`)
    expect(path).toBe("/zen/go/v1/usage")
    expect(g).toEqual({
      workspaceID: WS_GO,
      rolling: { percent: 58, status: "ok", resetsAt: "2026-11-21T15:12:00.000Z" },
      weekly: { percent: 20, status: "ok", resetsAt: "2026-11-24T00:00:00.000Z" },
      monthly: { percent: 100, status: "rate-limited", resetsAt: "2026-12-01T00:00:00.000Z" },
    })
  })

  test("accepts resetInSec (seconds from now) and extra fields", () => {
    const g = parseGoUsage(
      { workspaceID: WS_GO, extra: 1, usage: { rolling: { status: "ok", percent: 1, resetInSec: 60, more: "x" }, weekly: { status: "ok", percent: 2, resetInSec: 3600 }, monthly: { status: "ok", percent: 3, resetInSec: 0 } } },
      NOW,
    )
    expect(g.rolling.resetsAt).toBe("2026-11-21T12:01:00.000Z")
    expect(g.weekly.resetsAt).toBe("2026-11-21T13:00:00.000Z")
    expect(g.monthly.resetsAt).toBe("2026-11-21T12:00:00.000Z")
  })

  test("shape errors -> parse_failed naming the field", () => {
    expect(expectCode(() => parseGoUsage({ usage: { rolling: { status: "ok", percent: "5", resetInSec: 1 } } }, NOW), "parse_failed").message).toContain("percent")
    expect(expectCode(() => parseGoUsage({ usage: { rolling: { status: "ok", percent: 5 }, weekly: {}, monthly: {} } }, NOW), "parse_failed").message).toContain("resetInSec")
    expect(expectCode(() => parseGoUsage({ usage: {} }, NOW), "parse_failed").message).toContain("usage.rolling")
    expectCode(() => parseGoUsage("nope", NOW), "parse_failed")
  })

  test("401 AuthError -> auth", async () => {
    const url = server(() => json(401, errorBody("AuthError", "Unauthorized")))
    const e = await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY }), "auth")
    expect(e.status).toBe(401)
  })

  test("missing key -> auth without a request", async () => {
    await expectCodeAsync(fetchGoUsage({ baseURL: "http://127.0.0.1:9", apiKey: " " }), "auth")
  })

  test("403 EntitlementError -> not_subscribed", async () => {
    const url = server(() => json(403, errorBody("EntitlementError", "No Go subscription")))
    await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY }), "not_subscribed")
  })

  test("the error body type wins over a 200 status", async () => {
    const url = server(() => json(200, errorBody("EntitlementError", "nope")))
    await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY }), "not_subscribed")
  })

  test("other statuses -> http_error with the key scrubbed even if echoed", async () => {
    const url = server((req) => new Response(`upstream broke for ${req.headers.get("authorization")}`, { status: 502 }))
    const e = await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY }), "http_error")
    expect(e.status).toBe(502)
    expect(e.message).not.toContain(SECRET_KEY)
    expect(e.message).not.toContain(SECRET_KEY.slice(3))
  })

  test("200 with a non-JSON body -> parse_failed", async () => {
    const url = server(() => new Response("<html>maintenance</html>"))
    await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY }), "parse_failed")
  })

  test("headers, then a body that never comes -> network, timed out (not 'not JSON')", async () => {
    const url = server(() => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }), { headers: { "content-type": "application/json" } }))
    expect((await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY, timeoutMs: 200 }), "network")).message).toContain("timed out")
  })

  test("connection refused -> network", async () => {
    const s = serve(() => new Response(""))
    s.stop()
    await expectCodeAsync(fetchGoUsage({ baseURL: s.url, apiKey: SECRET_KEY }), "network")
  })
})
