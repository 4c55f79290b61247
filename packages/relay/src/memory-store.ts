import type { Ask, Release, Usage, Verdict } from "./allowance"
import { micro } from "./redis-script"

/**
 * The fail-open fallback: the same check-and-count as the Redis script, in this instance's memory.
 * It never sees what other instances serve, so while Redis is down each instance can serve every
 * allowance once more on its own: over a UTC day an allowance is served at most
 * (1 + number of instances that failed open) times. It starts each counter from the last value
 * Redis reported to this instance, so an install already spent in Redis stays spent here.
 */

// Past this many counters, requests from installs and addresses it has never seen are refused:
// the fallback must not grow without bound during a long outage.
export const MAX_ENTRIES = 200_000

interface Counter {
  value: number
  expireAt: number
}

export class MemoryStore {
  private readonly counters = new Map<string, Counter>()
  private readonly slots = new Map<string, Map<string, number>>()

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  check(a: Ask): Verdict {
    this.sweep(a.now)
    const k = a.keys
    const l = a.limits
    const get = (key: string) => this.counters.get(key)?.value ?? 0
    const instReq = get(k.installRequests)
    const instUsd = get(k.installSpend)
    const ipReq = get(k.ipRequests)
    const ipNew = get(k.ipNewInstalls)
    const gReq = get(k.globalRequests)
    const gUsd = get(k.globalSpend)
    const slots = this.liveSlots(k.concurrency, a.now)
    const over = (limit: number | null, used: number) => limit !== null && used >= limit
    if (over(l.globalDailyRequests, gReq)) return refuse("global", "requests", l.globalDailyRequests, gReq)
    if (over(microOf(l.globalDailySpendUSD), gUsd)) return refuse("global", "spend", l.globalDailySpendUSD, gUsd / 1e6)
    if (over(l.ipDailyRequests, ipReq)) return refuse("ip", "requests", l.ipDailyRequests, ipReq)
    const isNew = instReq === 0
    if (isNew && over(l.newInstallsPerIp, ipNew)) return refuse("new-install", "installs", l.newInstallsPerIp, ipNew)
    if (over(l.installDailyRequests, instReq)) return refuse("install", "requests", l.installDailyRequests, instReq)
    if (over(microOf(l.installDailySpendUSD), instUsd)) return refuse("install", "spend", l.installDailySpendUSD, instUsd / 1e6)
    if (over(l.concurrentStreamsPerInstall, slots.size)) return refuse("concurrency", "streams", l.concurrentStreamsPerInstall, slots.size)
    if (this.counters.size + 4 > this.maxEntries && isNew) return refuse("new-install", "installs", l.newInstallsPerIp ?? 0, ipNew)
    const add = (key: string, by: number) => {
      const value = get(key) + by
      this.counters.set(key, { value, expireAt: a.expireAt })
      return value
    }
    const usage: Usage = {
      installRequests: add(k.installRequests, 1),
      installSpendUSD: add(k.installSpend, micro(l.costEstimateUSD)) / 1e6,
      ipRequests: add(k.ipRequests, 1),
      ipNewInstalls: isNew ? add(k.ipNewInstalls, 1) : ipNew,
      globalRequests: add(k.globalRequests, 1),
      globalSpendUSD: add(k.globalSpend, micro(l.costEstimateUSD)) / 1e6,
      concurrent: slots.size + 1,
    }
    slots.set(a.requestID, a.slotExpireAt)
    this.slots.set(k.concurrency, slots)
    return { ok: true, usage }
  }

  release(r: Release): void {
    const slots = this.slots.get(r.keys.concurrency)
    slots?.delete(r.requestID)
    if (slots?.size === 0) this.slots.delete(r.keys.concurrency)
    const adjust = micro(r.spendAdjustUSD)
    if (adjust === 0) return
    for (const key of [r.keys.installSpend, r.keys.globalSpend]) {
      const c = this.counters.get(key)
      this.counters.set(key, { value: (c?.value ?? 0) + adjust, expireAt: r.expireAt })
    }
  }

  /** What Redis last said about these counters: the fallback never starts below it. */
  observe(a: Ask, usage: Usage): void {
    const k = a.keys
    const raise = (key: string, value: number) => {
      const c = this.counters.get(key)
      if ((c?.value ?? 0) < value && (c || this.counters.size < this.maxEntries)) this.counters.set(key, { value, expireAt: a.expireAt })
    }
    raise(k.installRequests, usage.installRequests)
    raise(k.installSpend, micro(usage.installSpendUSD))
    raise(k.ipRequests, usage.ipRequests)
    raise(k.ipNewInstalls, usage.ipNewInstalls)
    raise(k.globalRequests, usage.globalRequests)
    raise(k.globalSpend, micro(usage.globalSpendUSD))
  }

  usage(a: Ask): Usage {
    const get = (key: string) => this.counters.get(key)?.value ?? 0
    const k = a.keys
    return {
      installRequests: get(k.installRequests),
      installSpendUSD: get(k.installSpend) / 1e6,
      ipRequests: get(k.ipRequests),
      ipNewInstalls: get(k.ipNewInstalls),
      globalRequests: get(k.globalRequests),
      globalSpendUSD: get(k.globalSpend) / 1e6,
      concurrent: this.liveSlots(k.concurrency, a.now).size,
    }
  }

  get size(): number {
    return this.counters.size
  }

  private liveSlots(key: string, now: number): Map<string, number> {
    const slots = this.slots.get(key) ?? new Map<string, number>()
    for (const [id, expireAt] of slots) if (expireAt <= now) slots.delete(id)
    return slots
  }

  private lastSweep = 0
  // Yesterday's counters go at most once a minute, so a check stays O(1) on average.
  private sweep(now: number) {
    if (now - this.lastSweep < 60_000) return
    this.lastSweep = now
    for (const [key, c] of this.counters) if (c.expireAt <= now) this.counters.delete(key)
  }
}

function refuse(scope: Extract<Verdict, { ok: false }>["scope"], limitName: Extract<Verdict, { ok: false }>["limitName"], limit: number | null, used: number): Verdict {
  return { ok: false, scope, limitName, limit: limit ?? 0, used }
}

function microOf(usd: number | null): number | null {
  return usd === null ? null : micro(usd)
}
