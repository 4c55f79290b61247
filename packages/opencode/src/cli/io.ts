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

/**
 * Reads a byte stream as UTF-8 until it ends or `maxBytes` have been read; past the cap the
 * stream is cancelled, so nothing more is read or buffered. A character cut by the cap is dropped.
 */
export async function readBounded(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<StdinText> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ""
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { text: text + decoder.decode(), truncated: false }
    const room = maxBytes - bytes
    if (value.byteLength > room) {
      // No final decode(): a partial character at the cut would come out as U+FFFD.
      text += decoder.decode(value.subarray(0, room), { stream: true })
      await reader.cancel().catch(() => {})
      return { text, truncated: true }
    }
    bytes += value.byteLength
    text += decoder.decode(value, { stream: true })
  }
}
