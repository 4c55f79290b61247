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

export const processIO: IO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  readStdin: (maxBytes) => readBounded(Bun.stdin.stream(), maxBytes),
}

// Shared with the provider's fetch wrapper, which caps response bodies the same way.
export { readBounded }
