import { SecretSet } from "@pawwork/secrets"
import { Provider } from "../provider"
import { fingerprint } from "../util/fingerprint"
import * as SessionLLM from "./llm"

/** One HTTP request exactly as the runtime would send it, secrets included: never print this. */
export interface Captured {
  url: string
  method: string
  headers: Record<string, string>
  body: string | undefined
}

class Stop extends Error {
  constructor() {
    super("dry run: request captured, not sent")
    this.name = "DryRunStop"
  }
}

/**
 * Builds a request through the real send path (SessionLLM.stream, the SDK, its header merging)
 * with a fetch that records the request and refuses to send it, so what is captured is exactly
 * what would have gone out.
 */
export async function capture(input: Omit<SessionLLM.StreamInput, "fetch" | "abortSignal">): Promise<Captured> {
  let captured: Captured | undefined
  // Stopping by abort rather than by a thrown error keeps the SDK from reporting a failure on stderr.
  const controller = new AbortController()
  const stub = async (target: string | URL | Request, init?: RequestInit) => {
    const request = target instanceof Request ? new Request(target, init) : new Request(target.toString(), init)
    captured = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: request.body === null ? undefined : await request.text(),
    }
    controller.abort(new Stop())
    throw controller.signal.reason
  }
  const result = SessionLLM.stream({ ...input, fetch: stub as unknown as typeof fetch, abortSignal: controller.signal })
  try {
    for await (const part of result.fullStream) if (part.type === "error" || part.type === "abort") break
  } catch {
    // The stop surfaces here, as an abort part or as an error part; either way the request was captured.
  }
  if (!captured) throw new Error("dry run: the SDK made no request")
  return captured
}

/** What `request --dry-run` shows: the request with every secret replaced by its fingerprint. */
export interface Report {
  url: string
  method: string
  providerID: string
  modelID: string
  authSource: Provider.AuthSource
  authEnvVar?: string
  keyFingerprint?: string
  /** The key had whitespace around it where it was read, and was trimmed (see README, "Which key is used"). */
  keyTrimmed?: true
  headers: Record<string, string>
  install: { fingerprint: string | null; persisted: boolean; sent: boolean; optedOut: boolean }
  body: unknown
}

export function report(model: Provider.Resolved, request: Captured): Report {
  const { credential } = model.provider
  const secrets = SecretSet.of(Provider.secretsOf(model))
  const scrub = (text: string) => secrets.remove(text)
  // Headers from opencode.json `options.headers` may carry credentials of their own (an x-api-key).
  const configured = new Set(Object.keys(model.provider.headers).map((name) => name.toLowerCase()))
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers).sort(([a], [b]) => a.localeCompare(b))) {
    if (name === "authorization") headers[name] = redactAuthorization(value)
    else if (name === "x-pawwork-install" || configured.has(name)) headers[name] = fingerprint(value)
    else headers[name] = scrub(value)
  }
  const body = request.body === undefined ? undefined : scrub(request.body)
  const result: Report = {
    url: scrub(redactURL(request.url)),
    method: request.method,
    providerID: model.provider.id,
    modelID: model.model.id,
    authSource: credential.source,
    ...(credential.envVar ? { authEnvVar: credential.envVar } : {}),
    ...(credential.fingerprint ? { keyFingerprint: credential.fingerprint } : {}),
    ...(credential.trimmed ? { keyTrimmed: true as const } : {}),
    headers,
    install: {
      fingerprint: model.install.fingerprint ?? null,
      persisted: model.install.persisted,
      sent: model.install.sent,
      optedOut: model.install.optedOut,
    },
    body: body === undefined ? null : parseJson(body),
  }
  // Last line of defence: a secret (or 8 characters of one) in a place not anticipated above must not be
  // printed. Header names and the provider and model ids are left out: they are the SDK's, this
  // runtime's and the user's own names, never secrets, and a configured header value sharing 8
  // characters with one ("acme-OpenCode" and x-opencode-session) refused every dry run.
  const checked = { ...result, providerID: "", modelID: "", headers: Object.values(result.headers) }
  if (secrets.leaks(JSON.stringify(checked))) throw new Error("dry run: refusing to print a request that still holds a secret")
  return result
}

// The scheme stays readable (support needs to see "Bearer"); the credential becomes its fingerprint,
// except the anonymous `public` key, which is no secret and is the very thing to spot.
function redactAuthorization(value: string) {
  const match = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(value)
  if (!match) return fingerprint(value)
  return `${match[1]} ${match[2] === "public" ? "public" : fingerprint(match[2]!)}`
}

// The path stays readable; credentials a base URL may carry (userinfo, query values) do not.
function redactURL(raw: string) {
  try {
    const url = new URL(raw)
    if (url.username) url.username = "redacted"
    if (url.password) url.password = "redacted"
    for (const [name, value] of [...url.searchParams]) url.searchParams.set(name, fingerprint(value))
    return url.href
  } catch {
    return raw.replace(/[?#].*$/s, "")
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
