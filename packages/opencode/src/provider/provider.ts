import { createOpenAICompatible } from "@ai-sdk/openai-compatible"
import type { LanguageModel } from "ai"
import { Paths } from "../global"
import { Config } from "../config"
import * as Auth from "../auth"
import * as Identity from "../auth/identity"
import { RuntimeError } from "../util/error"
import { fingerprint } from "../util/fingerprint"
import { BUILTIN, DEFAULT_MODEL, type ModelDefinition } from "./catalog"
import { surfaceErrorBodies } from "./error-response"
import * as KeyText from "./key-text"

/**
 * Where the key a request goes out with came from. `public` is the anonymous Zen key; `none` is a
 * custom provider used without any key. See README, "Which key is used".
 */
export type AuthSource = "config" | "auth" | "env" | "public" | "none"

export interface Credential {
  /** The key to send. Never log or print it: use `fingerprint`. */
  key: string | undefined
  source: AuthSource
  /** The variable the key came from, when `source` is `env`. */
  envVar?: string
  /** Short one-way hash of the key, when there is a real key (not `public`). */
  fingerprint?: string
  /** The key had whitespace around it where it was read (a pasted newline, an env file); trimmed there. */
  trimmed?: true
}

export interface Model extends ModelDefinition {
  providerID: string
  free: boolean
}

export interface Info {
  id: string
  name: string
  npm: string
  baseURL: string
  /** The id starts with `opencode`: OpenCode's `x-opencode-*` headers and diagnostics, as upstream. */
  opencode: boolean
  /**
   * One of the built-in OpenCode gateway providers (`opencode`, `opencode-go`), whatever base URL
   * opencode.json gives it: only these fall back to the anonymous `public` key and get the install
   * token. A provider the user declares under an `opencode…` id may point at any host, and the
   * token must not go to a third party just because of a name.
   */
  gateway: boolean
  credential: Credential
  /** opencode.json `options.headers`, sent with every request (OpenCode forwards them the same way). */
  headers: Record<string, string>
  /** Models usable with this credential. */
  models: Record<string, Model>
  /** Paid models left out because no key is configured. */
  hidden: string[]
}

/** A provider and one of its models. */
export interface Selection {
  provider: Info
  model: Model
}

/**
 * A model ready to be called: what every request and every report on it works from. The key's
 * source and fingerprint are in `provider.credential`; `install` says whether and which install
 * identity goes out (raw token non-enumerable, like the key).
 */
export interface Resolved extends Selection {
  install: Identity.Tag
}

export class ModelNotFoundError extends RuntimeError {
  readonly code = "model_not_found"
  constructor(
    readonly requested: string,
    readonly available: string[],
    hint?: string,
  ) {
    super(
      `Unknown model "${requested}".${hint ? ` ${hint}` : ""} Available: ${available.length ? available.join(", ") : "none"}. Run \`models\` to list them.`,
    )
    this.name = "ModelNotFoundError"
  }
}

export class UnsupportedProviderError extends RuntimeError {
  readonly code = "provider_unsupported"
  constructor(
    readonly providerID: string,
    readonly detail: string,
  ) {
    super(`Provider "${providerID}" cannot be used: ${detail}.`)
    this.name = "UnsupportedProviderError"
  }
}

export class KeyInvalidError extends RuntimeError {
  readonly code = "key_invalid"
  constructor(
    readonly providerID: string,
    readonly where: string,
    readonly problem: string,
    fix: string,
  ) {
    super(`The API key for ${providerID} in ${where} ${problem}, which no HTTP request can carry. ${fix}`)
    this.name = "KeyInvalidError"
  }
}

export class HeaderInvalidError extends RuntimeError {
  readonly code = "header_invalid"
  constructor(
    readonly providerID: string,
    readonly header: string,
    readonly problem: string,
  ) {
    super(
      `The header "${header}" configured for ${providerID} in opencode.json (provider.${providerID}.options.headers) ${problem}, which no HTTP request can carry. Fix it and try again.`,
    )
    this.name = "HeaderInvalidError"
  }
}

