import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import { QuotaLedger, QuotaRecorder } from "../src/quota"
import { leakedFragments } from "./fixture/leaks"
import { plantedSecret, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"
import { quotaTurn } from "./fixture/quota-turn"
import { MIDNIGHT, START } from "./fixture/gateway-accounts"

/**
 * The ledger through the real runtime: provider resolution, the ai SDK over HTTP to the simulator,
 * the processor with the quota hooks as `cli run` wires them, the simulator's frozen clock. A day
 * of anonymous free requests ends in the gateway's refusal; the UTC rollover opens a new day.
 */

const HOUR = 3_600_000
let sim: Simulator
const installs: TestInstall[] = []

beforeAll(async () => {
  sim = await startSimulator({ now: START, frozenClock: true, config: { freeDailyLimit: 3, fallbackDailyLimit: 3, newClientBonus: false } })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

async function install() {
  const made = await simInstall(sim)
  installs.push(made)
  return made
}

const now = () => sim.clock.now().getTime()

function turn(env: Record<string, string | undefined>, model = "opencode/big-pickle") {
  return quotaTurn({ model, env, now })
}

async function ledgerOf(made: TestInstall) {
  return QuotaLedger.read(QuotaLedger.filePath(made.env))
}

describe("quota ledger against the simulator", () => {
  test("a day of free requests ending in a refusal, then the UTC rollover", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    for (let i = 0; i < 3; i++) {
      expect((await turn(made.env)).ok).toBe(true)
      sim.clock.advance(HOUR)
    }
    const refused = await turn(made.env)
    expect(refused.ok).toBe(false)
    if (refused.ok) return
    expect(refused.failure.kind).toBe("free_usage_limit")

    const day = (await ledgerOf(made)).ledger
    expect(day.days["2026-11-21"]?.["opencode/big-pickle public"]).toEqual({
      providerID: "opencode",
      modelID: "big-pickle",
      authSource: "public",
      sent: 4,
      answered: 3,
      failed: { free_usage_limit: 1 },
    })
    const refusal = day.lastRefusals["opencode public free_usage_limit"]
    expect(refusal?.resetAt).toBe(MIDNIGHT)
    expect(refusal?.at).toBe("2026-11-21T13:02:57.000Z")
    expect(day.lastAnswered["opencode public"]?.at).toBe("2026-11-21T12:02:57.000Z")

    // Past UTC midnight the gateway serves again, and the ledger opens a new day.
    sim.clock.set("2026-11-22T00:00:05Z")
    expect((await turn(made.env)).ok).toBe(true)
    const next = (await ledgerOf(made)).ledger
    expect(next.days["2026-11-22"]?.["opencode/big-pickle public"]).toMatchObject({ sent: 1, answered: 1, failed: {} })
    expect(next.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent).toBe(4)
    expect(next.lastRefusals["opencode public free_usage_limit"]?.resetAt).toBe(MIDNIGHT)
  })

  test("the file is 0600, holds no key, install token or prompt", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    const key = plantedSecret("sk-ledger")
    await Auth.set("opencode", { type: "api", key }, made.env)
    sim.configure({ workspaces: [{ id: "wrk_ledger", balanceUSD: 10, members: [{ userID: "usr_ledger", keys: [key] }] }] })
    expect((await turn(made.env, "opencode/claude-sonnet-4-5")).ok).toBe(true)
    const file = QuotaLedger.filePath(made.env)
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600)
    const text = await fs.readFile(file, "utf8")
    const token = JSON.parse(await fs.readFile(path.join(made.dataDir, "install.json"), "utf8")).token as string
    expect(leakedFragments(text, { key, token })).toEqual([])
    expect(text).not.toContain("hello")
    expect(text).toContain('"authSource":"auth"')
  })

  test("a damaged ledger is moved aside and replaced with a note; the request is not affected", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    const file = QuotaLedger.filePath(made.env)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, '{"version":1,"days":{"2026-11-21":{"x":{"sent":"many"')
    expect((await turn(made.env)).ok).toBe(true)
    const { ledger, damaged } = await ledgerOf(made)
    expect(damaged).toBeUndefined()
    expect(ledger.notes).toHaveLength(1)
    expect(ledger.notes[0]?.text).toContain("could not be read (it is not valid JSON)")
    expect(ledger.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent).toBe(1)
    expect(await fs.readFile(path.join(path.dirname(file), QuotaLedger.DAMAGED_NAME), "utf8")).toContain('"sent":"many"')
  })

  test("a ledger that cannot be written is reported once and never fails a request", async () => {
    sim.clock.set(START)
    sim.reset()
    const made = await install()
    // A file where the quota folder should be: nothing can be created under it, even as root.
    await fs.mkdir(made.dataDir, { recursive: true })
    await fs.writeFile(QuotaLedger.dir(made.env), "not a folder")
    const said: string[] = []
    const recorder = new QuotaRecorder.Recorder({ file: QuotaLedger.filePath(made.env), onError: (m) => said.push(m), delayMs: 0 })
    for (let i = 0; i < 3; i++) recorder.record({ at: now(), providerID: "opencode", modelID: "big-pickle", authSource: "public", outcome: "answered" })
    await recorder.flush()
    recorder.record({ at: now(), providerID: "opencode", modelID: "big-pickle", authSource: "public", outcome: "answered" })
    await recorder.flush()
    expect(said).toHaveLength(1)
    expect(said[0]).toContain("could not update its quota ledger")
    expect(said[0]).toContain("is a file, not a folder); requests are not affected")
    expect(recorder.dropped).toBe(4)
    // The same through the turn hooks: the answer arrives.
    expect((await turn(made.env)).ok).toBe(true)
  })

  test("concurrent turns keep every count (one ledger write at a time)", async () => {
    sim.clock.set(START)
    sim.reset()
    sim.configure({ freeDailyLimit: 100, fallbackDailyLimit: 100 })
    try {
      const made = await install()
      await Promise.all(Array.from({ length: 6 }, () => turn(made.env)))
      expect((await ledgerOf(made)).ledger.days["2026-11-21"]?.["opencode/big-pickle public"]).toMatchObject({ sent: 6, answered: 6 })
    } finally {
      sim.configure({ freeDailyLimit: 3, fallbackDailyLimit: 3 })
    }
  })
})
