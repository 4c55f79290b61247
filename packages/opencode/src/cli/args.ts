import { parseArgs, type ParseArgsConfig } from "node:util"

export class UsageError extends Error {
  readonly code = "usage"
  constructor(message: string) {
    super(message)
    this.name = "UsageError"
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>

/** node:util parseArgs, with its errors turned into one line naming the flag and pointing at --help. */
export function parse<O extends Options>(argv: string[], options: O, command: string) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true })
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, "") : String(error)
    throw new UsageError(`${message}. See \`${command} --help\`.`)
  }
}
