import path from "node:path"
import * as Diagnose from "../../cli/cmd/diagnose"
import * as DiagnosticsRead from "../../session/diagnostics-read"
import type { IO } from "../../cli/io"
import type { Scenario } from "../context"

/**
 * What support reads after the scenarios above: `cli diagnose` over the data dirs of the installs
 * whose turns wrote diagnostics (free limit, Go limit, overload), then one record as `--json`
 * gives it. Runs the real command in process, so this is exactly what a user would paste.
 */
export const scenario: Scenario = {
  title: "Support reads the logs: `diagnose` on the failures above",
  async run(ctx) {
    const dirs: string[] = []
    for (const install of ctx.installs)
      if ((await DiagnosticsRead.logFiles(path.join(install.dataDir, "log"))).length) dirs.push(install.dataDir)
    if (!dirs.length) return ctx.print("no diagnostics were written by the earlier scenarios")
    const root = path.dirname(path.dirname(path.dirname(dirs[0]!)))
    const short = (dir: string) => path.join("<demo>", path.relative(root, dir))
    ctx.print(`$ bun run cli diagnose ${dirs.map(short).join(" ")}`)
    ctx.print((await capture([...dirs])).replaceAll(root, "<demo>").trimEnd())
    const json = JSON.parse(await capture(["--json", ...dirs])) as { failures: unknown[] }
    ctx.print(`\n$ bun run cli diagnose --json ...   # ${json.failures.length} failure records; the first:`)
    ctx.print(JSON.stringify(json.failures[0], null, 2))
  },
}

async function capture(argv: string[]): Promise<string> {
  let out = ""
  const io: IO = { stdout: (t) => void (out += t), stderr: (t) => void (out += t), env: {}, readStdin: async () => ({ text: "", truncated: false }) }
  await Diagnose.run(argv, io)
  return out
}
