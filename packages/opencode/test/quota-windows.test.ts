import { afterAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { QuotaAlerts, QuotaLedger, QuotaRecorder, QuotaWindows } from "../src/quota"

/** The pure parts of the quota module: thresholds, the blocking window, pace, period keys; and the O_EXCL marker. */

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.parse("2026-11-21T10:00:00Z")
const iso = (ms: number) => new Date(ms).toISOString()

describe("thresholds and blocking", () => {
  test("crossed lists the marks at or below the percent, ascending, once each", () => {
    expect(QuotaWindows.crossed(49, [50, 80, 95])).toEqual([])
    expect(QuotaWindows.crossed(50, [95, 50, 80, 50])).toEqual([50])
    expect(QuotaWindows.crossed(100, [50, 80, 95])).toEqual([50, 80, 95])
  })

  test("the blocking window is the first spent one in the gateway's order (weekly, monthly, 5 hour)", () => {
    const later = iso(NOW + HOUR)
    const windows = [
      { name: "5 hour" as const, percent: 100, status: "rate-limited", resetsAt: later },
      { name: "weekly" as const, percent: 100, status: "rate-limited", resetsAt: later },
      { name: "monthly" as const, percent: 40, status: "ok", resetsAt: later },
    ]
    expect(QuotaWindows.blocking(windows, NOW)?.name).toBe("weekly")
    expect(QuotaWindows.blocking([windows[0]!, windows[2]!], NOW)?.name).toBe("5 hour")
    // A window whose reset has passed blocks nothing any more.
    expect(QuotaWindows.blocking([{ ...windows[1]!, resetsAt: iso(NOW - 1) }], NOW)).toBeUndefined()
    expect(QuotaWindows.blocking([windows[2]!], NOW)).toBeUndefined()
  })

  test("the period key is the reset to the hour: a second of jitter names the same period", () => {
    const reset = Date.parse("2026-11-23T00:00:00Z")
    expect(QuotaWindows.periodKey(reset - 1000)).toBe(QuotaWindows.periodKey(reset + 1000))
    expect(QuotaWindows.periodKey(iso(reset))).toBe("2026112300")
    expect(QuotaWindows.periodKey(reset + 5 * HOUR)).not.toBe(QuotaWindows.periodKey(reset))
  })
})

describe("pace", () => {
  test("half the weekly window used in a quarter of it runs out before the reset", () => {
    // Opened 42 h ago (a quarter of 7 days), reset in 126 h: 50 % used → 100 % 42 h from now.
    const p = QuotaWindows.pace({ name: "weekly", percent: 50, resetsAt: iso(NOW + 126 * HOUR) }, NOW)
    expect(p?.runsOutAt).toBe(NOW + 42 * HOUR)
    expect(p?.beforeResetMs).toBe(84 * HOUR)
  })

  test("a slow pace lasts until the reset, with the percent reached by then", () => {
    const p = QuotaWindows.pace({ name: "weekly", percent: 10, resetsAt: iso(NOW + 126 * HOUR) }, NOW)
    expect(p).toEqual({ runsOutAt: null, beforeResetMs: null, atResetPercent: 40 })
  })

  test("no pace without use, when spent, or too early in the window to mean anything", () => {
    expect(QuotaWindows.pace({ name: "5 hour", percent: 0, resetsAt: iso(NOW + HOUR) }, NOW)).toBeNull()
    expect(QuotaWindows.pace({ name: "5 hour", percent: 100, resetsAt: iso(NOW + HOUR) }, NOW)).toBeNull()
    expect(QuotaWindows.pace({ name: "monthly", percent: 5, resetsAt: iso(NOW + 30 * DAY - HOUR) }, NOW)).toBeNull()
    expect(QuotaWindows.pace({ name: "5 hour", percent: 20, resetsAt: iso(NOW - 1) }, NOW)).toBeNull()
  })
})

describe("markers", () => {
  const roots: string[] = []
  afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))))

  test("of many concurrent claims of one marker exactly one wins", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-alerts-"))
    roots.push(root)
    const dir = QuotaAlerts.dir(root)
    const name = QuotaAlerts.thresholdName("fp_0123456789ab", "weekly", iso(NOW + DAY), 80)
    const results = await Promise.all(Array.from({ length: 20 }, () => QuotaAlerts.claim(dir, name)))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect((await fs.stat(path.join(dir, name))).mode & 0o777).toBe(0o600)
  })

  test("scan finds blocked windows with their exact reset and removes markers older than any window", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-alerts-"))
    roots.push(root)
    const dir = QuotaAlerts.dir(root)
    const reset = NOW + 90 * 60_000
    const blocked = QuotaAlerts.blockedName("fp_0123456789ab", "5 hour", reset)
    await QuotaAlerts.claim(dir, blocked, iso(reset))
    const old = QuotaAlerts.thresholdName("fp_0123456789ab", "monthly", iso(NOW - 60 * DAY), 50)
    await QuotaAlerts.claim(dir, old)
    const then = new Date(NOW - 50 * DAY)
    await fs.utimes(path.join(dir, old), then, then)
    await fs.writeFile(path.join(dir, "unrelated"), "x")
    const scanned = await QuotaAlerts.scan(dir, NOW)
    expect(scanned.blocked).toEqual([{ name: blocked, fingerprint: "fp_0123456789ab", window: "5 hour", resetsAt: reset }])
    expect([...scanned.names]).toEqual([blocked])
    expect(await fs.readdir(dir)).not.toContain(old)
  })
})

