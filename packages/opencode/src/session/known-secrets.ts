import { SecretSet } from "@pawwork/secrets"
import * as Auth from "../auth"
import * as Identity from "../auth/identity"
import { Paths } from "../global"
import { BUILTIN } from "../provider/catalog"
import * as Provider from "../provider/provider"
import * as Json from "../util/json"
import * as ReadFile from "../util/read-file"

/**
 * Every secret this install holds: the keys in opencode.json, auth.json (every entry, used or not)
 * and the built-in providers' environment variables, configured header values and base-URL
 * credentials, and the install token. `diagnose` removes them from the records it reads back before
 * it shows or bundles them: a log written by an older version, copied from elsewhere or edited by
 * hand may hold one, and the bundle is what leaves the machine. Never throws and never creates
 * anything: a source that cannot be read contributes nothing.
 */
export async function of(env: Paths.Env): Promise<SecretSet> {
  const values: (string | undefined)[] = []
  const [providers, auth, token] = await Promise.all([
    Provider.list(env).catch(() => ({}) as Record<string, Provider.Info>),
    Auth.read(env).catch(() => undefined),
    installToken(env),
  ])
  for (const provider of Object.values(providers)) values.push(...Provider.secretsOf({ provider }))
  for (const info of Object.values(auth?.entries ?? {}))
    values.push(...(info.type === "api" ? [info.key] : info.type === "oauth" ? [info.refresh, info.access] : [info.key, info.token]))
  for (const builtin of Object.values(BUILTIN)) for (const name of builtin.env) values.push(env[name])
  values.push(token)
  return SecretSet.of(values)
}

// Fields that hold the runtime's own vocabulary and the user's ids, which the findings are written
// from: a configured header value naming the product ("pawwork-opencode-desktop") shares 8 characters
// with the provider id "opencode", and "[redacted]/big-pickle" helps nobody. The schema keeps them
// to short printable ids; free text (message, upstream type and code, ids the gateway sent) is cleaned.
const OWN_FIELDS = new Set(["event", "time", "providerID", "modelID", "authSource", "authEnvVar", "kind", "action", "origin", "stopReason", "quotaScope", "runtimeVersion", "keyFingerprint", "installFingerprint"])

/** A record with every trace of the secrets removed from each of its text fields but the runtime's own. */
export function remove<T extends object>(record: T, secrets: SecretSet): T {
  if (secrets.empty) return record
  const out: Record<string, unknown> = { ...(record as Record<string, unknown>) }
  for (const [field, value] of Object.entries(out)) if (typeof value === "string" && !OWN_FIELDS.has(field)) out[field] = secrets.remove(value)
  return out as T
}

async function installToken(env: Paths.Env): Promise<string | undefined> {
  try {
    const json = Json.parse((await ReadFile.readText(Identity.filePath(env), { maxBytes: 64 * 1024 })).text)
    const parsed = json.ok ? Identity.FileContents.safeParse(json.value) : undefined
    return parsed?.success ? parsed.data.token : undefined
  } catch {
    return undefined
  }
}
