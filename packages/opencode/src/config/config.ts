import fs from "node:fs/promises"
import { z } from "zod"
import { Paths } from "../global"
import * as Json from "../util/json"
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

/** Loads opencode.json. A missing file is an empty config; anything else wrong is an error naming the file. */
export async function load(env: Paths.Env = process.env): Promise<{ file: string; info: Info }> {
  const file = Paths.resolve(env).config
  let text: string
  try {
    text = await fs.readFile(file, "utf8")
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT") return { file, info: {} }
    if (code === "EISDIR") throw new ConfigInvalidError(file, "it is a directory, not a JSON file")
    throw new ConfigInvalidError(file, `it cannot be read (${code ?? String(error)})`)
  }
  return { file, info: parse(file, text, env) }
}

export function parse(file: string, text: string, env: Paths.Env = process.env): Info {
  // Errors are located on the file as written: a position found after substitution would point
  // at the wrong column and reveal how long the substituted secret is. References sit inside
  // strings and substitution JSON-escapes, so a valid raw file stays valid once substituted.
  const raw = Json.parse(text)
  if (!raw.ok) throw new ConfigInvalidError(file, `it is not valid JSON (${Json.describe(raw)})`)
  const json = Json.parse(substituteEnv(text, env))
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
