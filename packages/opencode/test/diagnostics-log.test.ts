import { afterAll, describe, expect, spyOn, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import * as JsonlLog from "../src/util/jsonl-log"
import * as JsonlRead from "../src/util/jsonl-read"
import * as DiagnosticsRead from "../src/session/diagnostics-read"
import { SessionDiagnostics } from "../src/session"
import { parseSince } from "../src/cli/cmd/diagnose"
import { UsageError } from "../src/cli/args"

/** The appender (rotation, batching, torn lines, unwritable logs) and the damaged-log reader. */

const roots: string[] = []
afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))))

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-diaglog-"))
  roots.push(dir)
  return dir
}

function record(seq: number, extra: Partial<SessionDiagnostics.Failure> = {}): SessionDiagnostics.Failure {
  return {
    event: "provider.failure",
    time: new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + seq).toISOString(),
    sessionID: "ses_log",
    requestID: `msg_${seq}`,
    providerID: "opencode",
    modelID: "big-pickle",
    baseURL: "http://127.0.0.1:1/zen/v1",
    authSource: "public",
    installHeaderSent: true,
    attempt: 1,
    runtimeVersion: "0.1.0",
    kind: "overloaded",
    retryable: true,
    action: "retry",
    nextRetryMs: 2000,
    statusCode: 529,
    ...extra,
  }
}

async function allLines(files: string[]) {
  const out: string[] = []
  for (const file of files) for await (const line of JsonlRead.lines(file)) if (line.ok) out.push(line.text)
  return out
}

describe("rotation", () => {
  test("keeps every file under the cap and at most `keep` old files, newest records last", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const writer = new JsonlLog.Writer({ file, maxBytes: 4096, keep: 2 })
    // Several flushes so batches land in many separate writes, not one.
    for (let seq = 0; seq < 600; seq++) {
      writer.append(record(seq))
      if (seq % 37 === 0) await writer.flush()
    }
    await writer.flush()
    const names = (await fs.readdir(dir)).sort()
    expect(names).toEqual(["provider.1.jsonl", "provider.2.jsonl", "provider.jsonl"])
    for (const name of names) {
      const size = (await fs.stat(path.join(dir, name))).size
      expect(size).toBeGreaterThan(0)
      expect(size).toBeLessThanOrEqual(4096)
    }
    const files = await DiagnosticsRead.logFiles(dir)
    expect(files.map((f) => path.basename(f))).toEqual(["provider.2.jsonl", "provider.1.jsonl", "provider.jsonl"])
    // Oldest first across the rotated files: one contiguous run ending at the last record written.
    const seqs = (await allLines(files)).map((l) => Number((JSON.parse(l) as { requestID: string }).requestID.slice(4)))
    expect(seqs.at(-1)).toBe(599)
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i))
    expect(seqs.length).toBeLessThan(600)
    expect(writer.dropped).toBe(0)
  })

  test("a rotation lock held by a stuck process: the batch goes into the full file, nothing is rotated or lost", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const old = JSON.stringify(record(0)) + "\n"
    await fs.writeFile(file, old.repeat(Math.floor(2048 / old.length)))
    await fs.writeFile(path.join(dir, "provider.1.jsonl"), old)
    // Fresh and owned by a running process (this one): never broken, so the writer has to give up waiting.
    await fs.writeFile(`${file}.lock`, `${process.pid} ${new Date().toISOString()}\n`)
    const writer = new JsonlLog.Writer({ file, maxBytes: 2048, keep: 1, rotateWaitMs: 50 })
    writer.append(record(1))
    await writer.flush()
    expect(writer.dropped).toBe(0)
    expect((await allLines([file])).at(-1)).toBe(JSON.stringify(record(1)))
    expect(await allLines([path.join(dir, "provider.1.jsonl")])).toEqual([old.trim()])
  })

  test("a rotation that cannot be done (a folder where the old file goes): the batch goes into the full file", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const old = JSON.stringify(record(0)) + "\n"
    await fs.writeFile(file, old.repeat(Math.floor(2048 / old.length)))
    await fs.mkdir(path.join(dir, "provider.1.jsonl"))
    await fs.writeFile(path.join(dir, "provider.1.jsonl", "keep"), "")
    const messages: string[] = []
    const writer = new JsonlLog.Writer({ file, maxBytes: 2048, keep: 1, onError: (m) => messages.push(m) })
    writer.append(record(1))
    await writer.flush()
    expect(writer.dropped).toBe(0)
    expect(messages).toEqual([])
    expect((await allLines([file])).at(-1)).toBe(JSON.stringify(record(1)))
  })

  test("a record larger than a whole file is dropped and counted, not written", async () => {
    const dir = await tempDir()
    const writer = new JsonlLog.Writer({ file: path.join(dir, "provider.jsonl"), maxBytes: 1024, keep: 1 })
    writer.append({ big: "x".repeat(5000) })
    writer.append(record(1))
    await writer.flush()
    expect(writer.dropped).toBe(1)
    expect(await allLines([path.join(dir, "provider.jsonl")])).toHaveLength(1)
  })
})

describe("the writer never blocks the event loop", () => {
  test("following the live file between batches is an async stat, not statSync", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const writer = new JsonlLog.Writer({ file, maxBytes: 4 * JsonlLog.MAX_BATCH_BYTES, keep: 1 })
    const stat = spyOn(fs, "stat")
    try {
      // More than one batch in one burst: later batches reuse the open descriptor and check the
      // name on the async path.
      for (let seq = 0; seq < 300; seq++) writer.append({ seq, pad: "x".repeat(1000) })
      await writer.flush()
      expect(stat.mock.calls.some(([p]) => p === file)).toBe(true)
    } finally {
      stat.mockRestore()
    }
    expect(await allLines([file])).toHaveLength(300)
    expect(writer.dropped).toBe(0)
  })
})

