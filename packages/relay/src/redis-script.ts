import { createHash } from "node:crypto"
import type { Ask, Keys, Release, Scope, Usage, Verdict } from "./allowance"

/**
 * The three Lua scripts the relay runs in Redis. `CHECK` is the whole decision for one request:
 * it reads every counter, refuses with the first allowance that is spent, or counts the request
 * everywhere at once, in one atomic step, so two relay instances can never both admit the last
 * request of an allowance. Counting happens here, before the request is forwarded: a relay killed
 * mid-stream has already counted it.
 */

// Limits arrive as strings; "-1" means no limit. Spend is counted in whole micro-dollars, so both
// stores add exactly and compare against a limit the same way (no floating-point drift).
const CHECK = `
local now = tonumber(ARGV[1])
local expireAt = ARGV[2]
local function num(v) return tonumber(v) or 0 end
local function lim(i) local v = tonumber(ARGV[i]); if v == nil or v < 0 then return nil end; return v end
local instReq = num(redis.call('GET', KEYS[1]))
local instUsd = num(redis.call('GET', KEYS[2]))
local ipReq = num(redis.call('GET', KEYS[3]))
local ipNew = num(redis.call('GET', KEYS[4]))
local gReq = num(redis.call('GET', KEYS[5]))
local gUsd = num(redis.call('GET', KEYS[6]))
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now)
local conc = redis.call('ZCARD', KEYS[7])
local function refuse(scope, name, limit, used) return {0, scope, name, tostring(limit), tostring(used)} end
local L = lim(9); if L and gReq >= L then return refuse('global', 'requests', L, gReq) end
L = lim(10); if L and gUsd >= L then return refuse('global', 'spend', L, gUsd) end
L = lim(7); if L and ipReq >= L then return refuse('ip', 'requests', L, ipReq) end
local isNew = instReq == 0
L = lim(8); if isNew and L and ipNew >= L then return refuse('new-install', 'installs', L, ipNew) end
L = lim(5); if L and instReq >= L then return refuse('install', 'requests', L, instReq) end
L = lim(6); if L and instUsd >= L then return refuse('install', 'spend', L, instUsd) end
L = lim(11); if L and conc >= L then return refuse('concurrency', 'streams', L, conc) end
local function bump(key) redis.call('INCR', key); redis.call('PEXPIREAT', key, expireAt) end
bump(KEYS[1]); bump(KEYS[3]); bump(KEYS[5])
if isNew then bump(KEYS[4]); ipNew = ipNew + 1 end
local reserve = tonumber(ARGV[12])
if reserve > 0 then
  instUsd = redis.call('INCRBY', KEYS[2], ARGV[12]); redis.call('PEXPIREAT', KEYS[2], expireAt)
  gUsd = redis.call('INCRBY', KEYS[6], ARGV[12]); redis.call('PEXPIREAT', KEYS[6], expireAt)
end
redis.call('ZADD', KEYS[7], ARGV[4], ARGV[3])
redis.call('PEXPIREAT', KEYS[7], ARGV[4])
return {1, tostring(instReq + 1), tostring(instUsd), tostring(ipReq + 1), tostring(ipNew), tostring(gReq + 1), tostring(gUsd), tostring(conc + 1)}
`

// Frees the request's slot and corrects the spend by what the upstream reported.
const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local adjust = tonumber(ARGV[2])
if adjust ~= nil and adjust ~= 0 then
  redis.call('INCRBY', KEYS[2], ARGV[2]); redis.call('PEXPIREAT', KEYS[2], ARGV[3])
  redis.call('INCRBY', KEYS[3], ARGV[2]); redis.call('PEXPIREAT', KEYS[3], ARGV[3])
