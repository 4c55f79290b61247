import { Provider } from "../../provider"
import * as SessionDryRun from "../../session/dry-run"
import * as Identifier from "../../id/id"
import * as Args from "../args"
import type { IO } from "../io"
import { printable, printableJson } from "../../util/scrub"

export const help = `Usage: cli request --dry-run [--model <provider>/<model>] [--session <id>] [--json] ["<prompt>"]

Builds the exact HTTP request the runtime would send for a prompt (URL, headers, body) and prints
it without sending it. Secrets are shown as fingerprints: the Authorization key as "Bearer fp_…"
(the anonymous key stays "Bearer public") and x-pawwork-install as its fingerprint.

Options:
  --dry-run                   required: only dry runs are supported
  --model <provider>/<model>  model to use (default: opencode.json "model", else opencode/big-pickle)
  --session <id>              session id to send (default: a new ses_... id)
  --json                      print { "url", "providerID", "modelID", "authSource", "authEnvVar"?,
                              "keyFingerprint"?, "keyTrimmed"?, "headers", "install", "body" }
  -h, --help                  show this help`

export async function run(argv: string[], io: IO): Promise<number> {
  const { values, positionals } = Args.parse(
    argv,
    { "dry-run": { type: "boolean" }, model: { type: "string" }, session: { type: "string" }, json: { type: "boolean" } },
    "cli request",
  )
  if (values.help) return io.stdout(help + "\n"), 0
  if (!values["dry-run"])
    throw new Args.UsageError("`request` only supports dry runs: add --dry-run to see the request without sending it (use `run` to send a prompt).")
  const sessionID = values.session ?? Identifier.create("session")
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(sessionID))
    throw new Args.UsageError("--session takes 1 to 128 letters, digits, '_' or '-'. See `cli request --help`.")
  const { providerID, modelID } = values.model ? Provider.parseModel(values.model) : await Provider.defaultModel(io.env)
  const model = await Provider.getModel(providerID, modelID, io.env)
  const captured = await SessionDryRun.capture({
    model,
    sessionID,
    requestID: Identifier.ascending("message"),
    messages: [{ role: "user", content: positionals.join(" ").trim() || "Hello" }],
  })
  const report = SessionDryRun.report(model, captured)
  // The model id, URL and header names come from opencode.json: nothing in them may drive the terminal.
  if (values.json) return io.stdout(printableJson(JSON.stringify(report)) + "\n"), 0
  const auth = [report.authSource, report.authEnvVar, report.keyFingerprint, report.keyTrimmed ? "(whitespace around the key was trimmed)" : ""].filter(Boolean).join(" ")
  const install = report.install.optedOut ? "off (opted out)" : `${report.install.fingerprint} ${report.install.sent ? "sent" : "not sent (not an OpenCode provider)"}${report.install.persisted ? "" : ", not persisted"}`
  io.stdout(printable(`Dry run: nothing was sent.\n${report.method} ${report.url}\nmodel: ${providerID}/${modelID} · key: ${auth} · install: ${install}\n\n`))
  for (const [name, value] of Object.entries(report.headers)) io.stdout(printable(`${name}: ${value}`) + "\n")
  io.stdout(`\n${printableJson(JSON.stringify(report.body, null, 2))}\n`)
  return 0
}