describe("ledger bounds", () => {
  test("days past KEEP_DAYS are dropped; rows past the cap of a day are counted under (other)", () => {
    const ledger = QuotaLedger.empty()
    const event = (at: number, modelID: string): QuotaLedger.Event => ({ at, providerID: "opencode", modelID, authSource: "public", outcome: "answered" })
    QuotaLedger.apply(ledger, event(NOW - 40 * DAY, "old"))
    for (let i = 0; i < QuotaLedger.MAX_ROWS_PER_DAY + 3; i++) QuotaLedger.apply(ledger, event(NOW, `m${i}`))
    QuotaLedger.prune(ledger, NOW)
    expect(Object.keys(ledger.days)).toEqual(["2026-11-21"])
    const today = ledger.days["2026-11-21"]!
    expect(Object.keys(today)).toHaveLength(QuotaLedger.MAX_ROWS_PER_DAY + 1)
    expect(today[`opencode/${QuotaLedger.OTHER_MODEL} public`]?.sent).toBe(3)
    expect(QuotaLedger.parse(JSON.stringify(ledger)).damaged).toBeUndefined()
  })

  test("a ledger of another shape reads as damaged, naming where", () => {
    expect(QuotaLedger.parse("[]").damaged).toContain("(top level)")
    expect(QuotaLedger.parse('{"version":1,"days":{"x":{}},"lastRefusals":{},"lastAnswered":{},"notes":[]}').damaged).toContain("days.x")
  })
})

