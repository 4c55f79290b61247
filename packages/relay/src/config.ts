import { z } from "zod"

/**
 * The relay's configuration: one schema for the JSON file, the flags layered over it and
 * `startRelay({ config })`, so all three refuse the same mistakes with the same field paths.
 * Every allowance is per UTC day; `null` switches a limit off.
 */

const count = z.number().int().min(0)
// Spend is counted in whole micro-dollars with Redis' INCRBY: above this a value no longer prints
// as an integer (1e16 USD is "1e+22" micro-dollars), and every request would fail as if Redis were down.
const usd = z.number().finite().min(0).max(1_000_000_000)
const ms = (max: number) => z.number().int().min(1).max(max)

const upstreamSchema = z.strictObject({
  // One base URL (Zen `.../zen/v1` or Go `.../zen/go/v1`): the relay calls `<baseURL>/chat/completions` and nothing else.
  baseURL: z
    .string()
    .refine((s) => URL.canParse(s), "expected an absolute http(s) URL")
    .refine((s) => !URL.canParse(s) || ["http:", "https:"].includes(new URL(s).protocol), "expected an http or https URL")
    // A credential in the URL would end up in logs and errors; the key comes from keyEnv.
    .refine((s) => !URL.canParse(s) || (!new URL(s).username && !new URL(s).password && !new URL(s).search), "must not carry credentials or a query; put the key in the environment variable named by keyEnv"),
  keyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "expected an environment variable name"),
  // No status line and headers within this: 504 UpstreamTimeoutError.
  firstByteTimeoutMs: ms(600_000).default(90_000),
  // The whole answer, stream included; also how long a crashed relay's concurrency slot outlives it.
  responseTimeoutMs: ms(3_600_000).default(600_000),
})

const limitsSchema = z.strictObject({
  installDailyRequests: count.nullable().default(200),
  // Counted from the cost the upstream reports (plus costEstimateUSD reserved up front).
  installDailySpendUSD: usd.nullable().default(null),
  // Every install behind one address together.
  ipDailyRequests: count.nullable().default(2000),
  // Install tokens first seen today from one address: minting tokens buys no more than this.
  newInstallsPerIp: count.nullable().default(20),
  globalDailyRequests: count.nullable().default(null),
  globalDailySpendUSD: usd.nullable().default(null),
  // Requests in flight per install (streams and not).
  concurrentStreamsPerInstall: count.nullable().default(4),
  // Reserved against the spend allowances before forwarding, corrected by the reported cost after.
  costEstimateUSD: usd.default(0),
})

const boundsSchema = z.strictObject({
  maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  maxHeaders: z.number().int().min(8).max(256).default(64),
  // Client connections idle this long are closed (Bun's idleTimeout, seconds, at most 255).
  clientIdleTimeoutSec: z.number().int().min(1).max(255).default(255),
})

export const REDIS_POLICIES = ["fail-closed", "fail-open"] as const

export const configSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8787),
  hostname: z.string().min(1).default("127.0.0.1"),
  redisUrl: z
    .string()
    .refine((s) => URL.canParse(s) && ["redis:", "rediss:", "valkey:", "valkeys:", "redis+unix:"].includes(new URL(s).protocol), "expected a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379"),
  // What to do when Redis does not answer: refuse (503 RelayUnavailableError) or count in this instance's memory.
  redisPolicy: z.enum(REDIS_POLICIES).default("fail-closed"),
  // One Redis command's deadline; past it Redis counts as down for that request.
  redisTimeoutMs: ms(10_000).default(250),
  // Every key starts with this; wrap it in braces ({pawwork-relay}:) to keep all keys on one Redis Cluster slot.
  keyPrefix: z.string().regex(/^[A-Za-z0-9:{}_-]{1,64}$/, "expected letters, digits, ':', '_', '-', '{' or '}'").default("pawwork-relay:"),
  // Take the client address from x-real-ip (else the last x-forwarded-for entry): only behind a load balancer that sets them.
  trustProxy: z.boolean().default(false),
  upstream: upstreamSchema,
  // The only models forwarded; anything else is refused before it is counted.
  models: z.array(z.string().regex(/^[A-Za-z0-9._:/-]{1,128}$/, "expected a model id")).min(1),
  limits: limitsSchema.default(limitsSchema.parse({})),
  bounds: boundsSchema.default(boundsSchema.parse({})),
})

export type RelayConfigInput = z.input<typeof configSchema>
export type RelayConfig = z.output<typeof configSchema>
export type Limits = RelayConfig["limits"]

/** Bad configuration; `field` is the path of the first problem, e.g. `limits.installDailyRequests`. */
export class RelayConfigError extends Error {
  override readonly name = "RelayConfigError"
  readonly field: string
  constructor(readonly issues: { field: string; message: string }[]) {
    super(issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; "))
    this.field = issues[0]?.field ?? ""
  }
}

export function parseConfig(input: unknown): RelayConfig {
  const result = configSchema.safeParse(input ?? {})
  if (result.success) return result.data
  throw new RelayConfigError(
    // The message never quotes the value: a misplaced key must not end up on a terminal.
    result.error.issues.map((issue) => ({ field: issue.path.map(String).join("."), message: issue.message })),
  )
}