end
return 1
`

// What GET /v1/usage reports, read in one round trip.
const USAGE = `
local out = {}
for i = 1, 6 do out[i] = redis.call('GET', KEYS[i]) or '0' end
out[7] = tostring(redis.call('ZCOUNT', KEYS[7], '(' .. ARGV[1], '+inf'))
return out
`

export interface Script {
  source: string
  sha: string
}

function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") }
}

export const SCRIPTS = { check: script(CHECK), release: script(RELEASE), usage: script(USAGE) }

const limit = (value: number | null) => (value === null ? "-1" : String(value))
/** USD as whole micro-dollars, the unit spend is counted in. */
export const micro = (usd: number) => Math.round(usd * 1_000_000)
const microLimit = (usd: number | null) => (usd === null ? "-1" : String(micro(usd)))

function keyList(keys: Keys): string[] {
  return [keys.installRequests, keys.installSpend, keys.ipRequests, keys.ipNewInstalls, keys.globalRequests, keys.globalSpend, keys.concurrency]
}

export function checkArgs(a: Ask): { keys: string[]; args: string[] } {
  const l = a.limits
  return {
    keys: keyList(a.keys),
    args: [
      String(a.now),
      String(a.expireAt),
      a.requestID,
      String(a.slotExpireAt),
      limit(l.installDailyRequests),
      microLimit(l.installDailySpendUSD),
      limit(l.ipDailyRequests),
      limit(l.newInstallsPerIp),
      limit(l.globalDailyRequests),
      microLimit(l.globalDailySpendUSD),
      limit(l.concurrentStreamsPerInstall),
      String(micro(l.costEstimateUSD)),
    ],
  }
}

export function releaseArgs(r: Release): { keys: string[]; args: string[] } {
  return { keys: [r.keys.concurrency, r.keys.installSpend, r.keys.globalSpend], args: [r.requestID, String(micro(r.spendAdjustUSD)), String(r.expireAt)] }
}

export function usageArgs(keys: Keys, now: number): { keys: string[]; args: string[] } {
  return { keys: keyList(keys), args: [String(now)] }
}

const LIMIT_NAMES = new Set(["requests", "spend", "installs", "streams"])
const SCOPE_NAMES = new Set<string>(["global", "ip", "new-install", "install", "concurrency"])

/** The check script's reply as a verdict; anything else is a Redis fault, thrown. */
export function parseVerdict(reply: unknown): Verdict {
  if (!Array.isArray(reply)) throw new Error("unexpected reply from the check script")
  if (reply[0] === 1) {
    const n = reply.slice(1).map((v) => Number(v))
    if (n.length !== 7 || n.some((v) => !Number.isFinite(v))) throw new Error("unexpected reply from the check script")
    const [installRequests, installSpendUSD, ipRequests, ipNewInstalls, globalRequests, globalSpendUSD, concurrent] = n as [number, number, number, number, number, number, number]
    return { ok: true, usage: { installRequests, installSpendUSD: installSpendUSD / 1e6, ipRequests, ipNewInstalls, globalRequests, globalSpendUSD: globalSpendUSD / 1e6, concurrent } }
  }
  const [, scope, limitName, lim, used] = reply as [unknown, unknown, unknown, unknown, unknown]
  if (reply[0] !== 0 || typeof scope !== "string" || !SCOPE_NAMES.has(scope) || typeof limitName !== "string" || !LIMIT_NAMES.has(limitName))
    throw new Error("unexpected reply from the check script")
  const unit = limitName === "spend" ? 1e6 : 1
  return { ok: false, scope: scope as Scope, limitName: limitName as "requests", limit: Number(lim) / unit, used: Number(used) / unit }
}

export function parseUsage(reply: unknown): Usage {
  const n = Array.isArray(reply) ? reply.map((v) => Number(v)) : []
  if (n.length !== 7 || n.some((v) => !Number.isFinite(v))) throw new Error("unexpected reply from the usage script")
  const [installRequests, installSpendUSD, ipRequests, ipNewInstalls, globalRequests, globalSpendUSD, concurrent] = n as [number, number, number, number, number, number, number]
  return { installRequests, installSpendUSD: installSpendUSD / 1e6, ipRequests, ipNewInstalls, globalRequests, globalSpendUSD: globalSpendUSD / 1e6, concurrent }
}
