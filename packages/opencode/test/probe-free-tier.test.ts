import { describe, expect, setDefaultTimeout, test } from "bun:test"
import { fingerprint, type Simulator } from "@pawwork/zen-sim"
import { Probe, ProbeRender } from "../src/probe"
import * as FreeTier from "../src/probe/free-tier"
import * as Identifier from "../src/id/id"
import { Installation } from "../src/installation"
import { ProviderError } from "../src/provider"
import { plantedSecret } from "./fixture/install"
import { simulatorsFor } from "./fixture/simulators"

// The free-tier check of the probe: one anonymous free request with the runtime's own headers,
// asked before the allowance comparisons, against the simulator's client gate.
setDefaultTimeout(60_000)

const KEY = plantedSecret("sk-probe-tier")
const sim = simulatorsFor({ freeDailyLimit: 3, newClientBonus: false, workspaces: [{ id: "wrk_tier", balanceUSD: 20, members: [{ userID: "usr_tier", keys: [KEY] }] }] })

const chats = (s: Simulator) => s.requests().filter((r) => r.path.endsWith("/chat/completions"))
// The simulator records credentials as fingerprints, the anonymous key too.
const PUBLIC = `Bearer ${fingerprint("public")}`

describe("the gateway's free-tier gate as it is now (session, the default)", () => {
  test("serves the runtime's anonymous request: answer served, one request with a canonical session id", async () => {
    const s = await sim()
    const report = await Probe.run({ baseURL: s.url })
    expect(report.freeTier).toMatchObject({ status: "ran", requestsSent: 1, answer: "served" })
    expect(report.freeTier.install).toMatchObject({ role: "check", authSource: "public", keyFingerprint: null, succeeded: 1 })
    expect(report.conclusion.anonymousFreeTier).toBe("served")
    expect(report.conclusion.freeTierText).toContain(Installation.userAgent("cli"))
    // The check's request went first, from its own address, with exactly the runtime's headers.
    const first = chats(s)[0]!
    expect(first.clientIP).toBe(report.freeTier.install!.network.address!)
    expect(first.headers["x-opencode-session"]).toMatch(Identifier.pattern("session"))
    expect(first.headers["user-agent"]).toStartWith(`${Installation.userAgent("cli")} `)
    expect(first.headers.authorization).toBe(PUBLIC)
    // Served, so the comparisons ran as before.
    expect(report.conclusion.anonymousFreeQuota).toBe("ip")
  })
})

