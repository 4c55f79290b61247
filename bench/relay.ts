/**
 * relay_overhead_c1_ratio / relay_overhead_c100_ratio: time for streamed requests through the
 * PawWork relay (one Redis check-and-count, the forward, the release) divided by the same requests
 * straight to the simulator, with 1 and with 100 concurrent clients (each its own install), side
 * by side in the same run, alternating which side goes first. The relay runs as it is deployed,
 * in its own process (`bun packages/relay/src/main.ts --config ...`, its log on a pipe that is
 * drained): inside the benchmark's process it would share one event loop with the clients and the
 * simulator, and its work would be counted against the simulator's instead of beside it.
 * The simulator streams a short answer (ANSWER_WORDS words, one event each, PACE_MS apart: its
 * `trickle` stall) as a model streams tokens, about 0.6 s a request: against an answer that takes
 * no time at all, any proxy doubles the cost, which says nothing about what users wait for. The
 * absolute cost is reported beside it: relay_added_first_byte_c1_ms / _c100_ms, the median extra
 * time to the answer's headers per request (the body read, the Redis check-and-count, the second
 * connection), with the 100 clients all starting at once, the worst case for a burst.
 * relay_redis_round_trips_per_request: Redis commands per served request (target: at most 2),
 * read from the relay's own /metrics. Each ratio is the median of its batches' ratios (each batch
 * one relay/direct pair).
 */
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { installToken, randomSecret, startRedis, startUpstream } from "../packages/relay/test/helpers"

const PACE_MS = 10
const ANSWER_WORDS = 60
const C1_BATCHES = 3
const C100_BATCHES = 15
const C1_REQUESTS = 10
const C100_CLIENTS = 100
const C100_REQUESTS_EACH = 3

export async function bench(): Promise<Record<string, number>> {
  const redis = await startRedis()
  const key = randomSecret("sk-")
  const sim = await startUpstream(key)
  sim.configure({
    reply: Array.from({ length: ANSWER_WORDS }, (_, i) => `word${i}`).join(" "),
    faults: [{ status: 200, stall: "trickle", intervalMs: PACE_MS, count: -1 }],
  })
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-relay-bench-"))
  const configFile = path.join(dir, "relay.json")
  await fs.writeFile(
    configFile,
    JSON.stringify({
      port: 0,
      redisUrl: redis.url,
      upstream: { baseURL: sim.zenBaseURL, keyEnv: "PAWWORK_RELAY_BENCH_KEY" },
      models: ["big-pickle"],
      limits: { installDailyRequests: null, ipDailyRequests: null, newInstallsPerIp: null, concurrentStreamsPerInstall: null },
    }),
  )
  const relay = await startRelayProcess(configFile, key)
  const body = JSON.stringify({ model: "big-pickle", stream: true, messages: [{ role: "user", content: "Say hello." }] })
  const headers = { "content-type": "application/json", "x-opencode-client": "cli" }
  // Time to the answer's headers, per side, for the added-latency figures.
  let firstByte = 0
  const read = async (started: number, r: Response) => {
    firstByte += performance.now() - started
    await r.arrayBuffer()
  }
  const direct = async () => {
    const started = performance.now()
    await read(started, await fetch(`${sim.zenBaseURL}/chat/completions`, { method: "POST", headers: { ...headers, authorization: `Bearer ${key}` }, body }))
  }
  const installs = Array.from({ length: C100_CLIENTS }, installToken)
  const via = (client: number) => async () => {
    const started = performance.now()
    const r = await fetch(`${relay.url}/v1/chat/completions`, { method: "POST", headers: { ...headers, "x-pawwork-install": installs[client]! }, body })
    if (r.status !== 200) throw new Error(`relay answered ${r.status}`)
    await read(started, r)
  }
  const timed = async (clients: number, each: number, send: (client: number) => () => Promise<void>) => {
    firstByte = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < each; i++) await send(c)()
    }))
    return { ms: performance.now() - started, firstByteMs: firstByte / (clients * each) }
  }
  const ratio = async (clients: number, each: number, batches: number) => {
    const ratios: number[] = []
    const added: number[] = []
    for (let b = 0; b < batches; b++) {
      const relayFirst = b % 2 === 1
      const early = relayFirst ? await timed(clients, each, via) : null
      const d = await timed(clients, each, () => direct)
      const r = early ?? (await timed(clients, each, via))
      ratios.push(r.ms / d.ms)
      added.push(r.firstByteMs - d.firstByteMs)
    }
    return { ratio: median(ratios), addedFirstByteMs: median(added) }
  }
  try {
    // Warm-up: scripts loaded into Redis, and as many connections open on both sides as the runs use.
    await timed(C100_CLIENTS, 1, via)
    await timed(C100_CLIENTS, 1, () => direct)
    const counted = async () => {
      const figures = await relay.metrics()
      return { served: figures.served, trips: figures.trips }
    }
    // Releases run after each answer ends: let the last ones land before counting. The warm-up
    // (which loaded the scripts: one NOSCRIPT and one EVAL each, once per Redis) is left out.
    const settled = async () => {
      let last = await counted()
      for (let i = 0; i < 200; i++) {
        await Bun.sleep(20)
        const now = await counted()
        if (now.trips === last.trips && now.served === last.served) return now
        last = now
      }
      return last
    }
    const warm = await settled()
    const c1 = await ratio(1, C1_REQUESTS, C1_BATCHES)
    const c100 = await ratio(C100_CLIENTS, C100_REQUESTS_EACH, C100_BATCHES)
    const end = await settled()
    const served = end.served - warm.served
    const trips = () => end.trips - warm.trips
    return {
      relay_overhead_c1_ratio: c1.ratio,
      relay_overhead_c100_ratio: c100.ratio,
      relay_added_first_byte_c1_ms: c1.addedFirstByteMs,
      relay_added_first_byte_c100_ms: c100.addedFirstByteMs,
      relay_redis_round_trips_per_request: trips() / served,
    }
  } finally {
    await relay.stop()
    await sim.stop()
    await redis.stop()
    await fs.rm(dir, { recursive: true, force: true })
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** The relay's CLI in a child process; its URL read from the first line it prints. */
async function startRelayProcess(configFile: string, key: string) {
  const child = Bun.spawn([process.execPath, path.join(import.meta.dir, "../packages/relay/src/main.ts"), "--config", configFile], {
    env: { ...process.env, PAWWORK_RELAY_BENCH_KEY: key },
    stdout: "pipe",
    stderr: "pipe",
  })
  // The relay logs a line per request on stderr: read and dropped, as a log shipper would take it.
  void (async () => {
    for await (const _ of child.stderr) {
    }
  })()
  const reader = child.stdout.getReader()
  let printed = ""
  const url = await (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the relay did not start: ${printed}`)
      printed += new TextDecoder().decode(value)
      const found = /listening on (http:\/\/\S+)/.exec(printed)
      if (found) return found[1]!
    }
  })()
  void (async () => {
    while (!(await reader.read()).done) {}
  })()
  return {
    url,
    async metrics() {
      const text = await (await fetch(`${url}/metrics`)).text()
      const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0)
      return {
        served: value(/^relay_requests_total\{route="chat",outcome="served"\} (\d+)/m),
        trips: value(/^relay_redis_round_trips_total (\d+)/m),
      }
    },
    async stop() {
      child.kill("SIGTERM")
      await child.exited
    },
  }
}
