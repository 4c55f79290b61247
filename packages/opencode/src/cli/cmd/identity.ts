import { Config } from "../../config"
import * as Identity from "../../auth/identity"
import * as Args from "../args"
import type { IO } from "../io"

export const help = `Usage: cli identity [--json] [--rotate]

Shows this install's identity: the random token sent as x-pawwork-install to OpenCode
providers (opencode, opencode-go) so the gateway can tell installs on one network apart.
Only its fingerprint is ever printed, never the token.

Options:
  --rotate    replace the token with a new random one (the change is logged, by fingerprint)
  --json      print { "fingerprint", "createdAt", "persisted", "path", "optedOut" }
  -h, --help  show this help

Turn it off with ${Identity.ENV_VAR}=0 or "pawwork": { "installIdentity": false } in opencode.json.
See docs/install-identity.md.`

export async function run(argv: string[], io: IO): Promise<number> {
  const { values } = Args.parse(argv, { json: { type: "boolean" }, rotate: { type: "boolean" } }, "cli identity")
  if (values.help) return io.stdout(help + "\n"), 0
  const { info: config } = await Config.load(io.env)
  const state = values.rotate ? await Identity.rotate(io.env, config) : await Identity.resolve(io.env, config)
  if (values.json) {
    io.stdout(JSON.stringify(summary(state)) + "\n")
    return 0
  }
  if (state.optedOut) {
    io.stdout(`Install identity: off (${Identity.describeOptOut(state.by)}). No ${Identity.HEADER} header is sent.\n`)
    return 0
  }
  io.stdout(`${values.rotate ? "New install identity" : "Install identity"} ${state.fingerprint} (created ${state.createdAt})\n`)
  io.stdout(state.persisted ? `Stored in ${state.path}\n` : `Not stored: ${state.path} ${state.problem ?? "is unavailable"}; this process uses a temporary one.\n`)
  if (state.persisted && state.problem) io.stdout(`Note: ${state.problem}.\n`)
  io.stdout(`Sent as ${Identity.HEADER} to OpenCode providers only.\n`)
  return 0
}

function summary(state: Identity.State) {
  if (state.optedOut) return { fingerprint: null, createdAt: null, persisted: false, path: state.path, optedOut: true, optedOutBy: state.by }
  return {
    fingerprint: state.fingerprint,
    createdAt: state.createdAt,
    persisted: state.persisted,
    path: state.path,
    optedOut: false,
    ...(state.problem ? { problem: state.problem } : {}),
  }
}
