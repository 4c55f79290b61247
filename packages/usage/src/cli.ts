/**
 * `usage zen` / `usage go`: argument handling and output. Wired into the
 * main CLI elsewhere; everything it touches comes in through `io`.
 */
import type { ZenBilling } from "./billing.ts"
import { UsageError, cookieSecrets, scrub } from "./errors.ts"
import { DEFAULT_GO_BASE_URL, type GoUsage, fetchGoUsage } from "./go.ts"
import { type FetchLike, UNSENDABLE } from "./http.ts"
import { EXPERIMENTAL_NOTICE, errorJson, goJson, renderErrorHuman, renderGoHuman, renderZenHuman, toErrorLike, toJsonText, zenJson } from "./render.ts"
import { DEFAULT_ZEN_BASE_URL, MAX_PAGE_BYTES, WORKSPACE_ID, normaliseCookie, parseBillingHtml } from "./zen.ts"
import { ORG_ID } from "./console/payloads.ts"
import { readZenUsage } from "./console/read.ts"
import { renderZenUsageHuman, zenUsageJson } from "./console/render.ts"

export interface UsageIO {
  stdout(s: string): void
  stderr(s: string): void
  env: Record<string, string | undefined>
  /**
   * Reads a file the user named, as UTF-8, at most `maxBytes` (the caller refuses a larger file,
   * a directory, a device or a FIFO without blocking); a failure's message names the file and why.
   */
  readFile(path: string, maxBytes: number): Promise<string>
  /**
   * The Go key to use when no --api-key-env is given. The caller decides which one; the opencode
   * CLI gives the key its runtime would send to opencode-go (see GO_HELP).
   */
  savedGoKey?: () => Promise<string | undefined>
  /**
   * The Go API base to use when no --base-url is given: the caller's configured one (the opencode
   * CLI gives opencode-go's baseURL from opencode.json), so a configured key only goes to its host.
   */
  goBaseURL?: () => Promise<string | undefined>
  /** Test seams; production uses the global fetch and clock. */
  fetch?: FetchLike
  now?: () => number
}

/** A saved billing page: the same cap as a page read over HTTP. */
export const MAX_HTML_FILE_BYTES = MAX_PAGE_BYTES
/** A Cookie header value: browsers send a few KiB at most. */
export const MAX_COOKIE_FILE_BYTES = 64 * 1024

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

const TOP_HELP = `usage <zen|go> [options]   (EXPERIMENTAL)

  usage zen   Zen balance, Go meters and 30-day spend (console API); Black windows (legacy billing page)
  usage go    OpenCode Go usage windows (rolling 5h, weekly, monthly)

Run "usage zen --help" or "usage go --help" for options.
`

const ZEN_HELP = `usage zen (--cookie-file <path> | --cookie-env <VAR> | --api-key-env <VAR>) [--org <org_id>] [--base-url <url>] [--json]
usage zen --html-file <saved billing page> [--workspace <wrk_id>] [--json]

EXPERIMENTAL: reads OpenCode's console API (undocumented and internal; it may
change without notice): the org, balance, Go meters and 30-day spend; and, for
a workspace with a Black subscription, the legacy billing page's figures and
Black windows (only with the old \`auth\` cookie, which is sent to that page only).

  --cookie-file <path>  file holding the console session: __Host-console_session=<value> (a whole
                        pasted Cookie header is fine: only the session cookies are ever sent); mode 0600
  --cookie-env <VAR>    environment variable holding the same
  --api-key-env <VAR>   environment variable holding a console service-account key (oc_sk_...), sent as Bearer
  --org <id>            org to read, org_... (or a legacy wrk_... id); default: the account's only org
  --workspace <id>      the same as --org; with --html-file, the workspace in a saved page
  --base-url <url>      console origin (default ${DEFAULT_ZEN_BASE_URL})
  --html-file <path>    parse a saved legacy billing page instead of fetching (offline; for drift reports)
  --json                print JSON instead of a table
`

