import { randomInt } from "node:crypto"
import type { Budget } from "./budget"
import type { Target } from "./target"

/**
 * Where a probe install's requests appear to come from. Against a loopback target (the simulator
 * started with --trust-proxy) a "network" is an `x-real-ip` value, the header the real edge sets;
 * against a remote gateway the probe cannot choose its address, so every install is on this
 * machine's network and the different-networks comparison cannot be made.
 */
export interface Network {
  label: string
  /** The client address claimed through x-real-ip; null: the machine's own address. */
  address: string | null
}

export type Method = "x-real-ip" | "none"

export function method(target: Target): Method {
  return target.loopback ? "x-real-ip" : "none"
}

export const LOCAL: Network = { label: "this machine", address: null }

/**
 * Hands out distinct addresses from 198.18.0.0/15 (reserved for benchmarking, never a real
 * client), starting at a random point so a second probe against the same simulator on the same
 * UTC day does not land on addresses the first one already used up.
 */
export class Allocator {
  #next: number
  #count = 0
  constructor(readonly target: Target) {
    this.#next = randomInt(0, 2 ** 17 - 256)
  }

  fresh(): Network {
    this.#count++
    if (!this.target.loopback) return LOCAL
    const n = this.#next++
    return { label: `net-${this.#count}`, address: `198.${18 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}` }
  }
}

export function headers(network: Network): Record<string, string> | undefined {
  return network.address ? { "x-real-ip": network.address } : undefined
}

/**
 * Whether the gateway counted the claimed addresses: the simulator lists the client address it
 * used for each request at /__sim/requests. true/false when it could tell, null when the target
 * has no such list (then a difference between networks is taken at face value, and said so).
 */
export async function honoured(target: Target, budget: Budget, base: typeof fetch, sessions: Map<string, string>): Promise<boolean | null> {
  if (!target.loopback || sessions.size === 0 || budget.remaining < 1) return null
  let entries: unknown
  try {
    const response = await budget.fetch(base)(`${target.baseURL}/__sim/requests`)
    if (!response.ok) return null
    entries = await response.json()
  } catch {
    return null
  }
  if (!Array.isArray(entries)) return null
  let seen = 0
  for (const entry of entries) {
    if (typeof entry !== "object" || entry === null) continue
    const { clientIP, headers } = entry as { clientIP?: unknown; headers?: Record<string, unknown> }
    const session = headers?.["x-opencode-session"]
    if (typeof session !== "string" || !sessions.has(session)) continue
    seen++
    if (clientIP !== sessions.get(session)) return false
  }
  return seen > 0 ? true : null
}
