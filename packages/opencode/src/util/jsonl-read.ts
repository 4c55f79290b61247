import fs from "node:fs/promises"

/**
 * Reads a JSON-lines file line by line without ever holding more than `maxLine` bytes of one line:
 * a log may be damaged or hostile (a runaway line of gigabytes), and a support tool must still
 * read the rest of it. A line longer than `maxLine` is reported as `oversized` and skipped as it
 * streams past; the last line is returned even without its newline (the caller decides whether a
 * torn line parses).
 */

export const MAX_LINE = 64 * 1024
const CHUNK = 64 * 1024

export type Line = { ok: true; text: string } | { ok: false; oversized: true }

export async function* lines(file: string, maxLine = MAX_LINE): AsyncGenerator<Line> {
  const handle = await fs.open(file, "r")
  try {
    const buffer = Buffer.alloc(CHUNK)
    let parts: Buffer[] = []
    let length = 0
    let oversized = false
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null)
      if (bytesRead === 0) break
      let start = 0
      while (start < bytesRead) {
        const newline = buffer.indexOf(0x0a, start)
        const end = newline === -1 || newline >= bytesRead ? bytesRead : newline
        const size = end - start
        if (!oversized) {
          if (length + size > maxLine) {
            oversized = true
            parts = []
            length = 0
          } else if (size > 0) {
            parts.push(Buffer.from(buffer.subarray(start, end)))
            length += size
          }
        }
        if (end === bytesRead) break
        // A whole line ended here.
        yield oversized ? { ok: false, oversized: true } : { ok: true, text: Buffer.concat(parts, length).toString("utf8") }
        parts = []
        length = 0
        oversized = false
        start = end + 1
      }
    }
    if (oversized) yield { ok: false, oversized: true }
    else if (length > 0) yield { ok: true, text: Buffer.concat(parts, length).toString("utf8") }
  } finally {
    await handle.close()
  }
}
