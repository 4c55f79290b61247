import { parseArgs } from "node:util"
import type { RelayConfigInput } from "./config"

/** `bun run relay --config <file> [flags]`: the flags override the file's fields. */

export const USAGE = `Usage: bun run relay --config <file> [options]

  --config <file>               the relay's JSON config (see packages/relay/relay.example.json)
  --port <n>                    port to listen on (config: port)
  --redis-url <url>             redis:// URL of the shared Redis (config: redisUrl)
  --upstream-base-url <url>     the gateway base URL, e.g. https://opencode.ai/zen/v1 (config: upstream.baseURL)
  --upstream-key-env <VAR>      environment variable holding the gateway API key (config: upstream.keyEnv)
  --install-daily-requests <n>  requests per install per UTC day (config: limits.installDailyRequests)
  --ip-daily-requests <n>       requests per client address per UTC day (config: limits.ipDailyRequests)
  --new-installs-per-ip <n>     new install tokens per client address per UTC day (config: limits.newInstallsPerIp)
  --trust-proxy                 take the client address from x-real-ip / x-forwarded-for (only behind a load balancer)
  --help                        this text`

export class CliUsageError extends Error {
  override readonly name = "CliUsageError"
}

export type CliCommand = { kind: "help" } | { kind: "run"; configFile: string | undefined; overrides: Overrides }

export interface Overrides {
  port?: number
  redisUrl?: string
  trustProxy?: boolean
  upstream?: { baseURL?: string; keyEnv?: string }
  limits?: { installDailyRequests?: number; ipDailyRequests?: number; newInstallsPerIp?: number }
}

export function parseCliArgs(argv: string[]): CliCommand {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        port: { type: "string" },
        "redis-url": { type: "string" },
        "upstream-base-url": { type: "string" },
        "upstream-key-env": { type: "string" },
        "install-daily-requests": { type: "string" },
        "ip-daily-requests": { type: "string" },
        "new-installs-per-ip": { type: "string" },
        "trust-proxy": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values
  } catch (error) {
    throw new CliUsageError(error instanceof Error ? error.message : "bad arguments")
  }
  if (values.help) return { kind: "help" }
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined)
  const overrides: Overrides = {}
  const port = whole(str("port"), "--port")
  if (port !== undefined) overrides.port = port
  if (str("redis-url") !== undefined) overrides.redisUrl = str("redis-url")
  if (values["trust-proxy"]) overrides.trustProxy = true
  const upstream = { baseURL: str("upstream-base-url"), keyEnv: str("upstream-key-env") }
  if (upstream.baseURL !== undefined || upstream.keyEnv !== undefined) overrides.upstream = strip(upstream)
  const limits = {
    installDailyRequests: whole(str("install-daily-requests"), "--install-daily-requests"),
    ipDailyRequests: whole(str("ip-daily-requests"), "--ip-daily-requests"),
    newInstallsPerIp: whole(str("new-installs-per-ip"), "--new-installs-per-ip"),
  }
  if (Object.values(limits).some((v) => v !== undefined)) overrides.limits = strip(limits)
  return { kind: "run", configFile: str("config"), overrides }
}

/** The file's config with the flags laid over it, field by field. */
export function applyOverrides(base: RelayConfigInput | Record<string, unknown>, o: Overrides): unknown {
  const b = base as Record<string, unknown>
  const nested = (name: string, patch: object | undefined) => (patch ? { ...(isObject(b[name]) ? b[name] : {}), ...patch } : b[name])
  const out: Record<string, unknown> = { ...b }
  if (o.port !== undefined) out.port = o.port
  if (o.redisUrl !== undefined) out.redisUrl = o.redisUrl
  if (o.trustProxy) out.trustProxy = true
  if (o.upstream) out.upstream = nested("upstream", o.upstream)
  if (o.limits) out.limits = nested("limits", o.limits)
  return out
}

function whole(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d{1,9}$/.test(text)) throw new CliUsageError(`${flag} takes a whole number, 0 or more`)
  return Number(text)
}

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}
