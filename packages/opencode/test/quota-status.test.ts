import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import { z } from "zod"
import * as Auth from "../src/auth"
import { QuotaLedger } from "../src/quota"
import { StatusReport, Waybar } from "../src/quota/status-schema"
import * as StatusCmd from "../src/cli/cmd/status"
import type { IO } from "../src/cli/io"
import { leakedFragments } from "./fixture/leaks"
import { plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"
import { quotaTurn } from "./fixture/quota-turn"
import { MIDNIGHT, START } from "./fixture/gateway-accounts"

/**
 * `status` against the simulator: turns through the real runtime fill the ledger, the Go windows
 * come from the simulator's usage API and the Zen figures from its console API. Where the clock
 * matters (a day of free requests, the UTC rollover, Go pacing) the command runs in-process on the
 * simulator's frozen clock; its output modes and a dead usage API go through the real CLI.
 */

const HOUR = 3_600_000
const GO_KEY = plantedSecret("sk-status-go")
const ZEN_KEY = plantedSecret("sk-status-zen")
const CONSOLE_KEY = plantedSecret("oc_sk-status")
const OTHER_GO_KEY = plantedSecret("sk-status-othergo")
const OTHER_CONSOLE_KEY = plantedSecret("oc_sk-status-other")

function workspaces(): SimConfigInput["workspaces"] {
  return [
    {
      id: "wrk_status",
      balanceUSD: 12.34,
      members: [
        { userID: "usr_statusgo", role: "admin", keys: [GO_KEY], go: { limits: { "5 hour": 1, weekly: 100, monthly: 100 } } },
        { userID: "usr_statuszen", keys: [ZEN_KEY] },
      ],
      console: { serviceAccountKeys: [CONSOLE_KEY], usage: [{ at: "2026-11-20T09:00:00Z", costUSD: 3.5, requests: 7 }] },
    },
    {
      id: "wrk_other",
      members: [{ userID: "usr_othergo", role: "admin", keys: [OTHER_GO_KEY], go: { limits: { "5 hour": 1, weekly: 100, monthly: 100 } } }],
      console: { serviceAccountKeys: [OTHER_CONSOLE_KEY] },
    },
  ]
}

let sim: Simulator
const installs: TestInstall[] = []

beforeAll(async () => {
  sim = await startSimulator({
    now: START,
    frozenClock: true,
    config: { freeDailyLimit: 3, fallbackDailyLimit: 3, newClientBonus: false, goRequestCostUSD: 0.125, workspaces: workspaces() },
  })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

async function install(config: Record<string, unknown> = {}, target = sim, env: Record<string, string> = {}) {
  const made = await simInstall(target, { config, env })
  installs.push(made)
  return made
}

const now = () => sim.clock.now().getTime()

/** Every key path of a JSON value (`go.windows[].pace.text`); record keys (`free.today.failed.<kind>`) as `*`. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`))
  if (typeof value !== "object" || value === null) return []
  const recordKeys = prefix === "free.today.failed"
  return Object.entries(value).flatMap(([k, v]) => {
    const p = `${prefix}${prefix ? "." : ""}${recordKeys ? "*" : k}`
    return [p, ...keyPaths(v, p)]
  })
}

function schemaOf(schema: z.ZodType, prefix = ""): string[] {
  const inner = schema instanceof z.ZodNullable || schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema
  if (inner instanceof z.ZodArray) return schemaOf(inner.element as z.ZodType, `${prefix}[]`)
  if (inner instanceof z.ZodRecord) return [`${prefix}.*`]
  if (!(inner instanceof z.ZodObject)) return []
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => {
    const p = `${prefix}${prefix ? "." : ""}${k}`
    return [p, ...schemaOf(v, p)]
  })
}
const schemaPaths = new Set(schemaOf(StatusReport))

function turn(env: Record<string, string | undefined>, model: string, sessionID?: string) {
  return quotaTurn({ model, env, now, settings: { thresholds: false }, ...(sessionID ? { sessionID } : {}) })
}

/** `status` in this process, on the simulator's clock. */
async function status(env: Record<string, string | undefined>, ...args: string[]) {
  let stdout = ""
  let stderr = ""
  const io: IO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, readStdin: async () => ({ text: "", truncated: false }) }
  const code = await StatusCmd.run(args, io, { now })
  return { code, stdout, stderr }
}

async function report(env: Record<string, string | undefined>, ...args: string[]) {
  const out = await status(env, "--json", ...args)
  expect(out.code).toBe(0)
  return StatusReport.parse(JSON.parse(out.stdout))
}

describe("status: the anonymous free path", () => {
  test("a day of free requests ending in a refusal, then the UTC rollover", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    for (let i = 0; i < 3; i++) {
      expect((await turn(made.env, "opencode/big-pickle")).ok).toBe(true)
      sim.clock.advance(HOUR)
    }
    expect((await turn(made.env, "opencode/big-pickle")).ok).toBe(false)

    const day = await report(made.env)
    expect(day.free.inUse).toBe(true)
    expect(day.free.today).toEqual({ day: "2026-11-21", sent: 4, answered: 3, failed: { free_usage_limit: 1 } })
    expect(day.free.allowance.limit).toBeNull()
    expect(day.free.lastRefusal).toEqual({ at: "2026-11-21T13:02:57.000Z", resetAt: MIDNIGHT, limitedNow: true })
    expect(day.free.gate.state).toBe("served")
    expect(day.free.dayResetsAt).toBe(MIDNIGHT)
    const text = (await status({ ...made.env, TZ: "UTC" })).stdout
    expect(text).toContain("Today (UTC 2026-11-21): 4 sent by this install, 3 answered, 1 failed (free_usage_limit 1)")
    expect(text).toContain("Free limit: reached, refused at Sat 13:02 (your time); it resets at Sun, 00:00 UTC (your time), in 10 h 57 min.")
    expect(text).toContain("shared by every install on the same network")
    const bar = Waybar.parse(JSON.parse((await status(made.env, "--waybar")).stdout))
    expect(bar).toMatchObject({ text: "Free limit reached", class: "blocked", percentage: 0 })

    sim.clock.set("2026-11-22T00:00:05Z")
    const next = await report(made.env)
    expect(next.free.today).toEqual({ day: "2026-11-22", sent: 0, answered: 0, failed: {} })
    expect(next.free.lastRefusal?.limitedNow).toBe(false)
    expect((await status(made.env)).stdout).toContain("it has reset since")
    expect(Waybar.parse(JSON.parse((await status(made.env, "--waybar")).stdout))).toMatchObject({ text: "Free 0 today", class: "ok" })
  })

  test("the gateway refusing this client (FreeTierError) shows until an anonymous answer comes back", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    // A session id not in OpenCode's shape is what the gateway's client gate refuses.
    const gated = await turn(made.env, "opencode/big-pickle", "not-an-opencode-session")
    expect(gated.ok ? undefined : gated.failure.kind).toBe("free_tier_gated")
    const refused = await report(made.env)
    expect(refused.free.gate).toMatchObject({ state: "refused", kind: "free_tier_gated", refusedAt: START.replace("Z", ".000Z") })
    expect((await status(made.env)).stdout.replace(/\s+/g, " ")).toContain("OpenCode's free tier serves only OpenCode's own app. A saved OpenCode key or Go works.")
    expect(Waybar.parse(JSON.parse((await status(made.env, "--waybar")).stdout)).class).toBe("blocked")
    sim.clock.advance(60_000)
    expect((await turn(made.env, "opencode/big-pickle")).ok).toBe(true)
    expect((await report(made.env)).free.gate.state).toBe("served")
  })
})

