import { RedisClient } from "bun"
import type { Ask, Keys, Release, Usage, Verdict } from "./allowance"
import { checkArgs, parseUsage, parseVerdict, releaseArgs, SCRIPTS, usageArgs, type Script } from "./redis-script"

/**
 * The shared counters, in Redis, through Bun's built-in client. Each call is one script run:
 * EVALSHA, and EVAL only when Redis does not know the script yet (a fresh or restarted Redis).
 * Every command has its own deadline, and while the connection is down commands fail at once
 * instead of queueing, so a dead Redis costs a request `redisTimeoutMs` at most, never a hang.
 */

export class RedisDownError extends Error {
  override readonly name = "RedisDownError"
}

export interface RedisObserver {
  /** One command sent and answered (or timed out): for `relay_redis_round_trips_total` and latency. */
  roundTrip(seconds: number): void
  error(): void
  /** Up or down, on every change. */
  state(up: boolean): void
}

export class RedisStore {
  private readonly client: RedisClient
  private connecting: Promise<void> | null = null
  private up = false
  private readonly connectTimeoutMs: number

  constructor(
    url: string,
    private readonly timeoutMs: number,
    private readonly observer: RedisObserver,
  ) {
    this.connectTimeoutMs = Math.max(timeoutMs, 1000)
    this.client = new RedisClient(url, {
      // Fail fast while disconnected: the policy (fail-closed or fail-open) decides, not a queue.
      enableOfflineQueue: false,
      autoReconnect: true,
      maxRetries: 4_294_967_295,
      connectionTimeout: this.connectTimeoutMs,
      enableAutoPipelining: true,
    })
    this.client.onconnect = () => this.mark(true)
    this.client.onclose = () => this.mark(false)
  }

  /** Connects once; a Redis that is not there yet is not an error here (the policy applies per request). */
  async start(): Promise<void> {
    // With autoReconnect, connect() neither resolves nor rejects while Redis refuses: waiting for it
    // would keep the relay from ever listening. Past the deadline it starts down and keeps trying.
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.connectTimeoutMs)
    })
    try {
      await Promise.race([this.reconnect(), deadline])
    } finally {
      clearTimeout(timer)
    }
    // Say so at once: mark() only reports changes, and "down" is where it starts.
    if (!this.client.connected) this.observer.state(false)
  }

  get connected(): boolean {
    return this.client.connected
  }

  async check(ask: Ask): Promise<Verdict> {
    const { keys, args } = checkArgs(ask)
    return parseVerdict(await this.run(SCRIPTS.check, keys, args))
  }

  async release(release: Release): Promise<void> {
    const { keys, args } = releaseArgs(release)
    await this.run(SCRIPTS.release, keys, args)
  }

  async usage(keys: Keys, now: number): Promise<Usage> {
    const u = usageArgs(keys, now)
    return parseUsage(await this.run(SCRIPTS.usage, u.keys, u.args))
  }

  close(): void {
    this.client.onclose = null
    this.client.close()
  }

  private async run(script: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.send("EVALSHA", [script.sha, String(keys.length), ...keys, ...args])
    } catch (error) {
      if (!isNoScript(error)) throw error
      // EVAL also caches the script, so the next request is back to EVALSHA.
      return await this.send("EVAL", [script.source, String(keys.length), ...keys, ...args])
    }
  }

  private async send(command: string, args: string[]): Promise<unknown> {
    if (!this.client.connected) {
      // Bun's client reconnects on its own without calling onclose, so the state is also read here.
      this.mark(false)
      void this.reconnect()
      this.observer.error()
      throw new RedisDownError("Redis is not connected")
    }
    const started = performance.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisDownError(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs)
    })
    try {
      const reply = await Promise.race([this.client.send(command, args), deadline])
      this.observer.roundTrip((performance.now() - started) / 1000)
      this.mark(true)
      return reply
    } catch (error) {
      if (isNoScript(error)) {
        this.observer.roundTrip((performance.now() - started) / 1000)
        this.mark(true)
        throw error
      }
      if (!this.client.connected) this.mark(false)
      this.observer.error()
      throw error instanceof RedisDownError ? error : new RedisDownError("Redis command failed", { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  private reconnect(): Promise<void> {
    this.connecting ??= this.client
      .connect()
      .then(() => this.mark(true))
      .catch(() => this.mark(false))
      .finally(() => {
        this.connecting = null
      })
    return this.connecting
  }

  private mark(up: boolean) {
    if (up === this.up) return
    this.up = up
    this.observer.state(up)
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT")
}
