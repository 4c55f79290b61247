import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import type { Simulator } from "@pawwork/zen-sim"
import { Probe, ProbeTarget } from "../src/probe"
import { Budget, BudgetExhaustedError } from "../src/probe/budget"
import * as Conclusion from "../src/probe/conclusion"
import type { Report } from "../src/probe/report"
import { plantedSecret } from "./fixture/install"
import { simulatorsFor } from "./fixture/simulators"

// Each probe sends a few dozen requests through the real runtime; allow for a loaded machine.
setDefaultTimeout(60_000)

const KEY = plantedSecret("sk-probe")
const GO_KEY = plantedSecret("sk-probe-go")
// Go windows small enough to run out within the budget: 3 requests at the default $0.05 each.
const workspaces = [
  { id: "wrk_probe", balanceUSD: 20, members: [{ userID: "usr_probe", keys: [KEY] }] },
  { id: "wrk_probe_go", members: [{ userID: "usr_probe_go", keys: [GO_KEY], go: { limits: { "5 hour": 0.15 } } }] },
]
const sim = simulatorsFor({ freeDailyLimit: 3, newClientBonus: false, workspaces })

const keys = { key: { env: "PROBE_KEY", value: KEY }, goKey: { env: "PROBE_GO_KEY", value: GO_KEY } }
const verdicts = (report: Report) => Object.fromEntries(report.cases.map((c) => [c.name, c.verdict]))
const chats = (s: Simulator) => s.requests().filter((r) => r.path.endsWith("/chat/completions"))

async function probeDirs() {
  return (await fs.readdir(os.tmpdir())).filter((name) => name.startsWith("pawwork-probe-"))
}

// The probe makes its throwaway installs in os.tmpdir(): a folder of this file's own, so that
// another process making some at the same time (a second test run) is not taken for a leftover.
const sharedTmp = process.env.TMPDIR
let privateTmp: string
beforeAll(async () => {
  privateTmp = await fs.mkdtemp(path.join(os.tmpdir(), "probe-test-"))
  process.env.TMPDIR = privateTmp
})
afterAll(async () => {
  if (sharedTmp === undefined) delete process.env.TMPDIR
  else process.env.TMPDIR = sharedTmp
  await fs.rm(privateTmp, { recursive: true, force: true })
})

describe("against the simulator counting free usage per IP (the real gateway's rule)", () => {
  let report: Report
  let s: Simulator
  let dirsBefore: string[]
  beforeAll(async () => {
    s = await sim({ quotaKey: "ip" })
    dirsBefore = await probeDirs()
    report = await Probe.run({ baseURL: s.url, ...keys })
  })

  test("concludes ip", () => {
    expect(report.conclusion.anonymousFreeQuota).toBe("ip")
    expect(verdicts(report)).toEqual({
      "different-networks": "separate",
      "same-network": "shared",
      "saved-key-vs-anonymous": "shared",
      "env-key-vs-saved-key": "shared",
      "go-windows": "shared",
    })
    expect(report.network).toEqual({ method: "x-real-ip", honoured: true })
  })

  test("records what each install got, with its auth source and identity", () => {
    const same = report.cases.find((c) => c.name === "same-network")!
    const [a, b] = same.installs
    expect(a).toMatchObject({ role: "A", authSource: "public", keyFingerprint: null, succeeded: 3, requestsSent: 4 })
    expect(a!.outcome).toMatchObject({ ok: false, kind: "free_usage_limit", statusCode: 429 })
    expect(a!.outcome!.retryAfterMs).toBeGreaterThan(0)
    expect(a!.outcome!.resetAt).toMatch(/T00:00:00\.000Z$/)
    expect(b!.outcome).toMatchObject({ ok: false, kind: "free_usage_limit", statusCode: 429 })
    expect(a!.installFingerprint).toMatch(/^fp_[0-9a-f]{12}$/)
    expect(b!.installFingerprint).toMatch(/^fp_[0-9a-f]{12}$/)
    expect(a!.installFingerprint).not.toBe(b!.installFingerprint)
    expect(a!.network).toEqual(b!.network)
    const keyed = report.cases.find((c) => c.name === "env-key-vs-saved-key")!.installs
    expect(keyed.map((i) => i.authSource)).toEqual(["env", "auth"])
    expect(keyed[0]!.keyFingerprint).toBe(keyed[1]!.keyFingerprint)
  })

  test("every install is fresh: no two cases share an install token or (for the other network) an address", () => {
    const installs = report.cases.flatMap((c) => c.installs)
    expect(new Set(installs.map((i) => i.installFingerprint)).size).toBe(installs.length)
    const different = report.cases.find((c) => c.name === "different-networks")!.installs
    expect(different[0]!.network.address).not.toBe(different[1]!.network.address)
  })

  test("the simulator received exactly the chat requests the probe counted, with the claimed addresses", () => {
    // The probe also asked /__sim/requests once (counted by the probe, not captured by the simulator).
    expect(chats(s)).toHaveLength(report.budget.used - 1)
    const claimed = new Set([...report.cases.flatMap((c) => c.installs), report.freeTier.install!].map((i) => i.network.address))
    for (const r of chats(s)) expect(claimed.has(r.clientIP)).toBe(true)
  })

  test("the throwaway installs are removed and nothing secret is printed", async () => {
    expect(await probeDirs()).toEqual(dirsBefore)
    const text = JSON.stringify(report)
    for (const secret of [KEY, GO_KEY]) expect(text).not.toContain(secret)
    expect(text).not.toMatch(/pwi_[A-Za-z0-9_-]{43}/)
  })
})

