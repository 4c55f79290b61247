#!/usr/bin/env bun
import { processIO, tolerateClosedStdout, type IO } from "./io"
import * as Failure from "./failure"
import * as Run from "./cmd/run"
import * as Models from "./cmd/models"
import * as AuthCmd from "./cmd/auth"
import * as IdentityCmd from "./cmd/identity"
import * as RequestCmd from "./cmd/request"
import * as ClassifyCmd from "./cmd/classify"
import * as UsageCmd from "./cmd/usage"
import * as ProbeCmd from "./cmd/probe"
import * as DiagnoseCmd from "./cmd/diagnose"
import * as StatusCmd from "./cmd/status"
import { Installation } from "../installation"
import { printable, printableJson } from "../util/scrub"

interface Command {
  summary: string
  help: string
  run(argv: string[], io: IO): Promise<number>
}

export const commands: Record<string, Command> = {
  run: { summary: "stream an answer from a model", help: Run.help, run: Run.run },
  models: { summary: "list the models usable with the current credentials", help: Models.help, run: Models.run },
  auth: { summary: "manage saved API keys (set, list, remove)", help: AuthCmd.help, run: AuthCmd.run },
  identity: { summary: "show or rotate this install's identity (fingerprint only)", help: IdentityCmd.help, run: IdentityCmd.run },
  request: { summary: "show the exact request a prompt would send (--dry-run)", help: RequestCmd.help, run: RequestCmd.run },
  classify: { summary: "classify a pasted provider failure (status, headers, body)", help: ClassifyCmd.help, run: ClassifyCmd.run },
  usage: { summary: "Zen billing and Go usage windows (experimental)", help: UsageCmd.help, run: UsageCmd.run },
  probe: { summary: "which identity the gateway keys its limits on (throwaway installs, bounded requests)", help: ProbeCmd.help, run: ProbeCmd.run },
  diagnose: { summary: "what happened to failed OpenCode requests, from the diagnostics logs", help: DiagnoseCmd.help, run: DiagnoseCmd.run },
  status: { summary: "what is left of each quota (free, Go windows, Zen balance) and which key is used", help: StatusCmd.help, run: (argv, io) => StatusCmd.run(argv, io) },
}

function usage() {
  const width = Math.max(...Object.keys(commands).map((c) => c.length))
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return `PawWork OpenCode runtime ${Installation.version()}\n\nUsage: bun run cli <command> [options]\n\nCommands:\n${lines.join("\n")}\n\nRun \`bun run cli <command> --help\` for a command's options.\n`
}

export async function main(argv: string[], io: IO = processIO): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(usage())
    return name ? 0 : 2
  }
  if (name === "--version") return io.stdout(Installation.version() + "\n"), 0
  const command = commands[name]
  if (!command) {
    io.stderr(`Unknown command "${printable(name).slice(0, 80)}". Commands: ${Object.keys(commands).join(", ")}. See \`bun run cli --help\`.\n`)
    return 2
  }
  try {
    return await command.run(rest, io)
  } catch (error) {
    const described = Failure.describe(error)
    // An error can quote what came from outside (a path, a page, an upstream message): it reaches
    // the terminal without anything the terminal would act on.
    io.stderr(printable(described.message) + "\n")
    if (rest.includes("--debug") && error instanceof Error && error.stack) io.stderr(printable(error.stack) + "\n")
    if (rest.includes("--json")) io.stdout(printableJson(JSON.stringify({ error: described })) + "\n")
    return described.code === "usage" ? 2 : 1
  }
}

if (import.meta.main) {
  tolerateClosedStdout()
  process.exitCode = await main(process.argv.slice(2))
}
