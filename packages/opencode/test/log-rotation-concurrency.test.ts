import { afterAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import * as JsonlLog from "../src/util/jsonl-log"

/**
 * Rotation under concurrent writers, with real processes: 50 `bun` processes, each running the real
 * log writer, append at once to a log whose live file is full. Every record is accounted for: the
 * new ones all present, the old ones all present except the oldest file's, which is what the
 * documented retention drops at a rotation (docs/diagnostics.md).
 */

const CHILD = path.join(import.meta.dir, "fixture", "log-writer-process.ts")
const PROCESSES = 50

const roots: string[] = []
afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))))

interface Line {
  kind: "old" | "new"
  file?: number
  worker?: number
  seq: number
}

const key = (l: Line) => (l.kind === "old" ? `old ${l.file} ${l.seq}` : `new ${l.worker} ${l.seq}`)

/** Fills the live file and `name.1` … `name.<files - 1>` to just under the cap; returns each file's records. */
async function seedHistory(file: string, maxBytes: number, files: number) {
  const seeded = new Map<number, string[]>()
  for (let n = 0; n < files; n++) {
    const lines: string[] = []
    let bytes = 0
    for (let seq = 0; ; seq++) {
      const line = JSON.stringify({ kind: "old", file: n, seq, pad: "o".repeat(100) }) + "\n"
      if (bytes + line.length > maxBytes) break
      lines.push(line)
      bytes += line.length
    }
    await fs.writeFile(JsonlLog.rotatedName(file, n), lines.join(""), { mode: 0o600 })
    seeded.set(n, lines.map((l) => key(JSON.parse(l) as Line)))
  }
  return seeded
}

/** Starts every process, waits until all are loaded, then releases them together. */
async function writeConcurrently(file: string, maxBytes: number, keep: number, records: number) {
  const procs = Array.from({ length: PROCESSES }, (_, worker) =>
    Bun.spawn(["bun", CHILD, file, String(maxBytes), String(keep), String(worker), String(records)], { stdin: "pipe", stdout: "pipe", stderr: "pipe" }),
  )
  try {
    await Promise.all(
      procs.map(async (proc) => {
        const first = await proc.stdout.getReader().read()
        expect(new TextDecoder().decode(first.value)).toContain("ready")
      }),
    )
    for (const proc of procs) {
      proc.stdin.write("go\n")
      await proc.stdin.end()
    }
    const results = await Promise.all(procs.map(async (proc) => ({ code: await proc.exited, stderr: await new Response(proc.stderr).text() })))
    expect(results.filter((r) => r.code !== 0 || r.stderr)).toEqual([])
  } finally {
    for (const proc of procs) if (proc.exitCode === null) proc.kill()
  }
}

/** Every log file present, by rotation number, with its parsed lines. */
async function readLog(dir: string, file: string) {
  const byNumber = new Map<number, Line[]>()
  const base = path.basename(file, ".jsonl")
  for (const name of await fs.readdir(dir)) {
    const match = new RegExp(`^${base}(?:\\.(\\d+))?\\.jsonl$`).exec(name)
    if (!match) continue
    const text = await fs.readFile(path.join(dir, name), "utf8")
    expect(text.endsWith("\n")).toBe(true)
    // A blank line is no record (readers skip it): a writer that saw another's line half written
    // closes it off with a newline of its own. Every other line must be a whole record.
    const lines = text.split("\n").filter((l) => l !== "")
    byNumber.set(Number(match[1] ?? 0), lines.map((l) => JSON.parse(l) as Line))
  }
  return byNumber
}

async function tempLog() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-rotation-"))
  roots.push(dir)
  return { dir, file: path.join(dir, "provider.jsonl") }
}

describe("50 processes writing across the rotation boundary", () => {
  test("a full live log at the real limits: one rotation, only the oldest file is dropped, every new record is kept", async () => {
    const { dir, file } = await tempLog()
    // The shipped 5 MiB × (live + 3 old): the review's repro lost all ~20 MiB of history this way.
    const maxBytes = JsonlLog.MAX_BYTES
    const keep = JsonlLog.KEEP
    const seeded = await seedHistory(file, maxBytes, keep + 1)
    await writeConcurrently(file, maxBytes, keep, 2)

    const log = await readLog(dir, file)
    expect([...log.keys()].sort()).toEqual([0, 1, 2, 3])
    // The old files each moved up by one, whole and in order; the oldest (`.3`) is gone.
    for (let n = 0; n < keep; n++) expect(log.get(n + 1)!.map(key)).toEqual(seeded.get(n)!)
    // All 100 new records, each once, in the new live file.
    const live = log.get(0)!
    expect(live.every((l) => l.kind === "new")).toBe(true)
    const expected = Array.from({ length: PROCESSES }, (_, w) => [0, 1].map((seq) => `new ${w} ${seq}`)).flat()
    expect(live.map(key).sort()).toEqual(expected.sort())
    // Records of one process stay in the order it wrote them.
    for (let w = 0; w < PROCESSES; w++) expect(live.filter((l) => l.worker === w).map((l) => l.seq)).toEqual([0, 1])
  }, 120_000)

  test("many rotations in a row lose nothing when the retention keeps every file", async () => {
    const { dir, file } = await tempLog()
    const maxBytes = 16 * 1024
    const keep = 40
    const seeded = await seedHistory(file, maxBytes, 4)
    const records = 20
    await writeConcurrently(file, maxBytes, keep, records)

    const log = await readLog(dir, file)
    const numbers = [...log.keys()].sort((a, b) => a - b)
    // ~170 KB of new records through a 16 KiB cap: many rotations, none skipped or doubled.
    expect(numbers).toEqual(numbers.map((_, i) => i))
    expect(numbers.length).toBeGreaterThan(8)
    expect(numbers.length).toBeLessThanOrEqual(keep + 1)
    const all = numbers.toReversed().flatMap((n) => log.get(n)!)
    // Oldest first: the whole history, untouched, then only new records.
    const history = [3, 2, 1, 0].flatMap((n) => seeded.get(n)!)
    expect(all.slice(0, history.length).map(key)).toEqual(history)
    const fresh = all.slice(history.length)
    expect(fresh.every((l) => l.kind === "new")).toBe(true)
    const expected = Array.from({ length: PROCESSES }, (_, w) => Array.from({ length: records }, (_, seq) => `new ${w} ${seq}`)).flat()
    expect(fresh.map(key).sort()).toEqual(expected.sort())
    // A file passes the cap only by lines that were on their way in while it was being rotated.
    const line = JSON.stringify({ kind: "new", worker: 49, seq: 19, pad: "n".repeat(120) }).length + 1
    for (const n of numbers) {
      const size = (await fs.stat(JsonlLog.rotatedName(file, n))).size
      expect(size).toBeLessThanOrEqual(maxBytes + PROCESSES * line)
    }
  }, 120_000)
})