export const SUPPORTED_NPM = "@ai-sdk/openai-compatible"

export function isOpencode(providerID: string) {
  return providerID.startsWith("opencode")
}

export function isGateway(providerID: string) {
  return isOpencode(providerID) && Object.hasOwn(BUILTIN, providerID)
}

export function parseModel(value: string): { providerID: string; modelID: string } {
  const slash = value.indexOf("/")
  if (slash <= 0 || slash === value.length - 1)
    throw new ModelNotFoundError(value, [], "Models are named <provider>/<model>, for example opencode/big-pickle.")
  return { providerID: value.slice(0, slash), modelID: value.slice(slash + 1) }
}

/**
 * Every provider known from the built-in catalogue and opencode.json, with its credential resolved
 * and its models filtered for that credential, as OpenCode's provider state does it.
 */
export async function list(env: Paths.Env = process.env): Promise<Record<string, Info>> {
  return (await load(env)).providers
}

async function load(env: Paths.Env): Promise<{ config: Config.Info; providers: Record<string, Info> }> {
  const [{ info: config }, auth] = await Promise.all([Config.load(env), Auth.read(env)])
  const result: Record<string, Info> = {}
  const ids = new Set([...Object.keys(BUILTIN), ...Object.keys(config.provider ?? {})])
  for (const id of ids) {
    const builtin = BUILTIN[id]
    const configured = config.provider?.[id]
    const models: Record<string, ModelDefinition> = { ...builtin?.models }
    for (const [modelID, m] of Object.entries(configured?.models ?? {})) {
      const base = models[modelID]
      models[modelID] = {
        id: modelID,
        name: m.name ?? base?.name ?? modelID,
        cost: { input: m.cost?.input ?? base?.cost.input ?? 0, output: m.cost?.output ?? base?.cost.output ?? 0 },
        limit: base?.limit ?? { context: 128_000, output: 16_000 },
      }
    }
    const credential = resolveCredential(id, builtin?.env ?? [], configured?.options?.apiKey, auth.entries[id], auth.invalid[id], env)
    const visible: Record<string, Model> = {}
    const hidden: string[] = []
    for (const [modelID, m] of Object.entries(models)) {
      const free = m.cost.input === 0
      // Upstream rule: on the anonymous key only zero-input-cost models are offered.
      if (credential.source === "public" && !free) hidden.push(modelID)
      else visible[modelID] = { ...m, providerID: id, free }
    }
    result[id] = {
      id,
      name: configured?.name ?? builtin?.name ?? id,
      npm: configured?.npm ?? builtin?.npm ?? SUPPORTED_NPM,
      baseURL: stripSlash(configured?.options?.baseURL ?? builtin?.baseURL ?? ""),
      opencode: isOpencode(id),
      gateway: isGateway(id),
      credential,
      headers: checkHeaders(id, configured?.options?.headers),
      models: visible,
      hidden,
    }
  }
  return { config, providers: result }
}

/**
 * Key precedence, as OpenCode applies it (its getSDK: `options.apiKey` first, then `provider.key`,
 * where a saved auth.json key was merged over an env key): opencode.json `options.apiKey`, then the
 * saved auth.json key, then the provider's env variable, then, for the built-in OpenCode gateway
 * providers (upstream's opencode loader), the anonymous `public`.
 */
