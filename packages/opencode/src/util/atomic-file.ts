import fs from "node:fs/promises"
import path from "node:path"
import { randomBytes } from "node:crypto"

/**
 * Replaces `file` with `content` so a reader sees either the old or the new file, never a torn
 * one: write a sibling temp file (created with `mode`), flush it, then rename over the target.
 */
export async function write(file: string, content: string, mode = 0o600) {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const temp = await writeTemp(file, content, mode)
  try {
    await fs.rename(temp, file)
  } catch (error) {
    await fs.unlink(temp).catch(() => {})
    throw error
  }
}

/**
 * Writes and flushes `content` to a new sibling of `file` and returns its path, for the caller to
 * publish (rename over, or link into place) once it is complete on disk.
 */
export async function writeTemp(file: string, content: string, mode = 0o600) {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`
  const handle = await fs.open(temp, "wx", mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return temp
}
