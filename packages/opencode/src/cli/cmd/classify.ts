import { ProviderError, ProviderErrorMessage } from "../../provider"
import * as KnownSecrets from "../../session/known-secrets"
import * as ReadFile from "../../util/read-file"
import * as Args from "../args"
import type { IO, StdinText } from "../io"

export const help = `Usage: cli classify [--status <n>] [--header "name: value"]... [--body-file <path>|-] [--provider <id>] [--json] [--now <ISO time>]

Classifies a provider failure a user pasted: prints its normalized kind, whether waiting helps and
until when, and what PawWork tells the user. Anything credential-shaped in the body is redacted, and
so is any piece of this install's own keys, header values or install token.

Options:
  --status <n>          HTTP status of the failed answer (100-599)
  --header "n: v"       a response header, repeatable (retry-after, retry-after-ms, ...)
  --body-file <path>    the response body; "-" reads it from stdin
  --provider <id>       the provider the request went to (default: an OpenCode gateway one); name a
                        custom provider so an answer of its own speaks about the key set for it
  --json                print the normalized record as one JSON object
  --now <ISO time>      the time the failure happened (default: now), for retry-after and resetAt
  -h, --help            show this help`

/** Bodies beyond this are cut: the classifier looks at far less, and a paste is never this big. */
const MAX_BODY_BYTES = 1024 * 1024

export async function run(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = Args.parse(
    argv,
    {
      status: { type: "string" },
      header: { type: "string", multiple: true },
      "body-file": { type: "string" },
      provider: { type: "string" },
      json: { type: "boolean" },
      now: { type: "string" },
    },
    "cli classify",
  )
  if (values.help) return io.stdout(help + "\n"), 0
  if (positionals.length) throw new Args.UsageError(`classify takes no arguments (got "${positionals[0]}"); pass the body with --body-file. See \`cli classify --help\`.`)
  const status = parseStatus(values.status)
  const headers = parseHeaders(values.header ?? [])
  const now = parseNow(values.now)
  const read = values["body-file"] === undefined ? undefined : await readBody(values["body-file"], io)
  const body = read?.text
  if (status === undefined && body === undefined)
    throw new Args.UsageError("Give at least --status or --body-file. See `cli classify --help`.")

  const provider = parseProvider(values.provider)
  // A pasted answer may echo this install's own key or token: removed like any other echo.
  const secrets = await KnownSecrets.of(io.env)
  const info = ProviderError.classify({ status, headers, body }, now, { secrets, ...(provider ? { providerID: provider } : {}) })
  const cut = read?.truncated ? `only the first ${MAX_BODY_BYTES / 1024 / 1024} MiB was read; the rest was ignored` : undefined
  if (values.json) {
    // stdout stays one JSON object; the note goes beside it.
    if (cut) io.stderr(`classify: the body is over the cap: ${cut}.\n`)
    return io.stdout(JSON.stringify(info) + "\n"), 0
  }
  const origin = [info.statusCode ? `HTTP ${info.statusCode}` : "", info.upstreamType ?? "", info.upstreamCode ?? ""].filter(Boolean).join(", ")
  const lines = [
    `kind:          ${info.kind}${origin ? ` (${origin})` : ""}`,
    `origin:        ${info.origin} (${ProviderErrorMessage.originText(info)})`,
    `action:        ${info.action}`,
    `waiting helps: ${ProviderErrorMessage.waiting(info, now)}`,
    ...(info.quotaScope ? [`quota:         ${info.quotaScope}${info.limitName ? ` (${info.limitName})` : ""}${info.workspaceID ? `, workspace ${info.workspaceID}` : ""}`] : []),
    ...(info.retryAfterRaw ? [`retry-after:   ${info.retryAfterRaw}`] : []),
    ...(info.message ? [`upstream says: ${info.message}`] : []),
    ...(cut ? [`body:          ${cut}`] : []),
    "",
    info.userMessage,
  ]
  io.stdout(lines.join("\n") + "\n")
  return 0
}

function parseStatus(value: string | undefined) {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d{3}$/.test(value.trim()) || n < 100 || n > 599) throw new Args.UsageError(`--status takes an HTTP status from 100 to 599, not "${value.slice(0, 20)}".`)
  return n
}

function parseProvider(value: string | undefined) {
  if (value === undefined) return undefined
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)) throw new Args.UsageError(`--provider takes a provider id such as opencode or mine, not "${value.slice(0, 40)}".`)
  return value
}

function parseHeaders(values: string[]) {
  const headers: [string, string][] = []
  for (const value of values) {
    const colon = value.indexOf(":")
    const name = colon > 0 ? value.slice(0, colon).trim() : ""
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
      throw new Args.UsageError(`--header takes "name: value", for example --header "retry-after: 60"; got "${value.slice(0, 40)}".`)
    headers.push([name.toLowerCase(), value.slice(colon + 1).trim()])
  }
  return headers
}

function parseNow(value: string | undefined) {
  if (value === undefined) return Date.now()
  const at = Date.parse(value)
  if (!Number.isFinite(at)) throw new Args.UsageError(`--now takes an ISO time such as 2026-11-21T10:02:57Z, not "${value.slice(0, 40)}".`)
  return at
}

/** At most MAX_BODY_BYTES from the file or stdin, and whether there was more. */
async function readBody(path: string, io: IO): Promise<StdinText> {
  return path === "-" ? io.readStdin(MAX_BODY_BYTES) : readFile(path)
}

async function readFile(path: string): Promise<StdinText> {
  try {
    // Only a regular file (a FIFO named here would block), its first MAX_BODY_BYTES.
    return await ReadFile.readText(path, { maxBytes: MAX_BODY_BYTES, truncate: true })
  } catch (error) {
    throw new Args.UsageError(`--body-file: ${ReadFile.describe(path, error).message}`)
  }
}
