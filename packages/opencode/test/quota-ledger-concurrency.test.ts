import { afterAll, beforeAll, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { QuotaLedger } from "../src/quota"
import { StatusReport } from "../src/quota/status-schema"
import { runCli, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"

/**
 * Many `cli run` processes at once on one install, as a desktop host with several windows (or a
 * script) makes them: each counts its request in the same ledger. A reviewer's run of 50 lost 14
 * counts, each with a lock-timeout line on stderr: the ledger must keep every count, and a user's
 * stderr must carry nothing about its locking.
 */

const PROCESSES = 50
let sim: Simulator
let made: TestInstall

beforeAll(async () => {
  sim = await startSimulator({ config: { freeDailyLimit: 1_000, fallbackDailyLimit: 1_000, newClientBonus: false } })
  made = await simInstall(sim)
})
afterAll(async () => {
  await sim.stop()
  await made.cleanup()
})

test(
  `${PROCESSES} concurrent cli run processes: every request counted, no lock noise on stderr`,
  async () => {
    // The install token is made once beforehand, as a real install has it, so the runs only share the ledger.
    expect((await runCli(["identity"], made.env)).code).toBe(0)
    const runs = await Promise.all(Array.from({ length: PROCESSES }, () => runCli(["run", "Say hello"], made.env)))
    expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0))
    expect(sim.requests().filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(PROCESSES)

    // The runs may straddle UTC midnight: every day is summed.
    const { ledger, damaged } = await QuotaLedger.read(QuotaLedger.filePath(made.env))
    expect(damaged).toBeUndefined()
    const rows = Object.values(ledger.days).flatMap((day) => Object.values(day))
    const counted = { sent: rows.reduce((n, r) => n + r.sent, 0), answered: rows.reduce((n, r) => n + r.answered, 0) }
    const stderr = runs.flatMap((r) => r.stderr.split("\n").filter(Boolean))
    expect({ ...counted, stderr }).toEqual({ sent: PROCESSES, answered: PROCESSES, stderr: [] })

    // What a user sees: status counts them too.
    const status = await runCli(["status", "--json"], made.env)
    expect(status.code).toBe(0)
    const report = StatusReport.parse(JSON.parse(status.stdout))
    const today = ledger.days[report.free.today.day] ?? {}
    expect(report.free.today.sent).toBe(Object.values(today).reduce((n, r) => n + r.sent, 0))
    expect(report.ledger.damaged).toBeNull()
  },
  240_000,
)