/** The Go API's path under the gateway's origin. */
const GO_API_PATH = new URL(DEFAULT_GO_BASE_URL).pathname

const GO_HELP = `usage go [--api-key-env <VAR>] [--base-url <url>] [--json]

EXPERIMENTAL: reads GET <Go API base>/usage with a Go API key.

Without --api-key-env, the key is the one the runtime would send to opencode-go:
provider["opencode-go"].options.apiKey in opencode.json, else the key saved for
opencode-go (auth set opencode-go), else OPENCODE_API_KEY; failing those, the
key saved for opencode.

  --api-key-env <VAR>   environment variable holding the Go API key (used instead of the above)
  --base-url <url>      the Go API base, or just an origin such as http://127.0.0.1:4096 (what
                        probe --base-url takes): a URL with no path gets ${GO_API_PATH} added.
                        Default: the opencode-go baseURL the runtime uses (opencode.json's
                        provider["opencode-go"].options.baseURL, e.g. a relay), so the key goes
                        only where it is configured to; else ${DEFAULT_GO_BASE_URL}
  --json                print JSON instead of a table
`

type FlagSpec = Record<string, "value" | "switch">

const ZEN_FLAGS: FlagSpec = {
  "--cookie-file": "value",
  "--cookie-env": "value",
  "--workspace": "value",
  "--org": "value",
  "--api-key-env": "value",
  "--base-url": "value",
  "--html-file": "value",
  "--json": "switch",
  "--help": "switch",
}

const GO_FLAGS: FlagSpec = {
  "--api-key-env": "value",
  "--base-url": "value",
  "--json": "switch",
  "--help": "switch",
}

type Flags = Map<string, string | true>

function parseFlags(command: string, argv: readonly string[], spec: FlagSpec): Flags {
  const flags: Flags = new Map()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    if (arg === "-h") {
      flags.set("--help", true)
      continue
    }
    const eq = arg.indexOf("=")
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg
    const kind = spec[name]
    if (!arg.startsWith("-")) throw badArgs(`unexpected argument "${clip(arg)}" for "usage ${command}"`)
    if (!kind) throw badArgs(`unknown flag ${clip(name)} for "usage ${command}" (see usage ${command} --help)`)
    if (flags.has(name)) throw badArgs(`${name} given twice`)
    if (kind === "switch") {
      if (eq > 0) throw badArgs(`${name} takes no value`)
      flags.set(name, true)
      continue
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) throw badArgs(`${name} needs a value`)
    flags.set(name, value)
  }
  return flags
}

/** Flag names and values the user typed are echoed in errors; keep them short and secret-free. */
function clip(s: string): string {
  const t = scrub(s)
  return t.length > 60 ? `${t.slice(0, 60)}…` : t
}

/** Said here, naming the source, rather than as the HTTP client's "invalid header value" (the key is never shown). */
function refuseUnsendable(key: string, what: string, envName: string | undefined) {
  if (UNSENDABLE.test(key))
    throw badArgs(
      `${what}${envName !== undefined ? ` in ${clip(envName)}` : ""} contains a control or invisible character (a line break, an escape, a zero-width space), or one past Latin-1 (a curly quote, a dash), that no HTTP request can carry; set it to the key alone`,
    )
}

function badArgs(message: string): UsageError {
  return new UsageError("bad_args", message)
}

function str(flags: Flags, name: string): string | undefined {
  const v = flags.get(name)
  return typeof v === "string" ? v : undefined
}

function checkBaseURL(raw: string, what = "--base-url"): string {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw badArgs(`${what} "${clip(raw)}" is not a URL`)
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") throw badArgs(`${what} must be http(s)`)
  // Credentials must not cross the network in clear text; loopback is for simulators and tests.
  const loopback = u.hostname === "localhost" || u.hostname === "127.0.0.1" || u.hostname === "[::1]"
  if (u.protocol === "http:" && !loopback) throw badArgs(`${what} must use https (http is allowed only for localhost)`)
  return raw
}

