import { RuntimeError } from "../util/error"

/** The gateway a probe is aimed at: its origin and the two OpenAI-compatible base URLs under it. */
export interface Target {
  /** The origin as given, without a trailing slash. */
  baseURL: string
  zenBaseURL: string
  goBaseURL: string
  /** Loopback hosts are the local simulator (or a tunnel to it): no real quota is spent there. */
  loopback: boolean
}

export const DEFAULT_BASE_URL = "https://opencode.ai"
export const REAL_QUOTA_FLAG = "--i-understand-this-spends-real-quota"

export class InvalidTargetError extends RuntimeError {
  readonly code = "usage"
  constructor(
    readonly given: string,
    problem: string,
    flag: { name: string; example: string } = { name: "--base-url", example: "Give the gateway's origin, for example http://127.0.0.1:4096 or https://opencode.ai." },
  ) {
    super(`${flag.name} ${JSON.stringify(shown(given))} ${problem}. ${flag.example}`)
    this.name = "InvalidTargetError"
  }
}

// The URL as the error names it: a password or token in it must not reach the terminal.
function shown(given: string): string {
  if (!URL.canParse(given)) return given.slice(0, 200)
  const u = new URL(given)
  return `${u.protocol}//${u.username || u.password ? "…@" : ""}${u.host}${u.pathname}${u.search ? "?…" : ""}${u.hash ? "#…" : ""}`.slice(0, 200)
}

/**
 * Raised before anything is sent: a probe spends the free allowance of whoever's address it runs
 * from, so pointing it at a real gateway has to be a deliberate act.
 */
export class ProbeRefusedError extends RuntimeError {
  readonly code = "probe_refused"
  constructor(readonly target: Target, readonly maxRequests: number) {
    super(
      `Refusing to probe ${target.baseURL}: it is not a loopback address, so the probe would spend real quota (the free daily allowance of this network, and of any key you give it), up to ${maxRequests} requests. Nothing was sent. Add ${REAL_QUOTA_FLAG} to run it anyway, with a small --max-requests.`,
    )
    this.name = "ProbeRefusedError"
  }
}

export function parse(given: string = DEFAULT_BASE_URL): Target {
  let url: URL
  try {
    url = new URL(given)
  } catch {
    throw new InvalidTargetError(given, "is not a URL")
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidTargetError(given, "is not an http(s) URL")
  if (url.username || url.password) throw new InvalidTargetError(given, "must not carry credentials")
  if (url.search || url.hash) throw new InvalidTargetError(given, "must not have a query or fragment")
  const path = url.pathname.replace(/\/+$/, "")
  // The probe adds /zen/v1 itself; a base URL that already ends in it would probe /zen/v1/zen/v1.
  if (/\/zen(\/go)?\/v1$/.test(path)) throw new InvalidTargetError(given, "is an endpoint, not the gateway's origin (drop the /zen/... part)")
  const baseURL = url.origin + path
  return { baseURL, zenBaseURL: `${baseURL}/zen/v1`, goBaseURL: `${baseURL}/zen/go/v1`, loopback: isLoopback(url.hostname) }
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped loopback) and localhost: addresses that never leave the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "")
  if (host === "localhost" || host.endsWith(".localhost")) return true
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return host.split(".").every((n) => Number(n) <= 255)
  if (host === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(host)) return true
  const mapped = /^::ffff:(.+)$/.exec(host)?.[1]
  if (mapped) {
    if (mapped.includes(".")) return isLoopback(mapped)
    // WHATWG URL writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
    return /^7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(mapped)
  }
  return false
}

/** Throws ProbeRefusedError unless the target is loopback or the user accepted spending real quota. */
export function guard(target: Target, acceptedRealQuota: boolean, maxRequests: number) {
  if (!target.loopback && !acceptedRealQuota) throw new ProbeRefusedError(target, maxRequests)
}
