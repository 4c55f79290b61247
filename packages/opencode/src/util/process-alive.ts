/**
 * Whether a process with this pid exists, for telling a crashed writer's leftovers (a temp file, a
 * lock) from a live one's. Signal 0 checks without touching the process; EPERM means it exists
 * under another user. A pid is reused once its process is gone, so callers pair this with an age.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