describe("a gateway that refuses this runtime's anonymous free requests", () => {
  test("403 FreeTierError: gated, not retried, and the anonymous cases are skipped rather than wrong", async () => {
    // Only anonymous free requests pass the gate's check, so the fault stands in for a gate that
    // refuses even canonical ids (opencode2api #29); keyed requests are unaffected.
    const s = await sim({ config: { faults: [{ type: "FreeTierError", status: 403, count: 1 }] } })
    const report = await Probe.run({ baseURL: s.url, key: { env: "PROBE_KEY", value: KEY } })
    expect(report.freeTier).toMatchObject({ status: "ran", requestsSent: 1, answer: "gated" })
    expect(report.freeTier.install!.outcome).toMatchObject({ ok: false, statusCode: 403 })
    expect(report.conclusion.anonymousFreeTier).toBe("gated")
    expect(report.conclusion.freeTierText).toContain("not a key problem")
    const status = Object.fromEntries(report.cases.map((c) => [c.name, c.status]))
    expect(status).toEqual({ "different-networks": "skipped", "same-network": "skipped", "saved-key-vs-anonymous": "skipped", "env-key-vs-saved-key": "ran", "go-windows": "skipped" })
    expect(report.cases[0]!.reason).toContain("free-tier check: gated")
    expect(report.conclusion.anonymousFreeQuota).toBe("unknown")
    expect(report.conclusion.text).toContain("refused this runtime's anonymous free requests (gated)")
    // Nothing anonymous was sent after the refusal.
    expect(chats(s).filter((r) => r.headers.authorization === PUBLIC)).toHaveLength(1)
    const text = ProbeRender.text(report)
    expect(text).toMatch(/^Free-tier check: public @[\d.]+: 403 \S+\.$/m)
    expect(text).toMatch(/^Anonymous free tier: gated — The gateway refused this runtime's anonymous request/m)
    expect(JSON.stringify(report) + text).not.toContain(KEY)
  })

  test("426 below a minimum client version (session+ua): outdated, naming the User-Agent it sent", async () => {
    const s = await sim({ config: { freeTierGate: "session+ua", minClientVersion: "999.0.0" } })
    const report = await Probe.run({ baseURL: s.url })
    expect(report.freeTier).toMatchObject({ status: "ran", requestsSent: 1, answer: "outdated" })
    expect(report.freeTier.install!.outcome).toMatchObject({ ok: false, statusCode: 426 })
    expect(report.conclusion.freeTierText).toContain(Installation.userAgent("cli"))
    expect(report.conclusion.freeTierText).toContain("does not borrow another client's")
    expect(report.cases.filter((c) => c.status === "ran")).toEqual([])
    expect(chats(s)).toHaveLength(1)
  })

  test("a gateway that is down answers unknown after one request, however many retries the policy would allow", async () => {
    const s = await sim({ config: { faults: [{ status: 503, count: -1 }] } })
    const report = await Probe.run({ baseURL: s.url })
    expect(report.freeTier).toMatchObject({ status: "ran", requestsSent: 1, answer: "unknown" })
    expect(report.conclusion.freeTierText).toContain("overloaded 503")
    expect(chats(s).filter((r) => r.clientIP === report.freeTier.install!.network.address)).toHaveLength(1)
  })
})

describe("within the budget", () => {
  test("--max-requests 0: not asked, unknown, nothing sent", async () => {
    const s = await sim()
    const report = await Probe.run({ baseURL: s.url, maxRequests: 0 })
    expect(report.freeTier).toEqual({ status: "not_run", install: null, requestsSent: 0, answer: "unknown", reason: expect.stringContaining("budget") })
    expect(report.conclusion.anonymousFreeTier).toBe("unknown")
    expect(s.requests()).toHaveLength(0)
    expect(ProbeRender.text(report)).toContain("Free-tier check: not run.")
  })

  test("--max-requests 1: the check takes it, the cases are not run", async () => {
    const s = await sim()
    const report = await Probe.run({ baseURL: s.url, maxRequests: 1 })
    expect(report.freeTier.answer).toBe("served")
    expect(report.budget.used).toBe(1)
    expect(report.cases.every((c) => c.status !== "ran")).toBe(true)
    expect(s.requests()).toHaveLength(1)
  })
})

describe("judging one answer", () => {
  const info = (body: unknown, status: number) => ProviderError.classify({ status, headers: {}, body: JSON.stringify(body) })
  const UA = "opencode/pawwork/0.1.0/cli"

  test("FreeTierError is gated whatever the status a proxy gave it", () => {
    for (const status of [403, 400, 401]) {
      const failure = info({ type: "error", error: { type: "FreeTierError", message: "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode" } }, status)
      expect(FreeTier.judge({ ok: false, failure }, UA).answer).toBe("gated")
    }
  })

  test("a relay's re-wrapped refusal (opencode2api #38) is gated too", () => {
    const failure = info({ error: { code: null, message: "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode", param: null, type: "upstream_error" } }, 403)
    expect(FreeTier.judge({ ok: false, failure }, UA).answer).toBe("gated")
  })

  test("426 is outdated; a spent free allowance or an auth failure is neither", () => {
    expect(FreeTier.judge({ ok: false, failure: info({ type: "error", error: { type: "UpgradeRequiredError", message: "upgrade" } }, 426) }, UA).answer).toBe("outdated")
    const spent = FreeTier.judge({ ok: false, failure: info({ type: "error", error: { type: "FreeUsageLimitError", message: "Rate limit exceeded. Please try again later." } }, 429) }, UA)
    expect(spent.answer).toBe("unknown")
    expect(spent.text).toContain("spent for today")
    expect(FreeTier.judge({ ok: false, failure: info({ type: "error", error: { type: "AuthError", message: "Invalid API key." } }, 401) }, UA).answer).toBe("unknown")
    expect(FreeTier.judge({ ok: true }, UA).answer).toBe("served")
  })
})
