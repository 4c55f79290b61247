import * as Auth from "../auth"
import { Config } from "../config"
import type { Paths } from "../global"
import { fingerprint } from "../util/fingerprint"

/**
 * Where the key of a watched request came from, as far as this install can tell: the anonymous
 * `public`, no key, or a key the runtime knows (opencode.json, auth.json, `OPENCODE_API_KEY`, in
 * the runtime's own order of precedence), else `host`: the host program's own key, from settings
 * this module cannot see. Read on the failure path only, so the files are read when a record is
 * written, never per request, and always as they are now.
 */

export type Source = "config" | "auth" | "env" | "public" | "none" | "host"

export interface Found {
  source: Source
  envVar?: string
  fingerprint?: string
}

export const ENV_KEY = "OPENCODE_API_KEY"

export async function find(key: string | undefined, providerID: string, env: Paths.Env): Promise<Found> {
  if (key === undefined || key === "") return { source: "none" }
  if (key === "public") return { source: "public" }
  const found = { fingerprint: fingerprint(key) }
  // A file that cannot be read says nothing about this key: the next source is asked.
  const config = await Config.load(env).then((c) => c.info, () => undefined)
  if (config?.provider?.[providerID]?.options?.apiKey?.trim() === key) return { source: "config", ...found }
  const saved = await Auth.read(env).then((a) => a.entries[providerID], () => undefined)
  if (saved?.type === "api" && saved.key.trim() === key) return { source: "auth", ...found }
  if (env[ENV_KEY]?.trim() === key) return { source: "env", envVar: ENV_KEY, ...found }
  return { source: "host", ...found }
}
