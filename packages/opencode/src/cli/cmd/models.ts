import { Provider } from "../../provider"
import * as Args from "../args"
import type { IO } from "../io"
import { printable, printableJson } from "../../util/scrub"

export const help = `Usage: cli models [--json]

Lists the models usable with the current credentials; free models are marked.
Without an OpenCode API key only free models are offered (the anonymous "public" key).

Options:
  --json      print [{ "id": "<provider>/<model>", "free": true|false }]
  -h, --help  show this help`

export async function run(argv: string[], io: IO): Promise<number> {
  const { values } = Args.parse(argv, { json: { type: "boolean" } }, "cli models")
  if (values.help) return io.stdout(help + "\n"), 0
  const providers = await Provider.list(io.env)
  const rows = Object.values(providers).flatMap((p) =>
    Object.values(p.models).map((m) => ({ id: `${p.id}/${m.id}`, free: m.free, name: m.name, source: p.credential.source })),
  )
  if (values.json) {
    io.stdout(printableJson(JSON.stringify(rows.map(({ id, free }) => ({ id, free })))) + "\n")
    return 0
  }
  const width = Math.max(0, ...rows.map((r) => r.id.length))
  // Ids and names come from opencode.json, which may be copied from anywhere: nothing in them may drive the terminal.
  for (const row of rows) io.stdout(printable(`${row.id.padEnd(width)}  ${row.free ? "free" : "paid"}  ${row.name}`) + "\n")
  const hidden = Object.values(providers).flatMap((p) => p.hidden.map((m) => `${p.id}/${m}`))
  if (hidden.length) io.stdout(`\n${hidden.length} paid model(s) hidden: no OpenCode API key is configured (OPENCODE_API_KEY or \`auth set opencode\`).\n`)
  return 0
}