describe("recorder", () => {
  const roots: string[] = []
  afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))))
  const event = (at: number): QuotaLedger.Event => ({ at, providerID: "opencode", modelID: "big-pickle", authSource: "public", outcome: "answered" })

  test("a burst past FOLD_AT is counted in full and held as counts, not events", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-recorder-"))
    roots.push(root)
    const file = path.join(root, "quota", QuotaLedger.FILE_NAME)
    const recorder = new QuotaRecorder.Recorder({ file, now: () => NOW, delayMs: 60_000 })
    for (let i = 0; i < QuotaRecorder.FOLD_AT * 2 + 7; i++) recorder.record(event(NOW + i))
    await recorder.flush()
    const { ledger } = await QuotaLedger.read(file)
    expect(ledger.days["2026-11-21"]?.["opencode/big-pickle public"]).toMatchObject({ sent: QuotaRecorder.FOLD_AT * 2 + 7, answered: QuotaRecorder.FOLD_AT * 2 + 7 })
    expect(recorder.dropped).toBe(0)
  })

  test("while another process holds the ledger nothing waits or is said: the counts are pending, shown, and merged after", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-recorder-"))
    roots.push(root)
    const file = path.join(root, "quota", QuotaLedger.FILE_NAME)
    await fs.mkdir(path.dirname(file), { recursive: true })
    // A live holder: this process's own pid, fresh, so the lock is never taken for stale.
    await fs.writeFile(`${file}.lock`, `${process.pid} ${new Date().toISOString()}\n`)
    const said: string[] = []
    const recorder = new QuotaRecorder.Recorder({ file, now: () => NOW, delayMs: 60_000, onError: (m) => said.push(m) })
    for (let i = 0; i < 3; i++) recorder.record(event(NOW))
    await recorder.flush()
    recorder.record(event(NOW))
    await recorder.flush()
    expect(said).toEqual([])
    expect(await fs.exists(file)).toBe(false)
    const pending = QuotaLedger.pendingDir(file)
    expect(await fs.readdir(pending)).toHaveLength(2)
    for (const name of await fs.readdir(pending)) expect((await fs.stat(path.join(pending, name))).mode & 0o777).toBe(0o600)
    expect((await QuotaLedger.read(file)).ledger.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent).toBe(4)
    await fs.rm(`${file}.lock`)
    recorder.record(event(NOW))
    await recorder.flush()
    expect(JSON.parse(await fs.readFile(file, "utf8")).days["2026-11-21"]["opencode/big-pickle public"].sent).toBe(5)
    expect(await fs.readdir(pending)).toEqual([])
    expect((await QuotaLedger.read(file)).ledger.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent).toBe(5)
    expect(recorder.dropped).toBe(0)
  })

  test("a ledger.json that cannot be replaced loses no count: said once, the batches wait and are shown", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-recorder-"))
    roots.push(root)
    const file = path.join(root, "quota", QuotaLedger.FILE_NAME)
    await fs.mkdir(file, { recursive: true })
    const said: string[] = []
    const recorder = new QuotaRecorder.Recorder({ file, now: () => NOW, delayMs: 60_000, onError: (m) => said.push(m) })
    for (let round = 0; round < 2; round++) {
      recorder.record(event(NOW))
      await recorder.flush()
    }
    expect(said).toHaveLength(1)
    expect(said[0]).toContain("is a directory")
    expect(said[0]).toContain(`the counts wait beside it in ${QuotaLedger.PENDING_DIR}/`)
    expect(recorder.dropped).toBe(0)
    expect(await fs.readdir(QuotaLedger.pendingDir(file))).toHaveLength(2)
    await fs.rm(file, { recursive: true })
    expect((await QuotaLedger.read(file)).ledger.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent).toBe(2)
  })

  test("a merge that died before deleting its batches counts them once; a damaged batch is moved aside with a note", async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-recorder-"))
    roots.push(root)
    const file = path.join(root, "quota", QuotaLedger.FILE_NAME)
    const counts = (n: number) => {
      const ledger = QuotaLedger.empty()
      for (let i = 0; i < n; i++) QuotaLedger.apply(ledger, event(NOW))
      return ledger
    }
    const sent = async () => (await QuotaLedger.read(file)).ledger.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent
    await QuotaLedger.append(file, counts(2), NOW)
    const pending = QuotaLedger.pendingDir(file)
    const [first] = await fs.readdir(pending)
    // What a merge killed between writing ledger.json and deleting the batch leaves behind.
    await QuotaLedger.compact(file, NOW)
    await fs.writeFile(path.join(pending, first!), JSON.stringify(counts(2)))
    expect(await sent()).toBe(2)
    await QuotaLedger.append(file, counts(3), NOW)
    const damaged = `${String(NOW).padStart(13, "0")}-1-${"0".repeat(16)}.json`
    await fs.writeFile(path.join(pending, damaged), '{"version":1,"days":')
    // Temp files of writers killed before their rename: an old one is removed, a fresh one may still be written.
    const [old, fresh] = ["a", "b"].map((x) => path.join(pending, `${damaged.replace("-1-", "-2-")}.2.${x.repeat(16)}.tmp`))
    await fs.writeFile(old!, "{")
    await fs.utimes(old!, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000))
    await fs.writeFile(fresh!, "{")
    expect(await sent()).toBe(5)
    await QuotaLedger.compact(file, NOW)
    expect(await fs.readdir(pending)).toEqual([path.basename(fresh!)])
    const { ledger } = await QuotaLedger.read(file)
    expect(ledger.days["2026-11-21"]?.["opencode/big-pickle public"]?.sent).toBe(5)
    expect(ledger.notes.map((n) => n.text)).toEqual([
      `A batch of counts (${damaged}) could not be read (it is not valid JSON) and was left out; it is kept as ${QuotaLedger.DAMAGED_BATCH_NAME}.`,
    ])
    expect(await fs.readFile(path.join(path.dirname(file), QuotaLedger.DAMAGED_BATCH_NAME), "utf8")).toBe('{"version":1,"days":')
  })
})