export function resolveCredential(
  providerID: string,
  envVars: string[],
  configKey: string | undefined,
  saved: Auth.Info | undefined,
  savedInvalid: string | undefined,
  env: Paths.Env,
): Credential {
  // Each key is trimmed and checked here, once, where it is read: see key-text.ts.
  const keyed = (raw: string, source: AuthSource, where: string, fix: string, envVar?: string): Credential => {
    const checked = KeyText.check(raw)
    if (!checked.ok) throw new KeyInvalidError(providerID, where, checked.problem, fix)
    const { key, trimmed } = checked
    return withHiddenKey({ source, ...(envVar ? { envVar } : {}), fingerprint: fingerprint(key), ...(trimmed ? { trimmed: true as const } : {}) }, key)
  }
  if (configKey && configKey.trim() !== "")
    return keyed(
      configKey,
      "config",
      `opencode.json (provider.${providerID}.options.apiKey)`,
      "Fix the value in opencode.json, or in the environment variable its {env:...} reference names, and try again.",
    )
  if (savedInvalid) throw new Auth.AuthFileError(Auth.filePath(env), `has an unusable entry for "${providerID}" (${savedInvalid})`)
  if (saved?.type === "api")
    return keyed(saved.key, "auth", Auth.filePath(env), `Save the key again with \`auth set ${providerID}\`, which refuses such keys.`)
  for (const name of envVars) {
    const value = env[name]
    if (value && value.trim() !== "") return keyed(value, "env", `the environment variable ${name}`, `Set ${name} to the key alone and try again.`, name)
  }
  if (isGateway(providerID)) return withHiddenKey({ source: "public" }, "public")
  return withHiddenKey({ source: "none" }, undefined)
}

// The key is non-enumerable so that serialising a credential, a provider or a resolved model (into a
// log line, a diagnostic record, `--json` output) can never carry it: it is read only where it is sent.
function withHiddenKey(credential: Omit<Credential, "key">, key: string | undefined): Credential {
  return Object.defineProperty(credential, "key", { value: key, enumerable: false }) as Credential
}

/**
 * Looks a model up among those usable with the current credentials (unknown: a clear error listing
 * them) and attaches the install identity. The identity is loaded here, once per process, so the
 * request path only reads it from the resolved model.
 */
export async function getModel(providerID: string, modelID: string, env: Paths.Env = process.env): Promise<Resolved> {
  const { config, providers } = await load(env)
  const selection = pick(providers, providerID, modelID)
  const identity = await Identity.resolve(env, config)
  return { ...selection, install: Identity.tag(identity, selection.provider.gateway) }
}

export function pick(providers: Record<string, Info>, providerID: string, modelID: string): Selection {
  const provider = providers[providerID]
  const model = provider?.models[modelID]
  if (provider && model) return { provider, model }
  const available = Object.values(providers).flatMap((p) => Object.keys(p.models).map((m) => `${p.id}/${m}`))
  const hint = provider?.hidden.includes(modelID)
    ? `It is a paid model and no OpenCode API key is configured (set OPENCODE_API_KEY or run \`auth set ${providerID}\`).`
    : undefined
  throw new ModelNotFoundError(`${providerID}/${modelID}`, available, hint)
}

/** The default model: opencode.json `model`, else the built-in default. */
export async function defaultModel(env: Paths.Env = process.env) {
  const { info } = await Config.load(env)
  return info.model ? parseModel(info.model) : DEFAULT_MODEL
}

/**
 * Every secret value a request to this model carries, for removal from anything printed or logged
 * (through a SecretSet from @pawwork/secrets, which also decides what is too short to be one, and
 * that the anonymous `public` is none): the key, the install token, opencode.json header values, and
 * the credentials a base URL may hold (userinfo, query values), each as written and as decoded, since
 * a `+` in a query is a space once decoded but is echoed as `+` or `%2B`, and userinfo as the Basic
 * credential it is sent as.
 *
 * A header value that is a URL (OpenRouter's `HTTP-Referer`) counts only by its credentials, like the
 * base URL, and the few headers that never hold one (`X-Title`, `User-Agent`, ...) not at all: any 8
 * characters of a secret are removed, and `https://` would take every link out of every message.
 */
