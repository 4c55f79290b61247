import path from "node:path"

/**
 * Why writing `file` failed, in words a user can act on: which directory's owner/mode to check
 * (for a data dir that cannot be created, its parent), a read-only file system, a full disk.
 * Follows "cannot be written: " or similar; the system's code stays available on the error.
 */
export function writeProblem(file: string, error: unknown): string {
  const { code, syscall, path: failed } = (error ?? {}) as NodeJS.ErrnoException
  // Creating the data dir fails in its parent: that is the directory to fix.
  const dir = syscall === "mkdir" && failed ? path.dirname(failed) : path.dirname(file)
  if (code === "EACCES" || code === "EPERM") return `permission denied; check the owner/mode of ${dir}`
  if (code === "EROFS") return `${dir} is on a read-only file system`
  if (code === "ENOSPC" || code === "EDQUOT") return "the disk is full"
  if (code === "ENOTDIR") return "a part of its path is a file, not a directory"
  return code ?? (error instanceof Error ? error.message : String(error))
}
