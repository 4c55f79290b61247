import { readBounded } from "../util/bounded-stream"

/** What was read from stdin, at most the cap; `truncated` says there was more (left unread). */
export interface StdinText {
  text: string
  truncated: boolean
}

/** Where a command writes. The CLI binds it to the process; tests may capture it. */
export interface IO {
  stdout(text: string): void
  stderr(text: string): void
  env: Record<string, string | undefined>
  /** Reads stdin up to `maxBytes` and stops there: a piped stream may be endless or huge. */
  readStdin(maxBytes: number): Promise<StdinText>
}

// Set once the reader of stdout has gone (`run ... | head`): what is left to print goes nowhere.
let stdoutClosed = false

/**
 * A reader that stops early closes the pipe, and the next write fails with EPIPE, which Bun
 * reports as an uncaught error with a stack. Past that point the command's output is dropped
 * quietly and the command still finishes its own work (the ledger, the diagnostics record), as
 * `git log | head` does. Other stdout errors stay as loud as before.
 */
export function tolerateClosedStdout(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error
    stdoutClosed = true
  })
}

export const processIO: IO = {
  stdout: (text) => {
    if (!stdoutClosed) process.stdout.write(text)
  },
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  readStdin: (maxBytes) => readBounded(Bun.stdin.stream(), maxBytes),
}

// Shared with the provider's fetch wrapper, which caps response bodies the same way.
export { readBounded }