describe("writing never breaks the caller", () => {
  test("an unwritable log is reported once through the sink, and appends keep returning", async () => {
    const dir = await tempDir()
    // The log directory is a regular file: every write fails.
    await fs.writeFile(path.join(dir, "log"), "not a directory")
    const messages: string[] = []
    const writer = new JsonlLog.Writer({ file: path.join(dir, "log", "provider.jsonl"), onError: (m) => messages.push(m) })
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) expect(() => writer.append(record(i))).not.toThrow()
      await writer.flush()
    }
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain(path.join(dir, "log", "provider.jsonl"))
    expect(messages[0]).toContain("carrying on")
    expect(writer.dropped).toBe(15)
  })

  test("a FIFO where the log goes is never written to: reported once, the lines dropped, flush returns", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    expect(Bun.spawnSync(["mkfifo", file]).exitCode).toBe(0)
    const messages: string[] = []
    const writer = new JsonlLog.Writer({ file, onError: (m) => messages.push(m) })
    writer.append(record(1))
    writer.append(record(2))
    await writer.flush()
    expect(messages).toHaveLength(1)
    expect(messages[0]).toContain(file)
    expect(writer.dropped).toBe(2)
    expect((await fs.lstat(file)).isFIFO()).toBe(true)
  })

  test("a torn last line left by a dead process stays one skipped line; the next record is whole", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const whole = JSON.stringify(record(1)) + "\n"
    await fs.writeFile(file, whole + JSON.stringify(record(2)).slice(0, 40))
    const writer = new JsonlLog.Writer({ file })
    writer.append(record(3))
    await writer.flush()
    const result = await DiagnosticsRead.read([file])
    expect(result.skipped).toBe(1)
    expect(result.entries.map((e) => e.requestID)).toEqual(["msg_1", "msg_3"])
  })

  test("many appends in one tick are all written, in order", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const writer = new JsonlLog.Writer({ file })
    for (let i = 0; i < 1000; i++) writer.append(record(i))
    await writer.flush()
    const result = await DiagnosticsRead.read([file])
    expect(result.entries.map((e) => e.requestID)).toEqual(Array.from({ length: 1000 }, (_, i) => `msg_${i}`))
  })
})

describe("reading a damaged log", () => {
  test("skips a truncated line, garbage, a huge line, a wrong-shaped record and a torn tail, and counts them", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    const good = (seq: number) => JSON.stringify(record(seq))
    const huge = JSON.stringify(record(99, { message: "y".repeat(200) })).replace('"ses_log"', `"${"z".repeat(300_000)}"`)
    const lines = [
      good(1),
      good(2).slice(0, 55), // truncated
      "\u0000\u00ff garbage {{{ not json",
      "",
      huge, // longer than the 64 KiB line bound
      JSON.stringify({ event: "provider.failure", kind: "not-a-kind" }),
      "[1,2,3]",
      good(3),
    ]
    await fs.writeFile(file, lines.join("\n") + "\n" + good(4).slice(0, 30))
    const result = await DiagnosticsRead.read(await DiagnosticsRead.locate(dir))
    expect(result.entries.map((e) => e.requestID)).toEqual(["msg_1", "msg_3"])
    expect(result.skipped).toBe(6)
  })

  test("a line far past the bound is skipped as it streams, the lines after it still read", async () => {
    const dir = await tempDir()
    const file = path.join(dir, "provider.jsonl")
    await fs.writeFile(file, "x".repeat(3 * 1024 * 1024) + "\n" + JSON.stringify(record(7)) + "\n")
    const seen: JsonlRead.Line[] = []
    for await (const line of JsonlRead.lines(file)) seen.push(line)
    expect(seen).toHaveLength(2)
    expect(seen[0]).toEqual({ ok: false, oversized: true })
    expect(seen[1]!.ok).toBe(true)
  })

  test("locate: a data dir, its log dir or one file; a missing path is a clear error", async () => {
    const dir = await tempDir()
    const logDir = path.join(dir, "log")
    await fs.mkdir(logDir)
    for (const name of ["provider.jsonl", "provider.1.jsonl", "provider.10.jsonl", "identity.log", "provider.jsonl.tmp"]) await fs.writeFile(path.join(logDir, name), "")
    const expected = ["provider.10.jsonl", "provider.1.jsonl", "provider.jsonl"].map((n) => path.join(logDir, n))
    expect(await DiagnosticsRead.locate(dir)).toEqual(expected)
    expect(await DiagnosticsRead.locate(logDir)).toEqual(expected)
    expect(await DiagnosticsRead.locate(expected[2]!)).toEqual([expected[2]!])
    await expect(DiagnosticsRead.locate(path.join(dir, "nope"))).rejects.toBeInstanceOf(DiagnosticsRead.LogNotFoundError)
  })
})

describe("--since", () => {
  const now = Date.parse("2026-11-21T12:00:00Z")
  test.each([
    ["2h", "2026-11-21T10:00:00.000Z"],
    ["30m", "2026-11-21T11:30:00.000Z"],
    ["1d", "2026-11-20T12:00:00.000Z"],
    ["1w", "2026-11-14T12:00:00.000Z"],
    ["2026-11-21T08:15:00Z", "2026-11-21T08:15:00.000Z"],
  ])("%s", (value, expected) => {
    expect(new Date(parseSince(value, now)).toISOString()).toBe(expected)
  })
  test.each(["yesterday", "2x", "-1h", "", "12"])("%p is a usage error", (value) => {
    expect(() => parseSince(value, now)).toThrow(UsageError)
  })
})
