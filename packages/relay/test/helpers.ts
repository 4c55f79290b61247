import { RedisClient } from "bun"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { startRelay, type Relay, type RelayConfigInput } from "../src/index"

/**
 * A private redis-server on a free loopback port, persistence off, in a throwaway directory.
 * `restart()` snapshots on shutdown (`SHUTDOWN SAVE`) and starts again on the same port from that
 * snapshot: a production Redis with persistence, stopped and back. `stop()` removes everything.
 */
export interface TestRedis {
  url: string
  port: number
  /** A plain client for assertions (reads keys, flushes). */
  client: RedisClient
  /** Stops the server (saving a snapshot first unless `lose`), leaving the port free. */
  down(options?: { lose?: boolean }): Promise<void>
  /** Starts it again on the same port. */
  up(): Promise<void>
  stop(): Promise<void>
}

export async function startRedis(): Promise<TestRedis> {
  if (!Bun.which("redis-server")) throw new Error("redis-server is not installed: apt-get install -y redis-server (.ci/run does it)")
  const dir = await mkdtemp(join(tmpdir(), "relay-redis-"))
  let port = 0
  let proc: ReturnType<typeof Bun.spawn> | null = null
  const spawn = () =>
    Bun.spawn(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--dbfilename", "dump.rdb", "--loglevel", "warning", "--protected-mode", "yes"],
      { stdout: "ignore", stderr: "ignore" },
    )
  const ready = async () => {
    for (let i = 0; i < 200; i++) {
      if (proc?.exitCode !== null) return false
      const probe = new RedisClient(`redis://127.0.0.1:${port}`, { enableOfflineQueue: false, autoReconnect: false, connectionTimeout: 200 })
      try {
        await probe.connect()
        if ((await probe.send("PING", [])) === "PONG") return true
      } catch {
        // not yet
      } finally {
        probe.close()
      }
      await Bun.sleep(25)
    }
    return false
  }
  for (let attempt = 0; attempt < 5 && !proc; attempt++) {
    port = await freePort()
    proc = spawn()
    if (!(await ready())) {
      proc.kill()
      await proc.exited
      proc = null
    }
  }
  if (!proc) throw new Error("could not start redis-server on a free port")
  const url = `redis://127.0.0.1:${port}`
  const client = new RedisClient(url, { connectionTimeout: 1000 })
  await client.connect()

  return {
    url,
    port,
    client,
    async down(options = {}) {
      if (!proc) return
      const admin = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: false })
      try {
        await admin.connect()
        await admin.send("SHUTDOWN", [options.lose ? "NOSAVE" : "SAVE"]).catch(() => {})
      } catch {
        proc.kill()
      } finally {
        admin.close()
      }
      await proc.exited
      proc = null
    },
    async up() {
      if (proc) return
      proc = spawn()
      if (!(await ready())) throw new Error("redis-server did not come back")
    },
    async stop() {
      client.close()
      if (proc) {
        proc.kill()
        await proc.exited
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** Distinctive, random, and never the same twice: a leak of one is unmistakable. */
export function randomSecret(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "")}${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`
}

/** A token in the runtime's shape: `pwi_` + 32 random bytes in base64url. */
export function installToken(): string {
  return `pwi_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`
}

/** The simulator as the relay's upstream: one workspace holding the relay's paid key; free models without the per-address free cap getting in the way. */
export async function startUpstream(key: string, options: { now?: string } = {}): Promise<Simulator> {
  return startSimulator({
    now: options.now ?? "2026-11-30T10:00:00.000Z",
    frozenClock: true,
    config: {
      freeDailyLimit: 1_000_000,
      fallbackDailyLimit: 1_000_000,
      paidRateLimitPerMinute: 1_000_000,
      workspaces: [{ id: "wrk_relay", balanceUSD: 1_000_000, members: [{ userID: "usr_relay", role: "admin", keys: [key] }] }],
    },
  })
}

export const MODELS = ["big-pickle", "claude-sonnet-4-5"]
/** Inside a UTC day, 10 h before its reset, so retry-after values are exact. */
export const NOW = Date.parse("2026-11-30T14:00:00.000Z")

export interface Harness {
  redis: TestRedis
  sim: Simulator
  key: string
  relays: Relay[]
  logs: string[]
  start(config?: Partial<RelayConfigInput> & { limits?: RelayConfigInput["limits"] }): Promise<Relay>
  /** Between tests: an empty Redis, a fresh simulator, no relay left from the test before. */
  reset(): Promise<void>
  stop(): Promise<void>
}

/** Redis, the simulator, and relays started against both on demand; everything stopped by `stop()`. */
export async function harness(options: { now?: () => number } = {}): Promise<Harness> {
  const redis = await startRedis()
  const key = randomSecret("sk-")
  const sim = await startUpstream(key)
  const relays: Relay[] = []
  const logs: string[] = []
  return {
    redis,
    sim,
    key,
    relays,
    logs,
    async start(config = {}) {
      const relay = await startRelay({
        config: {
          port: 0,
          redisUrl: redis.url,
          upstream: { baseURL: sim.zenBaseURL, keyEnv: "RELAY_TEST_KEY" },
          models: MODELS,
          trustProxy: true,
          ...config,
        },
        upstreamKey: key,
        logSink: (line) => logs.push(line),
        now: options.now ?? (() => NOW),
      })
      relays.push(relay)
      return relay
    },
    async reset() {
      await redis.client.send("FLUSHALL", [])
      sim.reset()
      for (const r of relays.splice(0)) await r.stop()
    },
    async stop() {
      for (const r of relays) await r.stop()
      await sim.stop()
      await redis.stop()
    },
  }
}

export interface ChatOptions {
  install?: string | null
  ip?: string
  model?: string
  stream?: boolean
  headers?: Record<string, string>
  signal?: AbortSignal
}

export function chat(relay: Relay | string, o: ChatOptions = {}): Promise<Response> {
  const base = typeof relay === "string" ? relay : relay.url
  // What an OpenCode client sends about itself; the relay passes it on.
  const headers: Record<string, string> = { "content-type": "application/json", "x-opencode-client": "cli", ...o.headers }
  if (o.install !== null) headers["x-pawwork-install"] = o.install ?? installToken()
  if (o.ip) headers["x-real-ip"] = o.ip
  return fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify({ model: o.model ?? "big-pickle", stream: o.stream ?? false, messages: [{ role: "user", content: "hi" }] }),
    signal: o.signal,
  })
}

export interface ErrorBody {
  type: string
  error: { type: string; message: string }
  metadata?: Record<string, unknown>
}
