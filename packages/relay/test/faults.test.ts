import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import type { Relay } from "../src/index"
import { chat, harness, installToken, type ErrorBody, type Harness } from "./helpers"

/** Redis going away and coming back mid-burst, and clients going away mid-stream. */

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.stop())
beforeEach(async () => {
  await h.redis.up()
  await h.redis.client.connect().catch(() => {})
  await h.redis.client.send("FLUSHALL", [])
  h.sim.reset()
  h.sim.configure({ faults: [] })
  for (const r of h.relays.splice(0)) await r.stop()
  h.logs.length = 0
})

async function until(condition: () => boolean | Promise<boolean>, what: string) {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return
    await Bun.sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const redisUp = async (relay: Relay) => ((await (await fetch(`${relay.url}/healthz`)).json()) as { redis: string }).redis === "up"

interface Result {
  install: string
  status: number
  type: string | null
  retryAfter: string | null
}

async function burst(relays: Relay[], installs: string[], perInstall: number): Promise<Result[]> {
  return Promise.all(
    installs.flatMap((install, n) =>
      Array.from({ length: perInstall }, async (_, i): Promise<Result> => {
        const response = await chat(relays[(n + i) % relays.length]!, { install, ip: `198.51.100.${n + 1}` })
        const body = (await response.json()) as Partial<ErrorBody>
        return { install, status: response.status, type: body.error?.type ?? null, retryAfter: response.headers.get("retry-after") }
      }),
    ),
  )
}

function servedPer(results: Result[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const r of results) if (r.status === 200) out.set(r.install, (out.get(r.install) ?? 0) + 1)
  return out
}

describe("Redis stopped and restarted mid-burst", () => {
  test("fail-closed: refuses with a retryable 503 while Redis is down and never serves an allowance twice", async () => {
    const limits = { installDailyRequests: 6, concurrentStreamsPerInstall: null }
    const relays = [await h.start({ limits, redisPolicy: "fail-closed" }), await h.start({ limits, redisPolicy: "fail-closed" })]
    const installs = Array.from({ length: 4 }, installToken)
    const before = await burst(relays, installs, 3)
    expect(before.every((r) => r.status === 200)).toBe(true)

    // Down in the middle of a burst: the requests already sent finish, the rest are refused.
    const during = burst(relays, installs, 4)
    await h.redis.down()
    const whileDown = [...(await during), ...(await burst(relays, installs, 2))]
    const refused = whileDown.filter((r) => r.status === 503)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.every((r) => r.type === "RelayUnavailableError" && r.retryAfter === "5")).toBe(true)
    expect(whileDown.every((r) => r.status === 200 || r.status === 503 || (r.status === 429 && r.type === "InstallLimitError"))).toBe(true)

    await h.redis.up()
    for (const relay of relays) await until(() => redisUp(relay), "the relays to reconnect")
    const after = await burst(relays, installs, 6)
    const served = servedPer([...before, ...whileDown, ...after])
    // Exactly the allowance, whatever happened in between.
    for (const install of installs) expect(served.get(install)).toBe(6)
    expect(after.filter((r) => r.status === 429).every((r) => r.type === "InstallLimitError")).toBe(true)
    expect(relays[0]!.metrics.get("relay_refusals_total", { scope: "redis" }) + relays[1]!.metrics.get("relay_refusals_total", { scope: "redis" })).toBe(refused.length)
  })

  test("fail-open: serves from each instance's memory while Redis is down, loudly, within (1 + instances) × the allowance", async () => {
    const allowance = 4
    const limits = { installDailyRequests: allowance, concurrentStreamsPerInstall: null }
    const relays = [await h.start({ limits, redisPolicy: "fail-open" }), await h.start({ limits, redisPolicy: "fail-open" })]
    const installs = Array.from({ length: 3 }, installToken)
    const before = await burst(relays, installs, 2)
    expect(before.every((r) => r.status === 200)).toBe(true)

    const during = burst(relays, installs, 6)
    await h.redis.down()
    const whileDown = [...(await during), ...(await burst(relays, installs, 12))]
    expect(whileDown.every((r) => r.status === 200 || (r.status === 429 && r.type === "InstallLimitError"))).toBe(true)

    await h.redis.up()
    for (const relay of relays) await until(() => redisUp(relay), "the relays to reconnect")
    const after = await burst(relays, installs, 8)
    const served = servedPer([...before, ...whileDown, ...after])
    const failOpen = relays.reduce((n, r) => n + r.metrics.get("relay_fail_open_requests_total"), 0)
    expect(failOpen).toBeGreaterThan(0)
    for (const install of installs) {
      // More than the allowance is possible (that is what fail-open means), never more than the documented bound.
      expect(served.get(install)!).toBeGreaterThanOrEqual(allowance)
      expect(served.get(install)!).toBeLessThanOrEqual((1 + relays.length) * allowance)
    }
    // Each instance starts its memory from what Redis last told it: an instance that had seen
    // an install's 2 requests serves it at most 2 more on its own.
    expect(h.logs.some((l) => l.includes('"event":"relay.redis.fail_open"') && l.includes('"level":"warn"'))).toBe(true)
    expect(relays[0]!.metrics.text()).toContain("relay_fail_open_requests_total")
  })
})

