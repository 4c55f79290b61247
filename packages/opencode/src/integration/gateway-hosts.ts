/**
 * Which requests the fetch layer watches: those to OpenCode's gateway, `https://opencode.ai/zen/...`
 * by default. `PAWWORK_GATEWAY_HOSTS` (comma-separated `host` or `host:port`) replaces the list, so
 * staging and tests can point the layer at the simulator. Only `/zen/` paths count: the same host
 * serves the console, whose pages carry the user's session cookie and are none of the layer's business.
 */

export const ENV_VAR = "PAWWORK_GATEWAY_HOSTS"
export const DEFAULT_HOSTS = ["opencode.ai"] as const

/** The gateway endpoint a watched request went to, as the runtime names its providers. */
export interface Target {
  providerID: "opencode" | "opencode-go"
  /** Scheme, host and the endpoint's path up to its version (`https://opencode.ai/zen/go/v1`): never a query or userinfo. */
  baseURL: string
}

export interface Hosts {
  /** `host` entries match that host name on any port; `host:port` entries that port only. */
  readonly names: ReadonlySet<string>
  readonly hostPorts: ReadonlySet<string>
  /** Entries that were not a host name or host:port, for the one warning line. */
  readonly rejected: readonly string[]
}

// A DNS name or an IPv4 address, optionally `:port`; a bracketed IPv6 literal, optionally `:port`.
const ENTRY = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/
const MAX_ENTRIES = 64

/** Parses the list; never throws. Without the variable (or with it empty) the default hosts. */
export function parse(value: string | undefined): Hosts {
  const names = new Set<string>()
  const hostPorts = new Set<string>()
  const rejected: string[] = []
  // Bounded before it is split: an environment variable can be megabytes long.
  const entries = value === undefined || value.trim() === "" ? [...DEFAULT_HOSTS] : value.slice(0, MAX_ENTRIES * 302).split(",", MAX_ENTRIES)
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    if (entry === "") continue
    const match = entry.length <= 300 ? ENTRY.exec(entry) : null
    const port = match?.[1] === undefined ? undefined : Number(match[1])
    if (!match || (port !== undefined && (port < 1 || port > 65535))) {
      // Named in a warning line: without what could be a credential (userinfo, with or without a scheme; a query).
      rejected.push(raw.trim().replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)?[^/?#]*@/i, "$1").replace(/[?#].*$/s, "").slice(0, 80))
      continue
    }
    if (port === undefined) names.add(entry)
    else hostPorts.add(entry)
  }
  return { names, hostPorts, rejected }
}

/**
 * A cheap first look, before any URL is parsed: false when no watched host name appears in the
 * request's URL at all (case aside), which is every request but the gateway's for most hosts.
 */
export function mayMatch(hosts: Hosts, href: string): boolean {
  const lower = href.toLowerCase()
  for (const name of hosts.names) if (lower.includes(name)) return true
  for (const hostPort of hosts.hostPorts) if (lower.includes(hostPort.slice(0, hostPort.lastIndexOf(":")))) return true
  return false
}

/** The gateway endpoint of a URL, or null when the layer must leave the request alone. */
export function match(hosts: Hosts, url: URL): Target | null {
  if (url.protocol !== "https:" && url.protocol !== "http:") return null
  if (!hosts.names.has(url.hostname) && !hosts.hostPorts.has(url.host)) {
    // `url.host` drops a default port; an entry may still name it (`opencode.ai:443`).
    const port = url.port || (url.protocol === "https:" ? "443" : "80")
    if (!hosts.hostPorts.has(`${url.hostname}:${port}`)) return null
  }
  const path = url.pathname
  if (!path.startsWith("/zen/")) return null
  const go = path.startsWith("/zen/go/")
  const version = /^\/zen\/(?:go\/)?(v\d+)(?:\/|$)/.exec(path)?.[1]
  const base = go ? "/zen/go" : "/zen"
  return { providerID: go ? "opencode-go" : "opencode", baseURL: `${url.protocol}//${url.host}${base}${version ? `/${version}` : ""}` }
}
