import { SecretSet } from "@pawwork/secrets"

/**
 * Structured logs: one JSON object per line. Callers pass fingerprints (`fp_…`) for install tokens
 * and addresses, never the values; the SecretSet is the backstop that removes every trace of the
 * upstream key (and any other secret the caller registers) from the finished line.
 */

export type LogLevel = "info" | "warn" | "error"
export type LogSink = (line: string) => void

export class Log {
  constructor(
    private readonly sink: LogSink,
    private readonly secrets: SecretSet,
    private readonly now: () => number = Date.now,
  ) {}

  info(event: string, fields: Record<string, unknown> = {}) {
    this.write("info", event, fields)
  }
  warn(event: string, fields: Record<string, unknown> = {}) {
    this.write("warn", event, fields)
  }
  error(event: string, fields: Record<string, unknown> = {}) {
    this.write("error", event, fields)
  }

  private write(level: LogLevel, event: string, fields: Record<string, unknown>) {
    let line: string
    try {
      line = JSON.stringify({ time: new Date(this.now()).toISOString(), level, event, ...fields })
    } catch {
      line = JSON.stringify({ time: new Date(this.now()).toISOString(), level, event, note: "fields could not be serialised" })
    }
    try {
      this.sink(this.secrets.remove(line))
    } catch {
      // A log that cannot be written never fails a request.
    }
  }
}

export const stderrSink: LogSink = (line) => process.stderr.write(line + "\n")
