import { z } from "zod"
import { Paths } from "../global"
import * as Json from "../util/json"
import * as ReadFile from "../util/read-file"
import { RuntimeError } from "../util/error"

const ProviderOptions = z
  .object({
    baseURL: z.url({ protocol: /^https?$/ }).optional(),
    apiKey: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .passthrough()

const ModelConfig = z
  .object({
    name: z.string().optional(),
    cost: z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).partial().optional(),
  })
  .passthrough()

export const ProviderConfig = z
  .object({
    npm: z.string().optional(),
    name: z.string().optional(),
    options: ProviderOptions.optional(),
    models: z.record(z.string(), ModelConfig).optional(),
  })
  .passthrough()
export type ProviderConfig = z.infer<typeof ProviderConfig>

// Above a day a timer overflows or means "never", which is what these settings exist to prevent.
const MAX_DEADLINE_MS = 86_400_000
const milliseconds = (min: number) =>
  z
    .number({ error: "expected a number of milliseconds, for example 90000 for 90 s" })
    .int({ error: "expected a whole number of milliseconds" })
    .min(min, { error: `must be at least ${min} (milliseconds)` })
    .max(MAX_DEADLINE_MS, { error: `must be at most ${MAX_DEADLINE_MS} (24 hours, in milliseconds)` })

/**
 * `pawwork.timeouts`: every field optional, each a number of milliseconds. Strict: a misspelt
 * deadline that silently did nothing would leave the turn it was meant to bound unbounded.
 */
export const Timeouts = z.strictObject(
  {
    /** Request sent → the response is there (status and headers). */
    firstByteMs: milliseconds(100).optional(),
    /** Longest silence between stream events once the response is there; SSE comments are silence. */
    streamIdleMs: milliseconds(100).optional(),
    /** One attempt from request to last token, so a trickle of tokens cannot hold a turn forever. */
    responseMs: milliseconds(100).optional(),
    /** Total waiting between retries in one turn, retry-after included; 0 never waits. */
    turnWaitBudgetMs: milliseconds(0).optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}; the fields are firstByteMs, streamIdleMs, responseMs and turnWaitBudgetMs` : undefined) },
)
export type Timeouts = z.infer<typeof Timeouts>

/**
 * `pawwork.quota`: the Go threshold warnings and the cache of remote usage figures (quota/,
 * docs/status.md). Strict, like timeouts: a misspelt setting that silently did nothing would leave
 * the user unwarned.
 */
export const QuotaSettings = z.strictObject(
  {
    /** Percent marks that warn once per window period; `false` turns warnings (and "restored" notices) off. */
    thresholds: z
      .union([
        z.literal(false),
        z
          .array(z.number({ error: "expected a percent between 1 and 100" }).int({ error: "expected a whole percent" }).min(1).max(100), {
            error: "expected a list of percents such as [50, 80, 95], or false",
          })
          .max(10, { error: "at most 10 thresholds" }),
      ], { error: "expected a list of percents such as [50, 80, 95], or false" })
      .optional(),
    /** How old cached remote figures (Go meters, Zen balance) may be before they are fetched again. */
    cacheMaxAgeSec: z
      .number({ error: "expected a number of seconds, for example 300" })
      .int({ error: "expected a whole number of seconds" })
      .min(0, { error: "must be at least 0 (seconds)" })
      .max(86_400, { error: "must be at most 86400 (a day, in seconds)" })
      .optional(),
    /** Where `status` reads the Zen balance and 30-day spend (the console API, as `usage zen` does). */
    console: z
      .strictObject(
        {
          cookieFile: z.string().min(1).optional(),
          cookieEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" }).optional(),
          apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected an environment variable name" }).optional(),
          org: z.string().regex(/^(?:org|wrk)_[0-9A-Za-z]{1,64}$/, { error: "expected an org id (org_… or wrk_…)" }).optional(),
          baseURL: z.url({ protocol: /^https?$/ }).optional(),
        },
        { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}; the fields are cookieFile, cookieEnv, apiKeyEnv, org and baseURL` : undefined) },
      )
      .optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(", ")}; the fields are thresholds, cacheMaxAgeSec and console` : undefined) },
)
export type QuotaSettings = z.infer<typeof QuotaSettings>

export const Info = z
  .object({
    $schema: z.string().optional(),
    model: z.string().optional(),
    provider: z.record(z.string(), ProviderConfig).optional(),
    /** PawWork's own settings; unknown keys are kept so newer files still load. */
    pawwork: z
      .object({
        /** false: never send the per-install identity header (see README, "Install identity"). */
        installIdentity: z.boolean().optional(),
        /** How long a turn waits on the provider; defaults and reasons in session/deadline.ts and docs/deadlines.md. */
        timeouts: Timeouts.optional(),
        /** Quota warnings and status (quota/, docs/status.md). */
        quota: QuotaSettings.optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough()
export type Info = z.infer<typeof Info>

export class ConfigInvalidError extends RuntimeError {
  readonly code = "config_invalid"
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`The config file ${file} could not be used: ${problem}. Fix the file (or point OPENCODE_CONFIG elsewhere) and try again; nothing was changed.`)
    this.name = "ConfigInvalidError"
  }
}

/** The most opencode.json may hold: far above any real config, far below what would hurt. */
export const MAX_BYTES = 4 * 1024 * 1024

/** Loads opencode.json. A missing file is an empty config; anything else wrong is an error naming the file. */
export async function load(env: Paths.Env = process.env): Promise<{ file: string; info: Info }> {
  const file = Paths.resolve(env).config
  let text: string
  try {
    text = (await ReadFile.readText(file, { maxBytes: MAX_BYTES })).text
  } catch (error) {
    if (error instanceof ReadFile.FileReadError) {
      if (error.reason === "missing") return { file, info: {} }
      throw new ConfigInvalidError(file, `it ${error.problem}`)
    }
    throw error
  }
  return { file, info: parse(file, text, env) }
}

export function parse(file: string, text: string, env: Paths.Env = process.env): Info {
  // OpenCode reads opencode.json as JSONC. Errors are located on the file as written: a position
  // found after substitution would point at the wrong column and reveal how long the substituted
  // secret is. Comments go before substitution (a reference in a comment is no reference), and
  // references sit inside strings and substitution JSON-escapes, so a valid raw file stays valid.
  const raw = Json.parse(text, { jsonc: true })
  if (!raw.ok) throw new ConfigInvalidError(file, `it is not valid JSON (${Json.describe(raw)})`)
  const stripped = Json.stripJsonc(text)
  const json = Json.parse(substituteEnv(stripped.ok ? stripped.text : text, env))
  if (!json.ok) throw new ConfigInvalidError(file, "it is not valid JSON once its {env:VAR} references are substituted")
  const result = Info.safeParse(json.value)
  if (!result.success) {
    const issue = result.error.issues[0]!
    const where = issue.path.length ? issue.path.map(String).join(".") : "(top level)"
    throw new ConfigInvalidError(file, `${where}: ${issue.message}`)
  }
  return result.data
}

// OpenCode lets a config say `"apiKey": "{env:MY_KEY}"` so keys stay out of the file.
function substituteEnv(text: string, env: Paths.Env) {
  return text.replace(/\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => JSON.stringify(env[name] ?? "").slice(1, -1))
}
