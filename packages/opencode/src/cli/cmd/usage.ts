import { runUsageCommand, UsageError } from "@pawwork/usage"
import * as Auth from "../../auth"
import { Provider, ProviderCatalog } from "../../provider"
import { RuntimeError } from "../../util/error"
import * as ReadFile from "../../util/read-file"
import { printable, printableJson } from "../../util/scrub"
import type { IO } from "../io"

export const help = `Usage: cli usage <zen|go> [options]   (EXPERIMENTAL)

  usage zen (--cookie-file <path> | --cookie-env <VAR> | --api-key-env <VAR>) [--org <org_id> | --workspace <wrk_id>] [--base-url <url>] [--json]
      the console API (balance, Go meters, 30-day spend) by the __Host-console_session cookie or a
      service-account key; for a Black workspace also the legacy billing page (the old auth cookie)
  usage zen --html-file <saved billing page> [--workspace <wrk_id>] [--json]
  usage go [--api-key-env <VAR>] [--base-url <url>] [--json]
      default key: the one the runtime sends to opencode-go (opencode.json apiKey, else the saved
      opencode-go key, else OPENCODE_API_KEY), else the saved opencode key;
      --base-url: the Go API base (.../zen/go/v1) or just the origin, as probe takes it;
      default: the opencode-go baseURL from opencode.json (a relay), else the gateway's

Run \`cli usage zen --help\` or \`cli usage go --help\` for details. See packages/usage/README.md.`

/** `usage`: the experimental usage reader (packages/usage), given the Go key this install would use. */
export async function run(argv: string[], io: IO): Promise<number> {
  if (argv.length === 0) return io.stdout(help + "\n"), 2
  // What the reader prints comes from a web page or a server: support runs this on pages users
  // send, so nothing in it may drive the terminal or reorder what is shown. JSON keeps its data.
  const json = argv.includes("--json")
  return runUsageCommand(argv, {
    stdout: (text) => io.stdout(json ? printableJson(text) : printable(text)),
    stderr: (text) => io.stderr(printable(text)),
    env: io.env,
    readFile: async (file, maxBytes) => (await ReadFile.readText(file, { maxBytes })).text,
    savedGoKey: () => goKey(io.env),
    goBaseURL: () => goBaseURL(io.env),
  })
}

/**
 * Where `usage go` asks when no --base-url is given: opencode-go's base URL as the runtime resolves
 * it (opencode.json's options.baseURL, else the built-in one), so a key configured for a relay is
 * never sent to opencode.ai, nor the other way round.
 */
async function goBaseURL(env: Record<string, string | undefined>): Promise<string | undefined> {
  return (await providers(env))["opencode-go"]?.baseURL || undefined
}

async function providers(env: Record<string, string | undefined>) {
  try {
    return await Provider.list(env)
  } catch (error) {
    // An unreadable opencode.json or auth.json: say so instead of "unexpected failure".
    if (RuntimeError.isInstance(error)) throw new UsageError("auth", `cannot tell which Go key or base URL to use: ${error.message}`)
    throw error
  }
}

/**
 * The key `usage go` reads with when no --api-key-env is given: the one the runtime would send to
 * opencode-go (Provider's own precedence: opencode.json apiKey, saved opencode-go key,
 * OPENCODE_API_KEY), else, since Go keys are OpenCode keys whose workspace has Go, the saved
 * opencode key. The anonymous `public` key is never one: it has no Go usage.
 */
async function goKey(env: Record<string, string | undefined>): Promise<string | undefined> {
  const go = (await providers(env))["opencode-go"]
  const credential: Provider.Credential | undefined = go?.credential
  if (credential?.key && (credential.source === "config" || credential.source === "auth" || credential.source === "env")) return credential.key
  // The saved opencode (Zen) key is meant for the gateway: never hand it to a relay configured for opencode-go.
  if (go && go.baseURL !== ProviderCatalog.GO_BASE_URL) return undefined
  const saved = await Auth.get("opencode", env)
  return saved?.type === "api" ? saved.key : undefined
}