describe("against the simulator counting free usage per install", () => {
  test("concludes install", async () => {
    const s = await sim({ quotaKey: "install" })
    const report = await Probe.run({ baseURL: s.url, ...keys })
    expect(report.conclusion.anonymousFreeQuota).toBe("install")
    expect(verdicts(report)).toMatchObject({ "different-networks": "separate", "same-network": "separate", "saved-key-vs-anonymous": "separate" })
  })
})

describe("when the gateway ignores x-real-ip", () => {
  test("the different-networks case is inconclusive, not wrong, and the conclusion unknown", async () => {
    const s = await sim({ trustProxy: false })
    const report = await Probe.run({ baseURL: s.url })
    expect(report.network.honoured).toBe(false)
    const different = report.cases.find((c) => c.name === "different-networks")!
    expect(different.verdict).toBe("inconclusive")
    expect(different.reason).toContain("--trust-proxy")
    expect(verdicts(report)["same-network"]).toBe("shared")
    expect(report.conclusion.anonymousFreeQuota).toBe("unknown")
    expect(report.conclusion.text).toContain("--trust-proxy")
  })
})

describe("the request budget", () => {
  for (const max of [0, 1, 2, 5, 8, 11, 12])
    test(`--max-requests ${max} is never exceeded, and too small a budget is reported as unknown`, async () => {
      const s = await sim({ quotaKey: "ip" })
      const report = await Probe.run({ baseURL: s.url, maxRequests: max })
      expect(report.budget.used).toBeLessThanOrEqual(max)
      expect(s.requests().length).toBeLessThanOrEqual(max)
      // Without keys two cases run; 5 requests each, plus the free-tier check and one address check,
      // are the least that can show "ip".
      expect(report.conclusion.anonymousFreeQuota).toBe(max >= 12 ? "ip" : "unknown")
      if (max < 12) expect(report.cases.some((c) => c.status === "ran" && c.verdict === "inconclusive") || report.budget.exhausted).toBe(true)
    })

  for (const max of [3, 11, 17])
    test(`--max-requests ${max} with every case enabled is never exceeded`, async () => {
      const s = await sim({ quotaKey: "ip" })
      const report = await Probe.run({ baseURL: s.url, maxRequests: max, ...keys })
      expect(report.budget.used).toBeLessThanOrEqual(max)
      expect(s.requests().length).toBeLessThanOrEqual(max)
      expect(report.conclusion.anonymousFreeQuota).toBe("unknown")
    })

  test("retries of a failing gateway count too", async () => {
    const s = await sim({ config: { faults: [{ status: 503, count: -1 }] } })
    const report = await Probe.run({ baseURL: s.url, maxRequests: 3 })
    expect(s.requests().length).toBeLessThanOrEqual(3)
    expect(s.requests().length).toBeGreaterThan(1)
    expect(report.conclusion.anonymousFreeQuota).toBe("unknown")
    expect(report.cases[0]!.reason).toContain("overloaded")
  })

  test("the budget's fetch refuses once spent, without calling through", async () => {
    let calls = 0
    const budget = new Budget(2)
    const counted = budget.fetch((async () => (calls++, new Response("ok"))) as unknown as typeof fetch)
    await counted("http://127.0.0.1:1/")
    await counted("http://127.0.0.1:1/")
    await expect(counted("http://127.0.0.1:1/")).rejects.toBeInstanceOf(BudgetExhaustedError)
    expect(calls).toBe(2)
    expect(budget.hit).toBe(true)
  })
})

describe("a non-loopback gateway", () => {
  function recorder() {
    const calls: string[] = []
    const fetch = (async (input: string | URL | Request) => {
      calls.push(String(input instanceof Request ? input.url : input))
      return new Response("{}", { status: 500 })
    }) as unknown as typeof globalThis.fetch
    return { calls, fetch }
  }

  for (const baseURL of ["https://opencode.ai", "http://10.0.0.1", "http://[2001:db8::1]:4096", undefined])
    test(`${baseURL ?? "the default"} is refused before anything is created or sent`, async () => {
      const { calls, fetch } = recorder()
      const before = await probeDirs()
      const error = await Probe.run({ ...(baseURL ? { baseURL } : {}), fetch, ...keys }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ProbeTarget.ProbeRefusedError)
      expect((error as Error).message).toContain(ProbeTarget.REAL_QUOTA_FLAG)
      expect(calls).toEqual([])
      expect(await probeDirs()).toEqual(before)
    })

  test("with the flag it runs on one network: no x-real-ip, no different-networks case, budget kept", async () => {
    // A made-up remote host whose requests this fetch delivers to a local simulator instead.
    const s = await sim({ quotaKey: "ip" })
    const seen: string[] = []
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input)
      seen.push(url)
      return globalThis.fetch(url.replace("https://gateway.example", s.url), init)
    }) as unknown as typeof globalThis.fetch
    const report = await Probe.run({ baseURL: "https://gateway.example", fetch, acceptRealQuota: true, maxRequests: 12 })
    expect(seen.every((u) => u.startsWith("https://gateway.example/zen/v1/"))).toBe(true)
    expect(seen.length).toBeLessThanOrEqual(12)
    for (const r of s.requests()) expect(r.headers["x-real-ip"]).toBeUndefined()
    expect(report.network).toEqual({ method: "none", honoured: null })
    expect(report.cases[0]).toMatchObject({ name: "different-networks", status: "skipped" })
    expect(verdicts(report)["same-network"]).toBe("shared")
    expect(report.conclusion.anonymousFreeQuota).toBe("unknown")
    expect(report.conclusion.text).toContain("second network")
  })
})