describe("clients that go away", () => {
  test("a client abort mid-stream frees its concurrency slot", async () => {
    const relay = await h.start({ limits: { concurrentStreamsPerInstall: 1 } })
    const install = installToken()
    // The upstream sends its headers and then nothing: the stream stays open until someone leaves,
    // and no later upstream byte can end the relay's side of it (only the client's leaving can).
    h.sim.configure({ faults: [{ status: 200, stall: "silence", count: 1 }] })
    const abort = new AbortController()
    const open = await chat(relay, { install, stream: true, signal: abort.signal })
    expect(open.status).toBe(200)
    const reader = open.body!.getReader()
    await reader.read()

    const second = await chat(relay, { install, stream: true })
    expect(second.status).toBe(429)
    expect(second.headers.get("retry-after")).toBe("2")
    expect(((await second.json()) as ErrorBody).error.type).toBe("ConcurrencyLimitError")

    abort.abort()
    await reader.cancel().catch(() => {})
    await until(() => relay.metrics.get("relay_active_requests") === 0, "the aborted request to end")
    // The upstream saw the client leave too.
    await until(() => h.sim.requests().some((r) => r.status === 499), "the upstream to see the abort")
    const third = await chat(relay, { install, stream: true })
    expect(third.status).toBe(200)
    await third.arrayBuffer()
  })
})

describe("a relay started while Redis is down", () => {
  test("listens at once, applies its policy, and counts in Redis once it is back", async () => {
    await h.redis.down()
    const closed = await h.start({ limits: { installDailyRequests: 2 }, redisPolicy: "fail-closed" })
    const open = await h.start({ limits: { installDailyRequests: 2 }, redisPolicy: "fail-open" })
    expect(((await (await fetch(`${closed.url}/healthz`)).json()) as { redis: string }).redis).toBe("down")
    expect(h.logs.some((l) => l.includes('"event":"relay.redis.down"'))).toBe(true)
    const refused = await chat(closed)
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as ErrorBody).error.type).toBe("RelayUnavailableError")
    expect((await chat(open)).status).toBe(200)

    await h.redis.up()
    await until(() => redisUp(closed), "the relay to connect")
    const install = installToken()
    expect((await chat(closed, { install })).status).toBe(200)
    expect(await h.redis.client.send("DBSIZE", [])).toBeGreaterThan(0)
  })
})

describe("fail-open memory starts from what Redis reported", () => {
  test("an install already spent in Redis stays spent when Redis goes away", async () => {
    const relay = await h.start({ limits: { installDailyRequests: 3, concurrentStreamsPerInstall: null }, redisPolicy: "fail-open" })
    const spent = installToken()
    for (let i = 0; i < 3; i++) expect((await chat(relay, { install: spent, ip: "198.51.100.40" })).status).toBe(200)
    await h.redis.down()
    const refused = await chat(relay, { install: spent, ip: "198.51.100.40" })
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as ErrorBody).error.type).toBe("InstallLimitError")
    // Another install is served from memory meanwhile.
    expect((await chat(relay, { ip: "198.51.100.40" })).status).toBe(200)
    expect(relay.metrics.get("relay_fail_open_requests_total")).toBe(1)
  })
})

describe("a Redis that stops answering", () => {
  test("a command past redisTimeoutMs counts as Redis down for that request (fail-closed: 503), never a hang until Redis answers", async () => {
    const relay = await h.start({ redisTimeoutMs: 100, redisPolicy: "fail-closed" })
    expect((await chat(relay)).status).toBe(200) // scripts loaded, connection up
    // Every command that may write (a script too) waits until the pause ends (20 s, or the UNPAUSE below): the relay must not.
    await h.redis.client.send("CLIENT", ["PAUSE", "20000", "WRITE"])
    try {
      const response = await chat(relay)
      expect(response.status).toBe(503)
      expect(((await response.json()) as ErrorBody).error.type).toBe("RelayUnavailableError")
      expect(relay.metrics.get("relay_redis_errors_total")).toBeGreaterThan(0)
    } finally {
      await h.redis.client.send("CLIENT", ["UNPAUSE"])
    }
  })
})

describe("Redis outages are visible", () => {
  test("relay_redis_up drops to 0 and relay.redis.down is logged while Redis is away, and both come back", async () => {
    const relay = await h.start()
    expect((await chat(relay)).status).toBe(200)
    const up = async () => /^relay_redis_up (\d)$/m.exec(await (await fetch(`${relay.url}/metrics`)).text())?.[1]
    expect(await up()).toBe("1")
    await h.redis.down()
    expect((await chat(relay)).status).toBe(503)
    expect(await up()).toBe("0")
    expect(relay.metrics.get("relay_redis_up")).toBe(0)
    expect(h.logs.filter((l) => l.includes('"event":"relay.redis.down"')).length).toBe(1)
    await h.redis.up()
    await until(() => redisUp(relay), "the relay to reconnect")
    expect((await chat(relay)).status).toBe(200)
    expect(await up()).toBe("1")
    expect(h.logs.filter((l) => l.includes('"event":"relay.redis.up"')).length).toBe(2)
  })
})
