import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import { Provider } from "../src/provider"
import { QuotaLedger, QuotaMeters } from "../src/quota"
import type { Config } from "../src/config"
import { leakedFragments } from "./fixture/leaks"
import { plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"
import { quotaTurn } from "./fixture/quota-turn"
import { START } from "./fixture/gateway-accounts"

/**
 * Go windows through the real runtime and the simulator's usage API, on its frozen clock: each Go
 * request costs $0.125 of a $1 5-hour window, so the window reads 12, 25, 37, 50, ... %; the
 * warnings at 50, 80 and 95 % come once each per window period, the reset brings one "restored"
 * notice, and a new period warns again.
 */

const HOUR = 3_600_000
let sim: Simulator
const installs: TestInstall[] = []
const KEY = plantedSecret("sk-gothr")

function goWorkspace(key: string, id: string) {
  return { id, balanceUSD: 0, members: [{ userID: `usr_${id}`, keys: [key], go: { limits: { "5 hour": 1, weekly: 100, monthly: 100 } } }] }
}

beforeAll(async () => {
  sim = await startSimulator({ now: START, frozenClock: true, config: { goRequestCostUSD: 0.125, workspaces: [goWorkspace(KEY, "wrk_gothr")] } })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

async function install(key = KEY, target = sim) {
  const made = await simInstall(target)
  installs.push(made)
  await Auth.set("opencode-go", { type: "api", key }, made.env)
  return made
}

const now = () => sim.clock.now().getTime()
const ALWAYS_STALE: Config.QuotaSettings = { cacheMaxAgeSec: 0 }

function turn(env: Record<string, string | undefined>, warnings: string[], options: { settings?: Config.QuotaSettings; fetch?: typeof fetch; afterProcess?: () => void } = {}) {
  return quotaTurn({
    model: "opencode-go/glm-5",
    env,
    now,
    settings: options.settings ?? ALWAYS_STALE,
    onWarning: (text) => warnings.push(text),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.afterProcess ? { afterProcess: options.afterProcess } : {}),
  })
}

const count = (warnings: string[], text: string) => warnings.filter((w) => w.includes(text)).length

describe("Go windows against the simulator", () => {
  test("crossing 50, 80 and 95 % warns once each; the reset brings one restored notice; a new period warns again", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    const warnings: string[] = []
    for (let i = 0; i < 8; i++) expect((await turn(made.env, warnings)).ok).toBe(true)
    const refused = await turn(made.env, warnings)
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.failure.kind).toBe("go_usage_limit")
    // A few more turns while blocked say nothing new.
    await turn(made.env, warnings)
    expect(count(warnings, "5-hour window is at")).toBe(3)
    expect(count(warnings, "(past 50 %)")).toBe(1)
    expect(count(warnings, "(past 80 %)")).toBe(1)
    expect(count(warnings, "(past 95 %)")).toBe(1)
    expect(warnings.find((w) => w.includes("(past 95 %)"))).toContain("5-hour window is at 100 %")
    expect(count(warnings, "has reset")).toBe(0)

    // The 5-hour block opened at the first spend; five hours later it has reset.
    sim.clock.advance(5 * HOUR)
    expect((await turn(made.env, warnings)).ok).toBe(true)
    expect(count(warnings, "OpenCode Go: your 5-hour window has reset; Go models can be used again.")).toBe(1)
    for (let i = 0; i < 5; i++) expect((await turn(made.env, warnings)).ok).toBe(true)
    expect(count(warnings, "has reset")).toBe(1)
    expect(count(warnings, "(past 50 %)")).toBe(2)
    expect(count(warnings, "(past 80 %)")).toBe(1)

    // The ledger saw every attempt, the refusal with its window and reset.
    const { ledger } = await QuotaLedger.read(QuotaLedger.filePath(made.env))
    expect(ledger.days["2026-11-21"]?.["opencode-go/glm-5 auth"]).toMatchObject({ sent: 16, answered: 14, failed: { go_usage_limit: 2 } })
    expect(ledger.lastRefusals["opencode-go auth go_usage_limit"]).toMatchObject({ limitName: "5 hour", resetAt: "2026-11-21T15:02:57.000Z" })

    // Nothing the quota module wrote holds the key.
    const quotaDir = QuotaLedger.dir(made.env)
    const written: string[] = []
    for (const name of await fs.readdir(quotaDir, { recursive: true })) {
      const file = path.join(quotaDir, name)
      if ((await fs.stat(file)).isFile()) written.push(name, await fs.readFile(file, "utf8"))
    }
    expect(leakedFragments(written.join("\n") + warnings.join("\n"), { key: KEY })).toEqual([])
  })

  test("thresholds: false says nothing; a custom list warns at its own marks", async () => {
    sim.clock.set(START)
    sim.reset()
    const quiet = await install()
    const custom = await install()
    const silent: string[] = []
    const own: string[] = []
    for (let i = 0; i < 3; i++) {
      await turn(quiet.env, silent, { settings: { cacheMaxAgeSec: 0, thresholds: false } })
      await turn(custom.env, own, { settings: { cacheMaxAgeSec: 0, thresholds: [30, 60] } })
    }
    await turn(custom.env, own, { settings: { cacheMaxAgeSec: 0, thresholds: [30, 60] } })
    expect(silent).toEqual([])
    // Both installs spend the one key's window: seven requests, 87 %, past 30 and 60, each said once.
    expect(count(own, "(past 30 %)")).toBe(1)
    expect(count(own, "(past 60 %)")).toBe(1)
    expect(own).toHaveLength(2)
  })

  test("a stale cache is refreshed in the background: the turn is answered before the usage read ends", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    const warnings: string[] = []
    // Spend 75 % first (this turn makes it 87 %), with the cache from before: a 10 % reading, an hour old.
    for (let i = 0; i < 6; i++) await turn(made.env, [], { settings: { cacheMaxAgeSec: 86_400, thresholds: false } })
    const file = QuotaMeters.filePath(made.env)
    const model = await Provider.getModel("opencode-go", "glm-5", made.env)
    const old = new Date(now() - HOUR).toISOString()
    const reset = new Date(now() + 4 * HOUR).toISOString()
    await QuotaMeters.update(file, (cache) => {
      cache.go[QuotaMeters.entryKey(model.provider.credential.fingerprint!, model.provider.baseURL)] = {
        keyFingerprint: model.provider.credential.fingerprint!,
        baseURL: model.provider.baseURL,
        fetchedAt: old,
        attemptedAt: old,
        workspaceID: "wrk_gothr",
        windows: [
          { name: "5 hour", percent: 10, status: "ok", resetsAt: reset },
          { name: "weekly", percent: 1, status: "ok", resetsAt: reset },
          { name: "monthly", percent: 1, status: "ok", resetsAt: reset },
        ],
      }
    })
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let usageRead = false
    const slowUsage = (async (url: string | URL | Request, init?: RequestInit) => {
      await gate
      const res = await fetch(url, init)
      usageRead = true
      return res
    }) as typeof fetch
    let answeredBeforeRead: boolean | undefined
    const result = turn(made.env, warnings, {
      settings: { cacheMaxAgeSec: 60 },
      fetch: slowUsage,
      afterProcess: () => {
        answeredBeforeRead = !usageRead
        release()
      },
    })
    expect((await result).ok).toBe(true)
    expect(answeredBeforeRead).toBe(true)
    expect(usageRead).toBe(true)
    const cached = (await QuotaMeters.read(file)).go
    const entry = Object.values(cached)[0]
    expect(entry?.fetchedAt).toBe(new Date(now()).toISOString())
    expect(entry?.windows?.find((w) => w.name === "5 hour")?.percent).toBe(87)
    expect(count(warnings, "(past 80 %)")).toBe(1)
  })

  test("the usage API down: the turn is answered, the failure is cached beside the last figures, no warning", async () => {
    sim.clock.set(START)
    sim.reset()
    const dead = await startSimulator()
    const deadURL = dead.url
    await dead.stop()
    const made = await install()
    const warnings: string[] = []
    const down = ((url: string | URL | Request, init?: RequestInit) => fetch(String(url).replace(sim.url, deadURL), init)) as typeof fetch
    for (let i = 0; i < 2; i++) expect((await turn(made.env, warnings, { fetch: down })).ok).toBe(true)
    expect(warnings).toEqual([])
    const entry = Object.values((await QuotaMeters.read(QuotaMeters.filePath(made.env))).go)[0]
    expect(entry?.fetchedAt).toBeUndefined()
    expect(entry?.error?.code).toBe("network")
  })

  test("two processes crossing the same threshold warn once in total", async () => {
    // A live clock: the CLI runs in its own processes on real time.
    const live = await startSimulator({ config: { goRequestCostUSD: 0.85, workspaces: [goWorkspace(KEY, "wrk_gotwo")] } })
    try {
      const made = await install(KEY, live)
      await made.writeConfig({
        pawwork: { quota: { cacheMaxAgeSec: 0 } },
        provider: { opencode: { options: { baseURL: live.zenBaseURL } }, "opencode-go": { options: { baseURL: live.goBaseURL } } },
      })
      // 85 % spent before (that run's own markers are then removed), then each run adds 1 %: both
      // runs see 85-87 %, past 80 only.
      const spend = await runCli(["run", "--model", "opencode-go/glm-5", "hello"], made.env)
      expect(spend.code).toBe(0)
      await fs.rm(QuotaLedger.dir(made.env), { recursive: true, force: true })
      live.configure({ goRequestCostUSD: 0.01 })
      const [a, b] = await Promise.all([
        runCli(["run", "--model", "opencode-go/glm-5", "hello"], made.env),
        runCli(["run", "--model", "opencode-go/glm-5", "hello"], made.env),
      ])
      expect([a.code, b.code]).toEqual([0, 0])
      const said = (a.stderr + b.stderr).split("\n").filter((l) => l.startsWith("OpenCode Go:"))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/^OpenCode Go: your 5-hour window is at 8[5-7] % \(past 80 %\); it resets at /)
      // Both processes' counts are in the one ledger.
      const { ledger } = await QuotaLedger.read(QuotaLedger.filePath(made.env))
      const rows = Object.values(ledger.days).flatMap((d) => Object.values(d))
      expect(rows.reduce((n, r) => n + r.sent, 0)).toBe(2)
    } finally {
      await live.stop()
    }
  }, 30_000)
})