describe("targets", () => {
  test("loopback is 127.0.0.0/8, ::1 and localhost only", () => {
    for (const url of ["http://127.0.0.1:4096", "http://127.8.9.10", "http://localhost:1", "http://[::1]:80", "http://[::ffff:127.0.0.1]/"])
      expect(ProbeTarget.parse(url).loopback).toBe(true)
    for (const url of ["https://opencode.ai", "http://10.0.0.1", "http://128.0.0.1", "http://127.0.0.1.example.com", "http://[2001:db8::1]", "http://0.0.0.0"])
      expect(ProbeTarget.parse(url).loopback).toBe(false)
  })

  test("the gateway's endpoints are derived from its origin", () => {
    expect(ProbeTarget.parse("http://127.0.0.1:4096/")).toMatchObject({
      baseURL: "http://127.0.0.1:4096",
      zenBaseURL: "http://127.0.0.1:4096/zen/v1",
      goBaseURL: "http://127.0.0.1:4096/zen/go/v1",
    })
    expect(() => ProbeTarget.parse("http://127.0.0.1:4096/zen/v1")).toThrow(ProbeTarget.InvalidTargetError)
    expect(() => ProbeTarget.parse("ftp://127.0.0.1")).toThrow(ProbeTarget.InvalidTargetError)
  })

  test("only free Zen models are probed", () => {
    expect(Probe.freeModel("opencode/gpt-5-nano")).toBe("gpt-5-nano")
    expect(Probe.freeModel(undefined)).toBe("big-pickle")
    expect(() => Probe.freeModel("claude-sonnet-4-5")).toThrow(Probe.InvalidProbeOptionError)
  })
})

describe("the conclusion from the verdicts", () => {
  const target = ProbeTarget.parse("http://127.0.0.1:4096")
  const context = { target, budget: { max: 50, exhausted: false }, honoured: true }
  const limitedA = { role: "A" as const, authSource: "public" as const, keyFingerprint: null, installFingerprint: "fp_a", network: { label: "net-1", address: "198.18.0.1" }, requestsSent: 4, succeeded: 3, outcome: { ok: false, kind: "free_usage_limit" as const, statusCode: 429, retryAfterMs: 1000, resetAt: null } }
  const made = (verdicts: Record<string, "shared" | "separate" | "inconclusive">) =>
    Object.entries(verdicts).map(([name, verdict]) => ({ name, description: name, status: "ran" as const, installs: [limitedA], requestsSent: 5, verdict, reason: "" }))

  test("same network shared, different networks separate: ip", () => {
    expect(Conclusion.decide(made({ "different-networks": "separate", "same-network": "shared" }), context).anonymousFreeQuota).toBe("ip")
  })
  test("same network separate: install, whatever else", () => {
    expect(Conclusion.decide(made({ "different-networks": "inconclusive", "same-network": "separate" }), context).anonymousFreeQuota).toBe("install")
  })
  test("separate by key only: key", () => {
    const cases = made({ "different-networks": "shared", "same-network": "shared", "saved-key-vs-anonymous": "separate" })
    expect(Conclusion.decide(cases, context).anonymousFreeQuota).toBe("key")
  })
  test("shared on one network but different networks unsettled: unknown, saying why", () => {
    const result = Conclusion.decide(made({ "different-networks": "inconclusive", "same-network": "shared" }), context)
    expect(result.anonymousFreeQuota).toBe("unknown")
    expect(result.text).toContain("different-networks case did not settle")
  })
  test("never limited: none only with enough evidence, else unknown", () => {
    const served = (succeeded: number) => [
      { name: "same-network", description: "", status: "ran" as const, installs: [{ ...limitedA, succeeded, outcome: { ok: true, kind: null, statusCode: 200, retryAfterMs: null, resetAt: null } }], requestsSent: succeeded, verdict: "inconclusive" as const, reason: "" },
    ]
    expect(Conclusion.decide(served(Conclusion.NONE_EVIDENCE), context).anonymousFreeQuota).toBe("none")
    const small = Conclusion.decide(served(12), context)
    expect(small.anonymousFreeQuota).toBe("unknown")
    expect(small.text).toContain("raise --max-requests")
  })
})
