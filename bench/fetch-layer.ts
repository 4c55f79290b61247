/**
 * fetch_layer_overhead_ratio: a streamed successful request to the simulator through the fetch
 * layer (packages/opencode/src/integration), read to its end, against the same request through the
 * bare fetch it wraps. Both send the same bytes: the bare side carries the install header the
 * layer would add. Measured as interleaved A/B pairs (the order alternating, so neither side
 * always runs on a warmer cache), the ratio of each pair taken, and the median of those ratios
 * reported: a pair shares the machine's state of that moment, so noise on a shared machine falls on
 * both sides alike. BATCHES independent batches of PAIRS; the median batch is reported, with
 * fetch_layer_overhead_spread_ratio (largest minus smallest batch) saying how stable it was.
 */
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { startSimulator } from "@pawwork/zen-sim"
import * as Identity from "../packages/opencode/src/auth/identity"
import * as Identifier from "../packages/opencode/src/id/id"
import { FetchLayer } from "../packages/opencode/src/integration"

const PAIRS = 2000
const WARMUP = 100
const BATCHES = 5

export async function bench(): Promise<Record<string, number>> {
  const sim = await startSimulator({ config: { freeDailyLimit: 1_000_000, fallbackDailyLimit: 1_000_000, newClientBonus: false } })
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-bench-fetch-"))
  try {
    const env = { HOME: root, XDG_DATA_HOME: path.join(root, "data"), XDG_CONFIG_HOME: path.join(root, "config") }
    const layered = FetchLayer.wrapFetch(fetch, { env, hosts: `127.0.0.1:${new URL(sim.url).port}`, warn: () => {} })
    const token = (await Identity.load(env)).token
    const url = `${sim.zenBaseURL}/chat/completions`
    const headers = {
      authorization: "Bearer public",
      "content-type": "application/json",
      "x-opencode-session": Identifier.create("session"),
      "x-opencode-client": "cli",
    }
    const body = JSON.stringify({ model: "big-pickle", stream: true, messages: [{ role: "user", content: "Say hello." }] })
    const read = async (response: Response) => {
      if (response.status !== 200) throw new Error(`bench request failed: HTTP ${response.status}`)
      const reader = response.body!.getReader()
      while (!(await reader.read()).done) {}
    }
    const bare = async () => read(await fetch(url, { method: "POST", headers: { ...headers, [Identity.HEADER]: token }, body }))
    const viaLayer = async () => read(await layered(url, { method: "POST", headers, body }))

    for (let i = 0; i < WARMUP; i++) {
      await bare()
      await viaLayer()
    }
    const batches: number[] = []
    for (let batch = 0; batch < BATCHES; batch++) {
      const ratios: number[] = []
      for (let i = 0; i < PAIRS; i++) {
        const order = i % 2 === 0 ? [bare, viaLayer] : [viaLayer, bare]
        const times = new Map<() => Promise<void>, number>()
        for (const run of order) {
          const start = Bun.nanoseconds()
          await run()
          times.set(run, Bun.nanoseconds() - start)
        }
        ratios.push(times.get(viaLayer)! / times.get(bare)!)
      }
      batches.push(median(ratios))
    }
    await layered.flush()
    const sorted = [...batches].sort((a, b) => a - b)
    return {
      fetch_layer_overhead_ratio: sorted[BATCHES >> 1]!,
      fetch_layer_overhead_spread_ratio: sorted.at(-1)! - sorted[0]!,
    }
  } finally {
    await sim.stop()
    await fs.rm(root, { recursive: true, force: true })
  }
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]!
}
