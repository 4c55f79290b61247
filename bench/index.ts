/**
 * `bun run bench [--json] [--only <name>]`: every benchmark of the workspace, each measured side by side
 * with its baseline in the same run (never against a number from another machine).
 * Prints one `name: value unit` line per figure, or with --json one object `{ "name": value }`.
 * A benchmark is a module with `export async function bench(): Promise<Record<string, number>>`;
 * add it to the list below. The unit is read from the figure's name suffix.
 */
import { parseArgs } from "node:util"

type Bench = { name: string; load: () => Promise<() => Promise<Record<string, number>>> }

const benches: Bench[] = [
  { name: "runtime", load: async () => (await import("./runtime")).bench },
  { name: "headers", load: async () => (await import("./headers")).bench },
  { name: "classify", load: async () => (await import("./classify")).bench },
  { name: "usage", load: async () => (await import("../packages/usage/bench.ts")).benchUsage },
  { name: "diagnostics", load: async () => (await import("./diagnostics")).bench },
  { name: "secrets", load: async () => (await import("./secrets")).bench },
  { name: "fetch-layer", load: async () => (await import("./fetch-layer")).bench },
  { name: "ledger", load: async () => (await import("./ledger")).bench },
  { name: "relay", load: async () => (await import("./relay")).bench },
]

const { values } = parseArgs({ args: process.argv.slice(2), options: { json: { type: "boolean" }, only: { type: "string" } } })

function unit(name: string) {
  if (name.endsWith("_ratio")) return "x"
  if (name.endsWith("_per_sec")) return "/s"
  if (name.endsWith("_ms")) return "ms"
  if (name.endsWith("_us")) return "us"
  return ""
}

const figures: Record<string, number> = {}
for (const b of benches) {
  if (values.only && values.only !== b.name) continue
  const run = await b.load()
  const result = await run()
  for (const [name, value] of Object.entries(result)) {
    figures[name] = value
    if (!values.json) console.log(`${name}: ${Number.isInteger(value) ? value : value.toFixed(4)} ${unit(name)}`.trimEnd())
  }
}
if (values.json) console.log(JSON.stringify(figures))
