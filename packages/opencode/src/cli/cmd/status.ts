import type { FetchLike } from "@pawwork/usage"
import * as QuotaStatus from "../../quota/status"
import * as StatusRender from "../../quota/status-render"
import { printable, printableJson } from "../../util/scrub"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli status [--json | --waybar] [--refresh]

What is left before you hit a limit, and which key each OpenCode provider would use:
  - the anonymous free models: what this install sent today (UTC), that the allowance is
    unpublished and shared by your network, the last refusal and its reset, and whether the
    gateway currently serves this client;
  - OpenCode Go: the 5-hour, weekly and monthly windows (percent, reset, the pace so far,
    which window blocks), read with the key opencode-go would use;
  - Zen: balance and 30-day spend, when "pawwork": { "quota": { "console": ... } } is set
    in opencode.json;
  - a PawWork relay, when opencode's baseURL points at one: this install's requests used and
    left there today, and when the relay's day resets.
Remote figures are cached (opencode.json "pawwork": { "quota": { "cacheMaxAgeSec": 120 } });
a failed read shows the last figure with its age.

Options:
  --json       print the report as JSON (stable schema, see docs/status.md)
  --waybar     print Waybar custom-module JSON: text, tooltip, class, percentage
  --refresh    read the remote figures now, whatever their age
  -h, --help   show this help

Nothing is sent but the usage reads; keys are shown as fingerprints. See docs/status.md.`

/** Test seams: the clock and the fetch of the usage reads. */
export interface Deps {
  now?: () => number
  fetch?: FetchLike
}

export async function run(argv: string[], io: IO, deps: Deps = {}): Promise<number> {
  const { values, positionals } = Args.parse(argv, { json: { type: "boolean" }, waybar: { type: "boolean" }, refresh: { type: "boolean" } }, "cli status")
  if (values.help) return io.stdout(help + "\n"), 0
  if (positionals.length) throw new Args.UsageError(`status takes no arguments (got "${positionals[0]!.slice(0, 40)}"). See \`cli status --help\`.`)
  if (values.json && values.waybar) throw new Args.UsageError("--json and --waybar cannot be combined. See `cli status --help`.")
  const report = await QuotaStatus.build({
    env: io.env,
    refresh: values.refresh === true,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  })
  // Figures and messages come from servers and files: nothing in them may drive the terminal.
  if (values.json) io.stdout(printableJson(JSON.stringify(report, null, 2)) + "\n")
  else if (values.waybar) io.stdout(printableJson(JSON.stringify(StatusRender.waybar(report))) + "\n")
  else io.stdout(printable(StatusRender.human(report)))
  return 0
}