/** `usage go` takes the Go API base or, like probe, just the origin: an empty path means the gateway's Go API. */
function goBaseURL(raw: string): string {
  const u = new URL(raw)
  if (u.pathname !== "" && u.pathname !== "/") return raw
  return `${u.origin}${GO_API_PATH}`
}

export async function runUsageCommand(argv: string[], io: UsageIO): Promise<number> {
  const json = argv.includes("--json")
  const secrets: string[] = []
  // Everything printed passes the scrubber with the credentials actually read.
  const out = (s: string) => io.stdout(scrub(s, secrets))
  const err = (s: string) => io.stderr(scrub(s, secrets))
  const fail = (e: unknown, code: number): number => {
    const info = toErrorLike(e, secrets)
    if (json) out(toJsonText(errorJson(info)))
    else err(renderErrorHuman(info))
    return code
  }
  try {
    const [command, ...rest] = argv
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      if (command === undefined) {
        err(TOP_HELP)
        return EXIT_USAGE
      }
      io.stdout(TOP_HELP)
      return EXIT_OK
    }
    if (command === "zen") return await runZen(rest, io, { out, err, json, secrets })
    if (command === "go") return await runGo(rest, io, { out, err, json, secrets })
    throw badArgs(`unknown usage command "${clip(command)}" (expected zen or go)`)
  } catch (e) {
    return fail(e, e instanceof UsageError && e.code === "bad_args" ? EXIT_USAGE : EXIT_FAILED)
  }
}

interface Out {
  out(s: string): void
  err(s: string): void
  json: boolean
  secrets: string[]
}

async function runZen(argv: string[], io: UsageIO, o: Out): Promise<number> {
  const flags = parseFlags("zen", argv, ZEN_FLAGS)
  if (flags.has("--help")) {
    // Help is our own text, printed as written: the scrubber would take the cookie it names for one.
    io.stdout(ZEN_HELP)
    return EXIT_OK
  }
  const sources = ["--cookie-file", "--cookie-env", "--api-key-env", "--html-file"].filter((f) => flags.has(f))
  if (sources.length !== 1) {
    throw badArgs(sources.length === 0 ? "usage zen needs one of --cookie-file, --cookie-env, --api-key-env or --html-file" : `${sources.join(" and ")} cannot be combined`)
  }
  if (flags.has("--org") && flags.has("--workspace")) throw badArgs("--org and --workspace name the same thing: give one")
  const orgFlag = flags.has("--org") ? "--org" : "--workspace"
  const org = str(flags, orgFlag)
  const now = io.now?.() ?? Date.now()

  const htmlFile = str(flags, "--html-file")
  if (htmlFile !== undefined) {
    if (flags.has("--base-url")) throw badArgs("--base-url has no effect with --html-file")
    if (org !== undefined && !WORKSPACE_ID.test(org)) throw badArgs(`${orgFlag} "${clip(org)}" is not a workspace id (wrk_ + 26 characters), which is what a saved billing page holds`)
    const html = await readInput(io, htmlFile, "--html-file", MAX_HTML_FILE_BYTES)
    const billing: ZenBilling = parseBillingHtml(html, org, { now })
    if (o.json) {
      o.err(`${EXPERIMENTAL_NOTICE}\n`)
      o.out(toJsonText(zenJson(billing)))
    } else o.out(renderZenHuman(billing, now))
    return EXIT_OK
  }
  if (org !== undefined && !ORG_ID.test(org)) throw badArgs(`${orgFlag} "${clip(org)}" is not an org id (org_… or wrk_…)`)
  const baseURL = checkBaseURL(str(flags, "--base-url") ?? DEFAULT_ZEN_BASE_URL)
  let cookie: string | undefined
  let apiKey: string | undefined
  const keyEnv = str(flags, "--api-key-env")
  if (keyEnv !== undefined) {
    apiKey = io.env[keyEnv]?.trim()
    if (!apiKey) throw badArgs(`--api-key-env: environment variable ${clip(keyEnv)} is not set or empty`)
    o.secrets.push(apiKey)
    refuseUnsendable(apiKey, "the API key", keyEnv)
  } else {
    cookie = await readCookie(flags, io)
    o.secrets.push(...cookieSecrets(cookie))
  }
  const usage = await readZenUsage({ baseURL, cookie, apiKey, org, fetch: io.fetch, now })
  if (o.json) {
    o.err(`${EXPERIMENTAL_NOTICE}\n`)
    o.out(toJsonText(zenUsageJson(usage)))
  } else o.out(renderZenUsageHuman(usage, now))
  return EXIT_OK
}

