import fs from "node:fs/promises"
import { setTimeout as sleep } from "node:timers/promises"
import { processAlive } from "./process-alive"
import * as ReadFile from "./read-file"

/** A lock this old whose holder process is gone was left by a crash. */
const STALE_MS = 10_000
/** A lock this old is broken even if a process with its pid exists (pids are reused; hosts differ). */
const ABANDONED_MS = 5 * 60_000
const WAIT_MS = 10_000

export class LockTimeoutError extends Error {
  constructor(readonly lockFile: string) {
    super(`timed out waiting for ${lockFile}`)
    this.name = "LockTimeoutError"
  }
}

/**
 * A cross-process lock via an exclusively created file holding the owner's pid, so two processes
 * doing read-modify-write on the same file serialise instead of losing each other's change. A lock
 * is broken only when it is old and its owner is no longer running (or very old): a slow or
 * suspended owner keeps its lock, and the waiter times out with an error instead.
 */
export async function withLock<T>(lockFile: string, body: () => Promise<T>, options: { waitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? WAIT_MS)
  for (;;) {
    try {
      const handle = await fs.open(lockFile, "wx", 0o600)
      await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`)
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      if (await breakIfStale(lockFile)) continue
      // >=: a wait of 0 tries once, never sleeps.
      if (Date.now() >= deadline) throw new LockTimeoutError(lockFile)
      // Not Bun.sleep: the fetch layer runs this under Node too (dist/register.mjs).
      await sleep(5 + Math.random() * 20)
    }
  }
  try {
    return await body()
  } finally {
    await fs.unlink(lockFile).catch(() => {})
  }
}

async function breakIfStale(lockFile: string): Promise<boolean> {
  const [stat, content] = await Promise.all([fs.stat(lockFile).catch(() => undefined), readLock(lockFile)])
  if (!stat || content === undefined) return false
  const age = Date.now() - stat.mtimeMs
  if (age <= STALE_MS) return false
  if (age <= ABANDONED_MS && ownerRunning(content)) return false
  // Another waiter may have broken it and taken a fresh lock since we looked: only remove what we judged.
  if ((await readLock(lockFile)) !== content) return false
  await fs.unlink(lockFile).catch(() => {})
  return true
}

// A lock holds a pid and a time: read a few bytes of a regular file only, so a FIFO or device put
// at the lock's path makes the waiter time out (and say which lock to remove) instead of hanging.
function readLock(lockFile: string) {
  return ReadFile.readText(lockFile, { maxBytes: 256, truncate: true }).then(
    (read) => read.text,
    () => undefined,
  )
}

function ownerRunning(content: string) {
  return processAlive(Number.parseInt(content, 10))
}
