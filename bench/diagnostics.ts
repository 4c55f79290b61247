/**
 * diagnostics_records_per_sec: failure records built, schema-checked and queued through the same
 * hook `cli run` uses, then written to a temp dir (rotation on), counted until flush() resolves.
 * diagnostics_loop_p99_ms: the event loop's p99 delay, measured by a setTimeout lag probe, while
 * 10,000 records are written in bursts as concurrent requests would produce them.
 * diagnostics_loop_p99_idle_ms is the same probe with nothing written: the baseline.
 */
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { Provider, ProviderError } from "../packages/opencode/src/provider"
import { SessionDiagnostics, SessionProcessor } from "../packages/opencode/src/session"
import * as JsonlLog from "../packages/opencode/src/util/jsonl-log"

const RATE_RECORDS = 50_000
const LOOP_RECORDS = 10_000
const BURST = 50
const ROUND = 5_000

export async function bench(): Promise<Record<string, number>> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-bench-diag-"))
  try {
    const env = { HOME: root, XDG_DATA_HOME: path.join(root, "data"), XDG_CONFIG_HOME: path.join(root, "config") }
    const model = await Provider.getModel("opencode", "big-pickle", env)
    const info = ProviderError.classify({
      status: 529,
      headers: {},
      body: { type: "error", error: { type: "overloaded_error", message: "Error from provider (anthropic): Overloaded" } },
    })

    const rate = async () => {
      const writer = new JsonlLog.Writer({ file: path.join(root, `rate-${crypto.randomUUID()}`, "provider.jsonl") })
      const hooks = SessionDiagnostics.hooks({ model, sessionID: "ses_bench", requestID: "msg_bench", env, log: writer })
      const started = performance.now()
      // Rounds below the queue cap, each until flush() resolves: the producer never outruns the
      // writer into dropping, so every record counted is on disk.
      for (let i = 0; i < RATE_RECORDS; i++) {
        hooks.onFailure!(failure(info, (i % 4) + 1), { action: "retry", delayMs: 2000 })
        if (i % ROUND === ROUND - 1) await writer.flush()
      }
      await writer.flush()
      if (writer.dropped) throw new Error(`bench: ${writer.dropped} records dropped`)
      return RATE_RECORDS / ((performance.now() - started) / 1000)
    }

    const loop = async (records: number) => {
      const writer = new JsonlLog.Writer({ file: path.join(root, `loop-${crypto.randomUUID()}`, "provider.jsonl"), maxQueue: 100_000 })
      const hooks = SessionDiagnostics.hooks({ model, sessionID: "ses_bench", requestID: "msg_bench", env, log: writer })
      const probe = lagProbe()
      // Warm the probe, then write in bursts, one burst per turn of the loop, as requests do.
      await new Promise((r) => setTimeout(r, 20))
      for (let written = 0; written < records; written += BURST) {
        for (let i = 0; i < BURST; i++) hooks.onFailure!(failure(info, 1), { action: "stop" })
        await new Promise((r) => setImmediate(r))
      }
      await writer.flush()
      if (writer.dropped) throw new Error(`bench: ${writer.dropped} records dropped`)
      if (!records) await new Promise((r) => setTimeout(r, 200))
      return probe.stop()
    }

    await rate() // warm-up: JIT, zod, the file system
    const perSec = Math.max(await rate(), await rate())
    const idle = await loop(0)
    const busy = await loop(LOOP_RECORDS)
    return {
      diagnostics_records_per_sec: Math.round(perSec),
      diagnostics_loop_p99_ms: busy,
      diagnostics_loop_p99_idle_ms: idle,
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true })
  }
}

function failure(info: ProviderError.Info, attempt: number): SessionProcessor.AttemptFailure {
  return { attempt, error: undefined, streamedText: false, info }
}

/** A 1 ms setTimeout chain; each sample is how late the timer fired. stop() returns the p99 in ms. */
function lagProbe() {
  const lags: number[] = []
  let expected = performance.now() + 1
  let running = true
  const tick = () => {
    const now = performance.now()
    lags.push(Math.max(0, now - expected))
    if (!running) return
    expected = now + 1
    setTimeout(tick, 1)
  }
  setTimeout(tick, 1)
  return {
    stop() {
      running = false
      const sorted = lags.sort((a, b) => a - b)
      return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0
    },
  }
}