export function secretsOf(resolved: { provider: Info; install?: { token?: string } }): string[] {
  const { provider } = resolved
  const out = [provider.credential.key, resolved.install?.token, ...urlSecrets(provider.baseURL)]
  for (const [name, value] of Object.entries(provider.headers)) {
    if (PLAIN_HEADERS.has(name.toLowerCase())) continue
    if (/^https?:\/\//i.test(value.trim())) out.push(...urlSecrets(value.trim()))
    else out.push(value)
  }
  return out.filter((s): s is string => typeof s === "string" && s !== "")
}

// Headers whose value describes the client or the content, never a credential.
const PLAIN_HEADERS = new Set(["accept", "accept-language", "content-type", "user-agent", "x-title"])

function urlSecrets(raw: string): string[] {
  const out: string[] = []
  try {
    const url = new URL(raw)
    out.push(url.username, url.password, ...url.searchParams.values())
    const [user, password] = [decodeURIComponent(url.username), decodeURIComponent(url.password)]
    out.push(user, password)
    // fetch sends userinfo as `Authorization: Basic base64(user:password)`: an echo of that header is
    // the password too, in a shape no normalisation undoes.
    if (user || password) out.push(Buffer.from(`${user}:${password}`).toString("base64"))
  } catch {
    // not a URL, or a malformed escape in its userinfo: languageModel refuses it before anything is sent
  }
  const query = raw.indexOf("?")
  if (query >= 0) for (const pair of raw.slice(query + 1).split(/[&#]/)) out.push(pair.slice(pair.indexOf("=") + 1))
  return out
}

// RFC 9110's token: what a header name may be.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

// Header values go out as they are written (HTTP trims them): one with a control character inside
// would only fail later, as an HTTP client's "invalid header value" naming neither file nor header.
function checkHeaders(providerID: string, headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    // fetch refuses anything else as a name, as "Invalid header name" after the request is built.
    if (!HEADER_NAME.test(name)) throw new HeaderInvalidError(providerID, name, "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
    const bad = KeyText.forbidden(value.trim())
    if (bad) throw new HeaderInvalidError(providerID, name, `contains ${bad}`)
    out[name] = value
  }
  return out
}

// The SDK appends "/chat/completions" to the base URL as a string, so a query in it would swallow
// the path; it goes through the SDK's queryParams instead.
function splitQuery(baseURL: string): { baseURL: string; queryParams?: Record<string, string> } {
  const at = baseURL.indexOf("?")
  if (at < 0) return { baseURL }
  return { baseURL: stripSlash(baseURL.slice(0, at)), queryParams: Object.fromEntries(new URLSearchParams(baseURL.slice(at + 1))) }
}

// Keyed by the resolved provider object (base URL, key and headers are fixed for its lifetime), so a
// lookup on the request path builds no string and holds no key; dropped with the provider.
const models = new WeakMap<Info, Map<string, LanguageModel>>()

/**
 * The ai SDK model for a resolved model, cached per resolved provider and model: building one
 * compiles the SDK's response schemas, which costs more than the rest of a request's client-side
 * work, so the request path must not do it per call. Per-request headers go to streamText instead.
 */
export function languageModel(resolved: Selection, fetchImpl?: typeof fetch): LanguageModel {
  const { provider } = resolved
  if (provider.npm !== SUPPORTED_NPM)
    throw new UnsupportedProviderError(provider.id, `its npm package is ${provider.npm}, and this runtime bundles only ${SUPPORTED_NPM}`)
  if (!provider.baseURL) throw new UnsupportedProviderError(provider.id, "it has no options.baseURL in opencode.json")
  const cached = fetchImpl ? undefined : models.get(provider)?.get(resolved.model.id)
  if (cached) return cached
  const model = createOpenAICompatible({
    name: provider.id,
    ...splitQuery(provider.baseURL),
    ...(provider.credential.key !== undefined ? { apiKey: provider.credential.key } : {}),
    ...(Object.keys(provider.headers).length ? { headers: provider.headers } : {}),
    includeUsage: true,
    fetch: surfaceErrorBodies(fetchImpl),
  }).chatModel(resolved.model.id)
  if (!fetchImpl) {
    let byModel = models.get(provider)
    if (!byModel) models.set(provider, (byModel = new Map()))
    byModel.set(resolved.model.id, model)
  }
  return model
}

function stripSlash(url: string) {
  return url.replace(/\/+$/, "")
}
