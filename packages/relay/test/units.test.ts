import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ask } from "../src/allowance"
import { applyOverrides, CliUsageError, parseCliArgs } from "../src/cli-args"
import { addressKey, clientAddress } from "../src/client-ip"
import { parseConfig, RelayConfigError, type Limits } from "../src/config"
import { CostScanner } from "../src/cost"
import { MemoryStore } from "../src/memory-store"
import { RedisStore } from "../src/redis-store"
import { installToken, NOW, startRedis, type TestRedis } from "./helpers"

describe("client address", () => {
  test("the bucket: IPv4 whole, IPv4-mapped as IPv4, IPv6 by its /64 however it is written", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7")
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7")
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64")
    expect(addressKey("2001:0db8:0000:0000:ffff::2")).toBe("2001:db8:0:0::/64")
    expect(addressKey("2a02:1234:5678:9abc:1::1")).toBe("2a02:1234:5678:9abc::/64")
    expect(addressKey("2a02:1234:5678::1")).toBe("2a02:1234:5678:0::/64")
  })

  test("headers only behind a trusted proxy: x-real-ip, else the last x-forwarded-for entry", () => {
    const h = (o: Record<string, string>) => new Headers(o)
    expect(clientAddress(h({ "x-real-ip": "198.51.100.1" }), "10.0.0.1", false)).toBe("10.0.0.1")
    expect(clientAddress(h({ "x-real-ip": "198.51.100.1" }), "10.0.0.1", true)).toBe("198.51.100.1")
    expect(clientAddress(h({ "x-forwarded-for": "1.2.3.4, 198.51.100.2" }), "10.0.0.1", true)).toBe("198.51.100.2")
    expect(clientAddress(h({ "x-real-ip": "not an address" }), "10.0.0.1", true)).toBe("10.0.0.1")
  })
})

describe("reported cost", () => {
  const bytes = (s: string) => new TextEncoder().encode(s)
  test("a stream's cost event, split anywhere across chunks", () => {
    const text = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\ndata: {"choices":[],"cost":"0.0125"}\n\n'
    for (let cut = 1; cut < text.length; cut += 7) {
      const scanner = new CostScanner(true)
      scanner.push(bytes(text.slice(0, cut)))
      scanner.push(bytes(text.slice(cut)))
      expect(scanner.finish()).toBe(0.0125)
    }
  })
  test("a JSON answer's cost; nothing, garbage or an absurd value is no cost", () => {
    const json = (s: string) => {
      const scanner = new CostScanner(false)
      scanner.push(bytes(s))
      return scanner.finish()
    }
    expect(json('{"id":"x","cost":0.5}')).toBe(0.5)
    expect(json('{"id":"x"}')).toBeNull()
    expect(json('{"cost":"lots"}')).toBeNull()
    expect(json('{"cost":-1}')).toBeNull()
    expect(json("not json")).toBeNull()
    const stream = new CostScanner(true)
    stream.push(bytes(`data: {"cost":"1","pad":"${"x".repeat(100_000)}"}\n\n`))
    expect(stream.finish()).toBeNull()
  })
})

describe("configuration", () => {
  const base = { upstream: { baseURL: "http://127.0.0.1:4096/zen/v1", keyEnv: "K" }, models: ["big-pickle"] }
  test("defaults, and errors naming the field without its value", () => {
    expect(parseConfig(base).limits.installDailyRequests).toBe(200)
    expect(() => parseConfig({ ...base, limits: { installDailyRequests: 1.5 } })).toThrow(RelayConfigError)
    expect(() => parseConfig({ ...base, surprise: true })).toThrow(/surprise/)
    // Dollar amounts stay within what the counters hold exactly as integers.
    expect(() => parseConfig({ ...base, limits: { costEstimateUSD: 1e16 } })).toThrow(/limits\.costEstimateUSD/)
    expect(() => parseConfig({ ...base, limits: { globalDailySpendUSD: 1e12 } })).toThrow(/limits\.globalDailySpendUSD/)
    expect(parseConfig({ ...base, limits: { globalDailySpendUSD: 1e6 } }).limits.globalDailySpendUSD).toBe(1e6)
    const secretURL = "https://u:sk-verysecretvalue@example.com/zen/v1"
    try {
      parseConfig({ ...base, upstream: { baseURL: secretURL, keyEnv: "K" } })
      throw new Error("accepted")
    } catch (error) {
      expect((error as RelayConfigError).field).toBe("upstream.baseURL")
      expect((error as Error).message).not.toContain("verysecret")
    }
  })
  test("flags override the file field by field", () => {
    const command = parseCliArgs(["--config", "x.json", "--port", "9000", "--install-daily-requests", "7", "--upstream-key-env", "OTHER", "--trust-proxy"])
    expect(command.kind).toBe("run")
    if (command.kind !== "run") return
    const config = parseConfig(applyOverrides({ ...base, limits: { ipDailyRequests: 9 } }, command.overrides))
    expect(config.port).toBe(9000)
    expect(config.trustProxy).toBe(true)
    expect(config.upstream).toMatchObject({ baseURL: base.upstream.baseURL, keyEnv: "OTHER" })
    expect(config.limits).toMatchObject({ installDailyRequests: 7, ipDailyRequests: 9 })
    expect(() => parseCliArgs(["--port", "-1"])).toThrow(CliUsageError)
    expect(() => parseCliArgs(["--nope"])).toThrow(CliUsageError)
  })
})

describe("the fail-open memory store decides as the Redis script does", () => {
  let redis: TestRedis
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis.stop())

  test("the same random sequence of requests and releases gets the same verdicts from both", async () => {
    const store = new RedisStore(redis.url, 1000, { roundTrip() {}, error() {}, state() {} })
    await store.start()
    const memory = new MemoryStore()
    const limits: Limits = {
      installDailyRequests: 4,
      installDailySpendUSD: 0.1,
      ipDailyRequests: 9,
      newInstallsPerIp: 3,
      globalDailyRequests: 40,
      globalDailySpendUSD: null,
      concurrentStreamsPerInstall: 2,
      costEstimateUSD: 0.02,
    }
    const installs = Array.from({ length: 8 }, installToken)
    const ips = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
    let seed = 7
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
    const open: { a: ReturnType<typeof ask> }[] = []
    for (let i = 0; i < 120; i++) {
      if (open.length && random(3) === 0) {
        const { a } = open.splice(random(open.length), 1)[0]!
        const release = { keys: a.keys, requestID: a.requestID, expireAt: a.expireAt, spendAdjustUSD: random(2) ? 0 : -0.01 }
        await store.release(release)
        memory.release(release)
        continue
      }
      const a = ask({ prefix: "parity:", installToken: installs[random(installs.length)]!, ipKey: ips[random(ips.length)]!, now: NOW + i, requestID: crypto.randomUUID(), slotLifetimeMs: 60_000, limits })
      const fromRedis = await store.check(a)
      const fromMemory = memory.check(a)
      expect({ i, ...fromMemory }).toEqual({ i, ...fromRedis } as typeof fromMemory & { i: number })
      if (fromRedis.ok) open.push({ a })
    }
    store.close()
  })
})