describe("status: OpenCode Go and keys", () => {
  test("windows with percent, reset, pace and the blocking window; cached figures are not read again", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install({ pawwork: { quota: { cacheMaxAgeSec: 3600 } } })
    await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
    for (let i = 0; i < 4; i++) expect((await turn(made.env, "opencode-go/glm-5")).ok).toBe(true)
    sim.clock.advance(HOUR)
    const usageReads = () => sim.requests().filter((r) => r.path === "/zen/go/v1/usage").length
    const before = usageReads()
    const go = (await report(made.env)).go
    expect(usageReads()).toBe(before + 1)
    expect(go).toMatchObject({ configured: true, subscribed: true, fromCache: false, error: null, blocking: null, ageSec: 0 })
    expect(go.key).toMatchObject({ providerID: "opencode-go", authSource: "auth" })
    const fiveHour = go.windows.find((w) => w.name === "5 hour")!
    expect(fiveHour).toMatchObject({ percent: 50, status: "ok", resetsAt: "2026-11-21T15:02:57.000Z", blocking: false })
    // 50 % in the first hour of five: at this pace it runs out an hour from now, three before its reset.
    expect(fiveHour.pace).toMatchObject({ runsOutAt: "2026-11-21T12:02:57.000Z", beforeResetSec: 3 * 3600 })
    expect((await status({ ...made.env, TZ: "UTC" })).stdout).toContain("at this rate the 5-hour window runs out Sat 12:02, 3 h before its reset")

    // Within cacheMaxAgeSec the cache answers; --refresh reads again.
    sim.clock.advance(60_000)
    const cached = (await report(made.env)).go
    expect(usageReads()).toBe(before + 1)
    expect(cached).toMatchObject({ fromCache: true, ageSec: 60 })
    for (let i = 0; i < 4; i++) await turn(made.env, "opencode-go/glm-5")
    const blocked = (await report(made.env, "--refresh")).go
    expect(usageReads()).toBe(before + 2)
    expect(blocked.blocking).toBe("5 hour")
    expect(blocked.windows.find((w) => w.name === "5 hour")).toMatchObject({ percent: 100, status: "rate-limited", blocking: true })
    const bar = Waybar.parse(JSON.parse((await status(made.env, "--waybar")).stdout))
    expect(bar).toMatchObject({ class: "blocked", percentage: 100 })
    expect(bar.text).toContain("Go 5-hour blocked")
  })

  test("a Go subscription used through the Zen provider is named as such", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    // Saved for opencode only: opencode-go has no key, and Zen requests are billed to the balance.
    await Auth.set("opencode", { type: "api", key: GO_KEY }, made.env)
    const r = await report(made.env)
    expect(r.keys.find((k) => k.providerID === "opencode")).toMatchObject({ authSource: "auth", keyFingerprint: expect.stringMatching(/^fp_/) })
    expect(r.keys.find((k) => k.providerID === "opencode-go")?.authSource).toBe("public")
    expect(r.go).toMatchObject({ configured: true, subscribed: true, key: { providerID: "opencode" } })
    expect(r.notes.join("\n")).toContain("has an OpenCode Go subscription, but opencode-go has no key of its own")
    expect(r.notes.join("\n")).toContain("billed to the Zen balance, not to Go")
  })

  test("anonymous Zen with a Go key: 'Free usage exceeded' is about the free models, not the subscription", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
    const r = await report(made.env)
    expect(r.free.inUse).toBe(true)
    expect(r.notes.join("\n")).toContain('"Free usage exceeded" there says nothing about your Go subscription')
  })

  test("a key without Go says so", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    await Auth.set("opencode-go", { type: "api", key: ZEN_KEY }, made.env)
    const r = await report(made.env)
    expect(r.go).toMatchObject({ subscribed: false, windows: [], error: { code: "not_subscribed" } })
    expect(r.notes.join("\n")).toContain("has no OpenCode Go subscription")
    expect(Waybar.parse(JSON.parse((await status(made.env, "--waybar")).stdout))).toMatchObject({ text: "Free 0 today", class: "ok" })
  })
})