async function readCookie(flags: Flags, io: UsageIO): Promise<string> {
  const file = str(flags, "--cookie-file")
  let raw: string
  if (file !== undefined) raw = await readInput(io, file, "--cookie-file", MAX_COOKIE_FILE_BYTES)
  else {
    const name = str(flags, "--cookie-env") ?? ""
    const v = io.env[name]
    if (v === undefined || v.trim() === "") throw badArgs(`--cookie-env: environment variable ${clip(name)} is not set or empty`)
    raw = v
  }
  const cookie = normaliseCookie(raw)
  if (!cookie) throw badArgs(`${file !== undefined ? "--cookie-file" : "--cookie-env"}: the cookie is empty`)
  return raw
}

async function readInput(io: UsageIO, path: string, flag: string, maxBytes: number): Promise<string> {
  try {
    return await io.readFile(path, maxBytes)
  } catch (e) {
    const code = e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : undefined
    // A bounded reader's own message names the file and the reason (a FIFO, too large, permission
    // denied); a bare system error is shown by its code.
    if (e instanceof Error && e.message && !(code && /^E[A-Z]+$/.test(code))) {
      throw badArgs(`${flag}: ${e.message.length > 300 ? `${e.message.slice(0, 300)}…` : e.message}`)
    }
    throw badArgs(`${flag}: cannot read ${clip(path)} (${code ?? "unreadable"})`)
  }
}

async function runGo(argv: string[], io: UsageIO, o: Out): Promise<number> {
  const flags = parseFlags("go", argv, GO_FLAGS)
  if (flags.has("--help")) {
    io.stdout(GO_HELP)
    return EXIT_OK
  }
  const flag = str(flags, "--base-url")
  const configured = flag === undefined ? await io.goBaseURL?.() : undefined
  const baseURL =
    flag !== undefined
      ? goBaseURL(checkBaseURL(flag))
      : configured
        ? checkBaseURL(configured, "the configured opencode-go baseURL")
        : DEFAULT_GO_BASE_URL
  const envName = str(flags, "--api-key-env")
  let apiKey: string | undefined
  if (envName !== undefined) {
    apiKey = io.env[envName]?.trim()
    if (!apiKey) throw badArgs(`--api-key-env: environment variable ${clip(envName)} is not set or empty`)
  } else {
    apiKey = (await io.savedGoKey?.())?.trim()
    if (!apiKey) throw badArgs("no Go API key: pass --api-key-env <VAR>, set OPENCODE_API_KEY, or save one with `auth set opencode-go`")
  }
  o.secrets.push(apiKey)
  refuseUnsendable(apiKey, "the Go API key", envName)
  const now = io.now?.() ?? Date.now()
  const usage: GoUsage = await fetchGoUsage({ baseURL, apiKey, fetch: io.fetch, now })
  if (o.json) {
    o.err(`${EXPERIMENTAL_NOTICE}\n`)
    o.out(toJsonText(goJson(usage)))
  } else o.out(renderGoHuman(usage, now))
  return EXIT_OK
}
