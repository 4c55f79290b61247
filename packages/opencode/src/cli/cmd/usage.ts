import { runUsageCommand } from "@pawwork/usage"
import * as Auth from "../../auth"
import type { IO } from "../io"

export const help = `Usage: cli usage <zen|go> [options]   (EXPERIMENTAL)

  usage zen (--cookie-file <path> | --cookie-env <VAR>) [--workspace <id>] [--base-url <url>] [--json]
  usage zen --html-file <saved billing page> [--json]
  usage go [--api-key-env <VAR>] [--base-url <url>] [--json]   (default: the saved opencode-go, else opencode, key)

Run \`cli usage zen --help\` or \`cli usage go --help\` for details. See packages/usage/README.md.`

/** `usage`: the experimental usage reader (packages/usage), given this install's saved Go key. */
export async function run(argv: string[], io: IO): Promise<number> {
  if (argv.length === 0) return io.stdout(help + "\n"), 2
  return runUsageCommand(argv, {
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    readFile: (file) => Bun.file(file).text(),
    // Go keys are OpenCode keys whose workspace has Go: a key saved for either provider works.
    savedGoKey: async () => {
      for (const id of ["opencode-go", "opencode"]) {
        const saved = await Auth.get(id, io.env)
        if (saved?.type === "api") return saved.key
      }
      return undefined
    },
  })
}
