import fs from "node:fs/promises"

const STALE_MS = 10_000
const WAIT_MS = 10_000

export class LockTimeoutError extends Error {
  constructor(readonly lockFile: string) {
    super(`timed out waiting for ${lockFile}`)
    this.name = "LockTimeoutError"
  }
}

/**
 * A cross-process lock via an exclusively created file, so two processes doing read-modify-write
 * on the same file serialise instead of losing each other's change. A lock older than STALE_MS is
 * treated as left by a crashed process and broken.
 */
export async function withLock<T>(lockFile: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    try {
      const handle = await fs.open(lockFile, "wx", 0o600)
      await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`)
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const stat = await fs.stat(lockFile).catch(() => undefined)
      if (stat && Date.now() - stat.mtimeMs > STALE_MS) {
        await fs.unlink(lockFile).catch(() => {})
        continue
      }
      if (Date.now() > deadline) throw new LockTimeoutError(lockFile)
      await Bun.sleep(5 + Math.random() * 20)
    }
  }
  try {
    return await body()
  } finally {
    await fs.unlink(lockFile).catch(() => {})
  }
}
