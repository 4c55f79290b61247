/** What was read of a stream, at most the cap; `truncated` says there was more (left unread). */
export interface BoundedText {
  text: string
  truncated: boolean
}

/**
 * Reads a byte stream as UTF-8 until it ends or `maxBytes` have been read; past the cap the
 * stream is cancelled, so nothing more is read or buffered. A character cut by the cap is dropped.
 * An aborted `signal` cancels the stream the same way: what arrived is returned as truncated.
 */
export async function readBounded(stream: ReadableStream<Uint8Array>, maxBytes: number, signal?: AbortSignal): Promise<BoundedText> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let text = ""
  let bytes = 0
  // A pending read resolves as done once the reader is cancelled.
  const stop = () => void reader.cancel().catch(() => {})
  if (signal?.aborted) stop()
  else signal?.addEventListener("abort", stop, { once: true })
  try {
    return await readAll()
  } finally {
    signal?.removeEventListener("abort", stop)
  }

  async function readAll(): Promise<BoundedText> {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return signal?.aborted ? { text, truncated: true } : { text: text + decoder.decode(), truncated: false }
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
}
