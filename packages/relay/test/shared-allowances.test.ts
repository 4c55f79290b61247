import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { chat, harness, installToken, type ErrorBody, type Harness } from "./helpers"

/**
 * The bars of the relay: two instances on one Redis, the simulator upstream, concurrent bursts.
 * Whichever instance a request hits, an allowance is served exactly, never one request more.
 */

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.stop())
beforeEach(() => h.reset())

interface Sent {
  install: string
  ip: string
  status: number
  type: string | null
}

async function send(relays: { url: string }[], install: string, ip: string, i: number): Promise<Sent> {
  const response = await chat(relays[i % relays.length]!.url, { install, ip })
  const body = (await response.json()) as Partial<ErrorBody>
  return { install, ip, status: response.status, type: body.error?.type ?? null }
}

describe("two relay instances on one Redis", () => {
  test("a concurrent burst from several installs on a few addresses is served exactly up to the allowances", async () => {
    const limits = { installDailyRequests: 5, ipDailyRequests: 12, newInstallsPerIp: 3, concurrentStreamsPerInstall: null }
    const relays = [await h.start({ limits }), await h.start({ limits })]
    // 198.51.100.1 and .2: four installs each (the new-install cap lets three in, the address ceiling binds at 12);
    // 198.51.100.3: two installs (each install's 5 binds: 10).
    const plan: { ip: string; installs: string[] }[] = [
      { ip: "198.51.100.1", installs: Array.from({ length: 4 }, installToken) },
      { ip: "198.51.100.2", installs: Array.from({ length: 4 }, installToken) },
      { ip: "198.51.100.3", installs: Array.from({ length: 2 }, installToken) },
    ]
    const jobs: Promise<Sent>[] = []
    let i = 0
    for (let round = 0; round < 8; round++)
      for (const { ip, installs } of plan) for (const install of installs) jobs.push(send(relays, install, ip, i++ * 7 + round))
    const results = await Promise.all(jobs)

    const served = results.filter((r) => r.status === 200)
    const servedBy = (key: (r: Sent) => string) => served.reduce((m, r) => m.set(key(r), (m.get(key(r)) ?? 0) + 1), new Map<string, number>())
    const perIP = servedBy((r) => r.ip)
    const perInstall = servedBy((r) => r.install)
    expect(perIP.get("198.51.100.1")).toBe(12)
    expect(perIP.get("198.51.100.2")).toBe(12)
    expect(perIP.get("198.51.100.3")).toBe(10)
    for (const n of perInstall.values()) expect(n).toBeLessThanOrEqual(5)
    for (const { installs } of plan) expect(installs.filter((t) => perInstall.has(t)).length).toBeLessThanOrEqual(3)
    // Exactly the served requests reached the upstream, through both instances.
    expect(h.sim.requests().filter((r) => r.path.endsWith("/chat/completions")).length).toBe(34)
    for (const relay of relays) expect(relay.metrics.get("relay_requests_total", { route: "chat", outcome: "served" })).toBeGreaterThan(0)
    const refusals = new Set(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.type}`))
    expect([...refusals].sort()).toEqual(["429 InstallLimitError", "429 IpLimitError", "429 NewInstallLimitError"].filter((t) => refusals.has(t)))
    expect(results.every((r) => r.status === 200 || r.status === 429)).toBe(true)
  })

  test("minting 100 new install tokens from one address buys no more than the cap", async () => {
    const limits = { installDailyRequests: 2, ipDailyRequests: null, newInstallsPerIp: 5, concurrentStreamsPerInstall: null }
    const relays = [await h.start({ limits }), await h.start({ limits })]
    const tokens = Array.from({ length: 100 }, installToken)
    // Every token twice, all at once: only the first five tokens seen get anything, two requests each.
    const results = await Promise.all(tokens.flatMap((t, i) => [send(relays, t, "203.0.113.50", i), send(relays, t, "203.0.113.50", i + 1)]))
    const served = results.filter((r) => r.status === 200)
    expect(served.length).toBeLessThanOrEqual(5 * 2)
    expect(new Set(served.map((r) => r.install)).size).toBe(5)
    const refused = results.filter((r) => r.status === 429)
    expect(refused.length).toBe(results.length - served.length)
    expect(refused.some((r) => r.type === "NewInstallLimitError")).toBe(true)
    // Another address is not affected by this one's minting.
    expect((await send(relays, installToken(), "203.0.113.51", 0)).status).toBe(200)
  })

  test("the global budget stops everyone, with RelayBudgetError naming its scope", async () => {
    const limits = { globalDailyRequests: 6, concurrentStreamsPerInstall: null }
    const relays = [await h.start({ limits }), await h.start({ limits })]
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => send(relays, installToken(), `192.0.2.${i + 1}`, i)))
    expect(results.filter((r) => r.status === 200).length).toBe(6)
    expect(results.filter((r) => r.status === 429).every((r) => r.type === "RelayBudgetError")).toBe(true)
    const response = await chat(relays[0]!, { ip: "192.0.2.200" })
    expect(response.status).toBe(429)
    const body = (await response.json()) as ErrorBody
    expect(body.error.type).toBe("RelayBudgetError")
    expect(body.metadata).toMatchObject({ scope: "global", limitName: "requests", limit: 6 })
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(60)
  })

  test("the global spend budget, reserved before forwarding, stops everyone once spent", async () => {
    const limits = { globalDailySpendUSD: 1, costEstimateUSD: 0.25, concurrentStreamsPerInstall: null }
    const relays = [await h.start({ limits }), await h.start({ limits })]
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => send(relays, installToken(), `192.0.2.${i + 1}`, i)))
    expect(results.filter((r) => r.status === 200).length).toBe(4)
    const response = await chat(relays[1]!, { ip: "192.0.2.99" })
    const body = (await response.json()) as ErrorBody
    expect(body.error.type).toBe("RelayBudgetError")
    expect(body.metadata).toMatchObject({ scope: "global", limitName: "spend", limit: 1 })
  })

  test("each request costs at most 2 Redis round trips (check-and-count, release)", async () => {
    // A slow shared machine must not turn a late answer into a timeout: this test counts, it does not time.
    const relay = await h.start({ limits: { installDailyRequests: 1000 }, redisTimeoutMs: 10_000 })
    const trips = () => relay.metrics.get("relay_redis_round_trips_total")
    // Each release runs after its answer has ended, so the count is read only once it has stopped moving.
    async function settled(): Promise<number> {
      let last = -1
      for (let quiet = 0, polls = 0; quiet < 5 && polls < 2000; polls++) {
        await Bun.sleep(10)
        const now = trips()
        quiet = now === last && relay.metrics.get("relay_active_requests") === 0 ? quiet + 1 : 0
        last = now
      }
      return last
    }
    await send([relay], installToken(), "192.0.2.1", 0) // loads the scripts (EVAL once after NOSCRIPT)
    const before = await settled()
    const install = installToken()
    for (let i = 0; i < 20; i++) expect((await send([relay], install, "192.0.2.1", i)).status).toBe(200)
    expect((await settled()) - before).toBe(40)
    expect(relay.metrics.get("relay_redis_errors_total")).toBe(0)
  })
})
