import type { Ask, Usage, Verdict } from "./allowance"
import type { RelayConfig } from "./config"
import type { Log } from "./log"
import type { MemoryStore } from "./memory-store"
import type { Metrics } from "./metrics"
import type { RedisStore } from "./redis-store"

/**
 * The Redis-down policy around the stores. With Redis up, Redis decides. With Redis down,
 * `fail-closed` refuses (503, retryable) and `fail-open` lets this instance's memory decide, loudly:
 * every such request is counted in `relay_fail_open_requests_total`, and a warning is logged when an
 * outage starts and once a minute while it lasts.
 */

export type Admission =
  | { ok: true; via: "redis" | "memory"; ask: Ask; usage: Usage }
  | { ok: false; verdict: Extract<Verdict, { ok: false }> }
  | { ok: false; unavailable: true }

const FAIL_OPEN_LOG_EVERY_MS = 60_000

export class Limiter {
  private lastFailOpenLog = -Infinity

  constructor(
    private readonly redis: RedisStore,
    private readonly memory: MemoryStore,
    private readonly policy: RelayConfig["redisPolicy"],
    private readonly metrics: Metrics,
    private readonly log: Log,
  ) {}

  async admit(ask: Ask): Promise<Admission> {
    let verdict: Verdict
    try {
      verdict = await this.redis.check(ask)
    } catch {
      return this.redisDown(ask)
    }
    if (!verdict.ok) return { ok: false, verdict }
    if (this.policy === "fail-open") this.memory.observe(ask, verdict.usage)
    return { ok: true, via: "redis", ask, usage: verdict.usage }
  }

  /** Frees the slot and corrects the spend; never throws (a slot Redis cannot free expires on its own). */
  async release(admission: Extract<Admission, { ok: true }>, reportedCostUSD: number | null): Promise<void> {
    const reserved = admission.ask.limits.costEstimateUSD
    const release = {
      keys: admission.ask.keys,
      requestID: admission.ask.requestID,
      expireAt: admission.ask.expireAt,
      spendAdjustUSD: reportedCostUSD === null ? 0 : reportedCostUSD - reserved,
    }
    if (admission.via === "memory") return this.memory.release(release)
    try {
      await this.redis.release(release)
    } catch {
      this.log.warn("relay.redis.release_failed", { note: "the slot frees itself when it expires; a reported cost was not added" })
    }
  }

  async usage(ask: Ask): Promise<{ usage: Usage; via: "redis" | "memory" } | null> {
    try {
      return { usage: await this.redis.usage(ask.keys, ask.now), via: "redis" }
    } catch {
      return this.policy === "fail-open" ? { usage: this.memory.usage(ask), via: "memory" } : null
    }
  }

  private redisDown(ask: Ask): Admission {
    if (this.policy === "fail-closed") return { ok: false, unavailable: true }
    const verdict = this.memory.check(ask)
    if (!verdict.ok) return { ok: false, verdict }
    this.metrics.inc("relay_fail_open_requests_total")
    if (ask.now - this.lastFailOpenLog >= FAIL_OPEN_LOG_EVERY_MS) {
      this.lastFailOpenLog = ask.now
      this.log.warn("relay.redis.fail_open", {
        note: "Redis is down: serving from this instance's memory; allowances are not shared between instances until it is back",
        servedSoFar: this.metrics.get("relay_fail_open_requests_total"),
        memoryCounters: this.memory.size,
      })
    }
    return { ok: true, via: "memory", ask, usage: verdict.usage }
  }
}
