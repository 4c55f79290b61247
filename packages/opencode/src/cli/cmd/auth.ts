import * as Auth from "../../auth"
import * as KeyText from "../../provider/key-text"
import { fingerprint } from "../../util/fingerprint"
import { printable, printableJson } from "../../util/scrub"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli auth <set|list|remove> ...

  auth set <provider>      save an API key for <provider>; the key is read from stdin, never from the command line
                           (e.g. \`cli auth set opencode < key.txt\`, or paste it and press Ctrl-D)
  auth list [--json]       saved credentials: provider, type, key fingerprint (never the key)
  auth remove <provider>   delete the saved credential for <provider>

Credentials live in $XDG_DATA_HOME/opencode/auth.json (default ~/.local/share/opencode), mode 0600.`

export async function run(argv: string[], io: IO): Promise<number> {
  const [sub, ...rest] = argv
  if (!sub || sub === "--help" || sub === "-h") return io.stdout(help + "\n"), sub ? 0 : 2
  switch (sub) {
    case "set":
      return set(rest, io)
    case "list":
      return list(rest, io)
    case "remove":
      return remove(rest, io)
    default:
      throw new Args.UsageError(`Unknown auth command "${sub}". See \`cli auth --help\`.`)
  }
}

/** Real API keys are well under 1 KiB; anything near this is a wrong file piped in. */
const MAX_KEY_BYTES = 64 * 1024

const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

function providerArg(positionals: string[], command: string) {
  const id = positionals[0]
  if (!id || positionals.length > 1)
    throw new Args.UsageError(`\`${command}\` takes exactly one provider id, e.g. \`${command} opencode\`. A key is never accepted on the command line.`)
  if (!PROVIDER_ID.test(id)) throw new Args.UsageError(`"${id}" is not a provider id (letters, digits, '.', '_' or '-').`)
  return id
}

async function set(argv: string[], io: IO) {
  const { values, positionals } = Args.parse(argv, {}, "cli auth set")
  if (values.help) return io.stdout(help + "\n"), 0
  const providerID = providerArg(positionals, "cli auth set")
  const input = await io.readStdin(MAX_KEY_BYTES)
  // Stop reading rather than buffer whatever was piped in (a log, a binary, /dev/zero).
  if (input.truncated)
    throw new Args.UsageError(
      `More than 64 KiB on stdin: that is not an API key. Pipe in just the key: \`cli auth set ${providerID} < key.txt\`.`,
    )
  const key = input.text.trim()
  if (!key) throw new Args.UsageError(`No key on stdin. Pipe or paste the key for ${providerID}: \`cli auth set ${providerID} < key.txt\`.`)
  // Named before the whitespace check, so a line break inside the key is called what it is.
  const bad = KeyText.forbidden(key)
  if (bad)
    throw new Args.UsageError(
      `The key on stdin contains ${bad}, which no HTTP request can carry; nothing was saved. Pipe in just the key: \`cli auth set ${providerID} < key.txt\`.`,
    )
  if (/\s/.test(key)) throw new Args.UsageError("The key on stdin contains whitespace; give exactly one key.")
  await Auth.set(providerID, { type: "api", key }, io.env)
  io.stdout(`Saved API key ${fingerprint(key)} for ${providerID} in ${Auth.filePath(io.env)}\n`)
  return 0
}

async function list(argv: string[], io: IO) {
  const { values } = Args.parse(argv, { json: { type: "boolean" } }, "cli auth list")
  if (values.help) return io.stdout(help + "\n"), 0
  const { entries, invalid } = await Auth.read(io.env)
  const rows = [
    ...Object.entries(entries).map(([provider, info]) => ({
      provider,
      type: info.type,
      // Trimmed as the runtime trims it, so this is the fingerprint its requests and logs show.
      fingerprint: fingerprint(info.type === "oauth" ? info.refresh : info.key.trim()),
    })),
    ...Object.entries(invalid).map(([provider, problem]) => ({ provider, type: "invalid", problem })),
  ]
  // Provider ids and types come from the file, which may have been edited or copied: nothing in them may drive the terminal.
  if (values.json) return io.stdout(printableJson(JSON.stringify(rows)) + "\n"), 0
  if (!rows.length) return io.stdout(`No saved credentials (${Auth.filePath(io.env)}).\n`), 0
  for (const row of rows) io.stdout(printable(`${row.provider.padEnd(16)} ${row.type.padEnd(9)} ${"fingerprint" in row ? row.fingerprint : `unusable: ${row.problem}`}`) + "\n")
  return 0
}

async function remove(argv: string[], io: IO) {
  const { values, positionals } = Args.parse(argv, {}, "cli auth remove")
  if (values.help) return io.stdout(help + "\n"), 0
  const providerID = providerArg(positionals, "cli auth remove")
  const removed = await Auth.remove(providerID, io.env)
  io.stdout(removed ? `Removed the saved credential for ${providerID}.\n` : `No saved credential for ${providerID}; nothing changed.\n`)
  return 0
}