describe("status: Zen console", () => {
  test("balance, 30-day spend and the Go meters in dollars, with a service-account key", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install({ pawwork: { quota: { console: { apiKeyEnv: "OC_CONSOLE_KEY", baseURL: sim.url } } } }, sim, { OC_CONSOLE_KEY: CONSOLE_KEY })
    await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
    for (let i = 0; i < 2; i++) await turn(made.env, "opencode-go/glm-5")
    const r = await report(made.env, "--refresh")
    expect(r.zen).toMatchObject({ configured: true, balanceUSD: "12.34", spend30dUSD: "3.50", requests30d: 7, error: null, fromCache: false })
    expect(r.go.windows.find((w) => w.name === "5 hour")).toMatchObject({ percent: 25, usedUSD: "0.25", limitUSD: "1.00" })
    // Exactly the schema's fields: nothing undocumented reaches --json.
    const raw = JSON.parse((await status(made.env, "--json")).stdout)
    expect(keyPaths(raw).filter((p) => !schemaPaths.has(p))).toEqual([])
    const text = (await status(made.env)).stdout
    expect(text).toContain("Balance $12.34 · 30-day spend $3.50 (7 requests)")
    expect(text).toContain("$0.25 of $1.00")
  })

  test("another org's console puts no dollars beside this key's Go windows", async () => {
    sim.clock.set(START)
    sim.reset()
    const other = await install()
    await Auth.set("opencode-go", { type: "api", key: OTHER_GO_KEY }, other.env)
    for (let i = 0; i < 6; i++) await turn(other.env, "opencode-go/glm-5")
    const made = await install({ pawwork: { quota: { console: { apiKeyEnv: "OC_CONSOLE_KEY", baseURL: sim.url } } } }, sim, { OC_CONSOLE_KEY: OTHER_CONSOLE_KEY })
    await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
    await turn(made.env, "opencode-go/glm-5")
    const r = await report(made.env, "--refresh")
    expect(r.zen.orgID).toBe("wrk_other")
    expect(r.go.workspaceID).toBe("wrk_status")
    expect(r.go.windows.find((w) => w.name === "5 hour")).toMatchObject({ percent: 12, usedUSD: null, limitUSD: null })
  })

  test("a console key that is not set is named, and nothing else fails", async () => {
    const made = await install({ pawwork: { quota: { console: { apiKeyEnv: "OC_CONSOLE_MISSING", baseURL: sim.url } } } })
    const r = await report(made.env)
    expect(r.zen.error).toMatchObject({ code: "bad_config" })
    expect(r.zen.error?.message).toContain("OC_CONSOLE_MISSING")
  })
})

