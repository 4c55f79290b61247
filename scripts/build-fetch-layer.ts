/**
 * `bun run build:fetch-layer`: writes packages/opencode/dist/register.mjs, the fetch layer's
 * register entry as one self-contained ESM file for Node 20+ (`node --import`) and Bun. Everything
 * it uses is bundled in; the only imports left are Node's built-ins, so a host needs nothing
 * installed. The file is built, never committed (dist/ is ignored).
 */
import path from "node:path"

const root = path.join(import.meta.dir, "..", "packages", "opencode")
const entry = path.join(root, "src", "integration", "register.ts")
const outdir = path.join(root, "dist")

const result = await Bun.build({
  entrypoints: [entry],
  outdir,
  naming: "register.mjs",
  target: "node",
  format: "esm",
  minify: true,
  sourcemap: "none",
})
if (!result.success) {
  for (const log of result.logs) console.error(String(log))
  process.exit(1)
}
const output = result.outputs[0]!
const text = await Bun.file(output.path).text()
const imports = [...new Set([...text.matchAll(/(?:from|import)\s*["']([^"']+)["']/g)].map((m) => m[1]!))]
const foreign = imports.filter((name) => !name.startsWith("node:"))
if (foreign.length) {
  console.error(`register.mjs imports ${foreign.join(", ")}: the fetch layer must bundle everything but Node's built-ins.`)
  process.exit(1)
}
console.log(`${path.relative(process.cwd(), output.path)}: ${(output.size / 1024).toFixed(0)} KiB, imports ${imports.join(", ") || "nothing"}`)
