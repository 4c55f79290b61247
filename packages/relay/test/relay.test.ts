import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { fingerprint } from "@pawwork/zen-sim"
import { chat, harness, installToken, NOW, type ErrorBody, type Harness } from "./helpers"

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.stop())
beforeEach(() => h.reset())

describe("relay: forwarding", () => {
  test("a non-stream request is served with the relay's key, the client's OpenCode headers, and no install token", async () => {
    const relay = await h.start()
    const install = installToken()
    const response = await chat(relay, {
      install,
      headers: {
        authorization: "Bearer public",
        cookie: "session=abc",
        "x-opencode-session": "ses_dd463aad1fffNTy1XAcBW53Zz6",
        "x-opencode-client": "cli",
        "user-agent": "opencode/pawwork/0.1.0/cli",
        "x-forwarded-for": "203.0.113.9",
      },
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { choices: { message: { content: string } }[] }
    expect(body.choices[0]!.message.content).toContain("Hello from big-pickle")
    const seen = h.sim.requests().at(-1)!
    const headers = Object.fromEntries(Object.entries(seen.headers).map(([k, v]) => [k.toLowerCase(), v]))
    // The simulator records keys by fingerprint.
    expect(headers.authorization).toBe(`Bearer ${fingerprint(h.key)}`)
    expect(headers["x-opencode-session"]).toBe("ses_dd463aad1fffNTy1XAcBW53Zz6")
    expect(headers["x-opencode-client"]).toBe("cli")
    expect(headers["user-agent"]).toBe("opencode/pawwork/0.1.0/cli")
    expect(headers["x-pawwork-install"]).toBeUndefined()
    expect(headers.cookie).toBeUndefined()
    expect(headers["x-forwarded-for"]).toBeUndefined()
    expect(headers["x-real-ip"]).toBeUndefined()
  })

  test("a stream passes through byte for byte", async () => {
    const relay = await h.start()
    const direct = await fetch(`${h.sim.zenBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${h.key}` },
      body: JSON.stringify({ model: "big-pickle", stream: true, messages: [{ role: "user", content: "hi" }] }),
    })
    const expected = new Uint8Array(await direct.arrayBuffer())
    const response = await chat(relay, { stream: true })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("text/event-stream")
    const got = new Uint8Array(await response.arrayBuffer())
    // The simulator's answers differ only in their id and time: compare with those masked.
    const mask = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replace(/"id":"[^"]+"/g, '"id":"x"').replace(/"created":\d+/g, '"created":0')
    expect(mask(got)).toBe(mask(expected))
    expect(got.byteLength).toBe(expected.byteLength)
  })

  test("an upstream error passes through with its status and type intact", async () => {
    const relay = await h.start()
    h.sim.configure({ faults: [{ status: 529, type: "overloaded_error", message: "Overloaded"}] })
    const response = await chat(relay)
    expect(response.status).toBe(529)
    const body = (await response.json()) as ErrorBody
    expect(body.error.type).toBe("overloaded_error")
    h.sim.configure({ faults: [] })
  })

  test("only configured models, only with an install token, bounded bodies and headers", async () => {
    const relay = await h.start({ bounds: { maxBodyBytes: 2048, maxHeaders: 20 } })
    const model = await chat(relay, { model: "gpt-5.1" })
    expect(model.status).toBe(400)
    expect(((await model.json()) as ErrorBody).error.type).toBe("ModelError")
    const none = await chat(relay, { install: null })
    expect(none.status).toBe(400)
    expect(((await none.json()) as ErrorBody).error.type).toBe("InstallTokenError")
    // Too large, whether declared up front or only found while reading a chunked body: the
    // relay's own typed refusal, which the runtime tells apart from a proxy's bare 413.
    const oversized = JSON.stringify({ model: "big-pickle", messages: [{ role: "user", content: "x".repeat(4096) }] })
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < oversized.length; i += 512) controller.enqueue(new TextEncoder().encode(oversized.slice(i, i + 512)))
        controller.close()
      },
    })
    for (const body of [oversized, chunked]) {
      const big = await fetch(`${relay.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-pawwork-install": installToken() },
        body,
      })
      expect(big.status).toBe(413)
      expect(((await big.json()) as ErrorBody).error.type).toBe("RequestTooLargeError")
    }
    const headers: Record<string, string> = { "x-pawwork-install": installToken() }
    for (let i = 0; i < 30; i++) headers[`x-extra-${i}`] = "1"
    const many = await chat(relay, { headers })
    expect(many.status).toBe(431)
    const other = await fetch(`${relay.url}/zen/v1/chat/completions`, { method: "POST", body: "{}" })
    expect(other.status).toBe(404)
    // None of them reached the upstream, and none was counted.
    expect(h.sim.requests().length).toBe(0)
    expect(await h.redis.client.send("DBSIZE", [])).toBe(0)
  })
})

describe("relay: the model allowlist", () => {
  test("a body with two model keys reaches the upstream with the one that was checked, and only it", async () => {
    // An upstream that records the raw bytes it is sent (the simulator parses them as the relay does, last key wins).
    const bodies: string[] = []
    const upstream = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        bodies.push(await request.text())
        return Response.json({ id: "x", object: "chat.completion", choices: [] })
      },
    })
    try {
      const relay = await h.start({ upstream: { baseURL: `http://127.0.0.1:${upstream.port}/v1`, keyEnv: "RELAY_TEST_KEY" } })
      const response = await fetch(`${relay.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-pawwork-install": installToken() },
        body: '{"model":"gpt-5.1-codex-max","model":"big-pickle","messages":[{"role":"user","content":"hi"}]}',
      })
      expect(response.status).toBe(200)
      expect(bodies.length).toBe(1)
      expect(bodies[0]).not.toContain("gpt-5.1-codex-max")
      expect(JSON.parse(bodies[0]!)).toEqual({ model: "big-pickle", messages: [{ role: "user", content: "hi" }] })
    } finally {
      upstream.stop(true)
    }
  })
})

describe("relay: allowances", () => {
  test("an install is served exactly its daily allowance, then refused with InstallLimitError until the reset", async () => {
    const relay = await h.start({ limits: { installDailyRequests: 3 } })
    const install = installToken()
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await chat(relay, { install })).status)
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    const refused = await chat(relay, { install })
    expect(refused.headers.get("retry-after")).toBe(String((Date.parse("2026-12-01T00:00:00Z") - NOW) / 1000))
    const body = (await refused.json()) as ErrorBody
    expect(body.type).toBe("error")
    expect(body.error.type).toBe("InstallLimitError")
    expect(body.metadata).toMatchObject({ scope: "install", limitName: "requests", limit: 3, resetsAt: "2026-12-01T00:00:00.000Z" })
    // Another install is still served.
    expect((await chat(relay)).status).toBe(200)
  })

  test("the cost a stream reports replaces what was reserved for it", async () => {
    // The simulator's gateway trailer reports a cost of 0: once each stream ends, its 0.25 reservation is given back.
    const relay = await h.start({ limits: { installDailySpendUSD: 1, costEstimateUSD: 0.25 } })
    const install = installToken()
    const usage = async () =>
      (await (await fetch(`${relay.url}/v1/usage`, { headers: { "x-pawwork-install": install } })).json()) as { spendUSD: { used: number }; concurrent: { used: number } }
    for (let i = 0; i < 6; i++) {
      const response = await chat(relay, { install, stream: true })
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('"cost":"0"')
      // The release (slot and spend in one script) runs once the answer has ended: wait for it.
      for (let n = 0; n < 1000 && (await usage()).concurrent.used !== 0; n++) await Bun.sleep(10)
    }
    expect((await usage()).spendUSD.used).toBe(0)
  })

  test("GET /v1/usage tells an install what it has used and has left, and when it resets", async () => {
    const relay = await h.start({ limits: { installDailyRequests: 5 } })
    const install = installToken()
    await chat(relay, { install })
    await chat(relay, { install })
    const response = await fetch(`${relay.url}/v1/usage`, { headers: { "x-pawwork-install": install } })
    expect(response.status).toBe(200)
    const usage = (await response.json()) as Record<string, unknown>
    expect(usage).toMatchObject({ day: "2026-11-30", resetsAt: "2026-12-01T00:00:00.000Z", requests: { used: 2, limit: 5, remaining: 3 }, source: "redis" })
    expect(JSON.stringify(usage)).not.toContain(install)
  })
})
