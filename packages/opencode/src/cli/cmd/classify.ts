import fs from "node:fs/promises"
import { ProviderError, ProviderErrorMessage } from "../../provider"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli classify [--status <n>] [--header "name: value"]... [--body-file <path>|-] [--json] [--now <ISO time>]

Classifies a provider failure a user pasted: prints its normalized kind, whether waiting helps and
until when, and what PawWork tells the user. Anything credential-shaped in the body is redacted.

Options:
  --status <n>          HTTP status of the failed answer (100-599)
  --header "n: v"       a response header, repeatable (retry-after, retry-after-ms, ...)
  --body-file <path>    the response body; "-" reads it from stdin
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
  const body = values["body-file"] === undefined ? undefined : await readBody(values["body-file"], io)
  if (status === undefined && body === undefined)
    throw new Args.UsageError("Give at least --status or --body-file. See `cli classify --help`.")

  const info = ProviderError.classify({ status, headers, body }, now)
  if (values.json) return io.stdout(JSON.stringify(info) + "\n"), 0
  const origin = [info.statusCode ? `HTTP ${info.statusCode}` : "", info.upstreamType ?? "", info.upstreamCode ?? ""].filter(Boolean).join(", ")
  const lines = [
    `kind:          ${info.kind}${origin ? ` (${origin})` : ""}`,
    `action:        ${info.action}`,
    `waiting helps: ${ProviderErrorMessage.waiting(info, now)}`,
    ...(info.quotaScope ? [`quota:         ${info.quotaScope}${info.limitName ? ` (${info.limitName})` : ""}${info.workspaceID ? `, workspace ${info.workspaceID}` : ""}`] : []),
    ...(info.retryAfterRaw ? [`retry-after:   ${info.retryAfterRaw}`] : []),
    ...(info.message ? [`upstream says: ${info.message}`] : []),
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

async function readBody(path: string, io: IO) {
  const text = path === "-" ? await io.readStdin() : await readFile(path)
  return text.length > MAX_BODY_BYTES ? text.slice(0, MAX_BODY_BYTES) : text
}

async function readFile(path: string) {
  const file = await fs.open(path, "r").catch((error: NodeJS.ErrnoException) => {
    throw new Args.UsageError(`--body-file: cannot read "${path}" (${error.code ?? error.message}).`)
  })
  try {
    const buffer = Buffer.alloc(MAX_BODY_BYTES)
    const { bytesRead } = await file.read(buffer, 0, MAX_BODY_BYTES, 0)
    return buffer.subarray(0, bytesRead).toString("utf8")
  } catch (error) {
    throw new Args.UsageError(`--body-file: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? "read error"}).`)
  } finally {
    await file.close()
  }
}