describe("status through the real CLI", () => {
  test("the usage API down: the cached windows with their age and the failure; nothing secret in any output", async () => {
    const live = await startSimulator({ config: { goRequestCostUSD: 0.125, workspaces: workspaces() } })
    let stopped = false
    try {
      const made = await install({}, live, { OC_CONSOLE_KEY: CONSOLE_KEY })
      await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
      expect((await runCli(["run", "--model", "opencode-go/glm-5", "hello"], made.env)).code).toBe(0)
      const first = await runCli(["status", "--json", "--refresh"], made.env)
      expect(first.code).toBe(0)
      const fresh = StatusReport.parse(JSON.parse(first.stdout))
      expect(fresh.go.windows.find((w) => w.name === "5 hour")?.percent).toBe(12)
      await live.stop()
      stopped = true
      const down = await runCli(["status", "--json", "--refresh"], made.env)
      expect(down.code).toBe(0)
      const cached = StatusReport.parse(JSON.parse(down.stdout))
      expect(cached.go).toMatchObject({ fromCache: true, error: { code: "network" }, fetchedAt: fresh.go.fetchedAt })
      expect(cached.go.windows.find((w) => w.name === "5 hour")?.percent).toBe(12)
      const human = await runCli(["status", "--refresh"], made.env)
      expect(human.code).toBe(0)
      expect(human.stdout).toMatch(/The last read failed \(network, /)
      expect(human.stdout).toContain("Showing the figures read")
      expect(human.stdout).toContain(" 12 %  [#---------]")
      const bar = await runCli(["status", "--waybar"], made.env)
      expect(bar.code).toBe(0)
      const parsed = Waybar.parse(JSON.parse(bar.stdout))
      expect(parsed.text).toBe("Go 12% · Free 0 today")
      expect(bar.stdout.trim().split("\n")).toHaveLength(1)
      // Waybar reads text and tooltip as Pango markup: no bare <, > or &.
      expect(parsed.tooltip).not.toMatch(/<|>|&(?!amp;|lt;|gt;)/)
      const all = [first, down, human, bar].map((o) => o.stdout + o.stderr).join("\n")
      expect(leakedFragments(all, { go: GO_KEY, console: CONSOLE_KEY })).toEqual([])
    } finally {
      if (!stopped) await live.stop()
    }
  }, 30_000)

  test("flags: --json with --waybar, and a positional, are usage errors", async () => {
    const made = await install()
    const both = await runCli(["status", "--json", "--waybar"], made.env)
    expect(both.code).toBe(2)
    expect(both.stderr).toContain("--json and --waybar cannot be combined")
    expect((await runCli(["status", "now"], made.env)).code).toBe(2)
    const help = await runCli(["status", "--help"], made.env)
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--waybar")
  }, 30_000)
})

describe("status: bad input", () => {
  test("a misspelt or out-of-range pawwork.quota setting is refused naming the field", async () => {
    const made = await install({ pawwork: { quota: { threshold: [50] } } })
    const misspelt = await runCli(["status"], made.env)
    expect(misspelt.code).toBe(1)
    expect(misspelt.stderr).toContain('pawwork.quota: unknown field "threshold"; the fields are thresholds, cacheMaxAgeSec and console')
    await made.writeConfig({ pawwork: { quota: { thresholds: [50, 180] } } })
    const high = await runCli(["status", "--json"], made.env)
    expect(high.code).toBe(1)
    expect(high.stderr).toContain("pawwork.quota.thresholds.1")
    expect(JSON.parse(high.stdout).error.code).toBe("config_invalid")
  }, 30_000)

  test("a damaged ledger, and a directory in its place, are named in the notes; status still answers", async () => {
    const made = await install()
    const file = QuotaLedger.filePath(made.env)
    await Bun.write(file, "not json")
    const damaged = await report(made.env)
    expect(damaged.ledger.damaged).toBe("it is not valid JSON")
    expect(damaged.notes.join("\n")).toContain("could not be read (it is not valid JSON); it is replaced on the next request")
    await fs.rm(file)
    await fs.mkdir(file)
    const dir = await report(made.env)
    expect(dir.ledger.damaged).toContain("is a directory")
    expect(dir.notes.join("\n")).toContain("Requests are not counted until it is fixed")
  })

  test("the console's answers and failures leave no trace of its key in the cache or the output", async () => {
    sim.clock.set(START)
    const made = await install({ pawwork: { quota: { console: { apiKeyEnv: "OC_CONSOLE_KEY", baseURL: sim.url } } } }, sim, { OC_CONSOLE_KEY: CONSOLE_KEY })
    await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
    const good = await status(made.env, "--json", "--refresh")
    const wrong = plantedSecret("oc_sk-wrong")
    const bad = await status({ ...made.env, OC_CONSOLE_KEY: wrong }, "--json", "--refresh")
    expect(StatusReport.parse(JSON.parse(bad.stdout)).zen.error?.code).toBe("session_expired")
    const dir = QuotaLedger.dir(made.env)
    const files = await Promise.all((await fs.readdir(dir)).filter((n) => !n.endsWith(".lock")).map((n) => fs.readFile(`${dir}/${n}`, "utf8").catch(() => "")))
    expect(leakedFragments([good.stdout, bad.stdout, ...files].join("\n"), { console: CONSOLE_KEY, wrong, go: GO_KEY })).toEqual([])
  })
})

describe("status: credentials in base URLs", () => {
  test("a token in a base URL's query or userinfo appears nowhere in the report or the cache", async () => {
    sim.clock.set(START)
    const token = plantedSecret("urltoken")
    const password = plantedSecret("urlpass")
    const goURL = new URL(sim.goBaseURL)
    goURL.username = "relay"
    goURL.password = password
    const made = await install({
      provider: { opencode: { options: { baseURL: `${sim.zenBaseURL}?token=${token}` } }, "opencode-go": { options: { baseURL: goURL.toString() } } },
    })
    await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
    const out = [await status(made.env, "--json", "--refresh"), await status(made.env), await status(made.env, "--waybar")].map((o) => o.stdout).join("\n")
    const dir = QuotaLedger.dir(made.env)
    const files = await Promise.all((await fs.readdir(dir)).filter((n) => !n.endsWith(".lock")).map((n) => fs.readFile(`${dir}/${n}`, "utf8").catch(() => "")))
    expect(leakedFragments([out, ...files].join("\n"), { token, password, go: GO_KEY })).toEqual([])
    expect(out).toContain(`"baseURL": "${sim.zenBaseURL}"`)
  })
})

describe("status: a hostile usage API", () => {
  test("control characters and absurd percents are parsed, bounded and printed safely", async () => {
    sim.clock.set(START)
    const window = (status: string, percent: number) => ({ status, percent, resetsAt: "2026-11-21T15:00:00Z" })
    const hostile = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () =>
        Response.json({
          workspaceID: "wrk_\u001b]0;owned\u0007x",
          usage: { rolling: window("\u001b[31mrate-limited\u202e", 1e300), weekly: window("ok", -5), monthly: window("x".repeat(10_000), 42) },
        }),
    })
    try {
      const made = await install({ provider: { "opencode-go": { options: { baseURL: `http://127.0.0.1:${hostile.port}/zen/go/v1` } } } })
      await Auth.set("opencode-go", { type: "api", key: GO_KEY }, made.env)
      const json = await status(made.env, "--json", "--refresh")
      const r = StatusReport.parse(JSON.parse(json.stdout))
      expect(r.go.windows.map((w) => w.percent)).toEqual([1000, 0, 42])
      expect(r.go.windows[2]!.status.length).toBeLessThanOrEqual(32)
      const human = (await status(made.env)).stdout
      const bar = (await status(made.env, "--waybar")).stdout
      for (const out of [json.stdout, human, bar]) expect(out).not.toMatch(/[\u001b\u0007\u202e]/)
      expect(Waybar.parse(JSON.parse(bar)).percentage).toBe(100)
    } finally {
      hostile.stop(true)
    }
  })
})
