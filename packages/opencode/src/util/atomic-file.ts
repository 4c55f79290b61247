import fs from "node:fs/promises"
import type { Stats } from "node:fs"
import path from "node:path"
import { randomBytes } from "node:crypto"
import { RuntimeError } from "./error"
import { processAlive } from "./process-alive"

/**
 * Replacing a user's file without ever clobbering something else. Only a regular file (or a path
 * where nothing is yet) is ever replaced: a directory, device, FIFO or socket is refused before
 * anything is created, so `/dev/null` named as a target stays a device even for root. A symbolic
 * link is written through: the link stays, the file it ends at gets the new content, atomically
 * (the temp file is made in that file's directory and renamed onto it).
 *
 * Temp files are `<target>.<pid>.<16 hex>.tmp`, created exclusively with mode 0600, so they are
 * never readable by others even while they hold every key. A writer killed before its rename leaves
 * one behind: the next write to the same target removes it once its process is gone.
 */

/** Symbolic links followed at most, as the kernel's own limit (40) does for a path. */
const MAX_LINKS = 40
/** A temp file this old is a leftover even if a process with its pid runs (pids are reused). */
const LEFTOVER_MS = 10 * 60_000
const TEMP_NAME = /^(.+)\.(\d{1,10})\.([0-9a-f]{8,32})\.tmp$/

export class NotRegularFileError extends RuntimeError {
  readonly code = "not_a_regular_file"
  constructor(
    readonly file: string,
    /** What is there instead ("a directory", "a FIFO (named pipe)", ...). */
    readonly found: string,
    /** Where the symbolic link at `file` ends, when it is one. */
    readonly target?: string,
  ) {
    super(`${file} ${describe(file, found, target)}, so nothing was written and it was left as it is. Point at a regular file, or move what is there out of the way, and try again.`)
    this.name = "NotRegularFileError"
  }

  /** What is wrong, as a phrase that follows the file name: "is a FIFO (named pipe), not a regular file". */
  get problem() {
    return describe(this.file, this.found, this.target)
  }
}

function describe(file: string, found: string, target: string | undefined) {
  const link = target && target !== path.resolve(file) ? `(a symbolic link to ${target}) ` : ""
  return `${link}is ${found}, not a regular file`
}

/**
 * The file a write to `file` goes to: `file` itself, or where its chain of symbolic links ends.
 * It is a regular file or does not exist yet; anything else is a NotRegularFileError. Only looks:
 * nothing is created or opened.
 */
export async function resolve(file: string): Promise<string> {
  let current = path.resolve(file)
  for (let links = 0; ; links++) {
    let stat: Stats
    try {
      stat = await fs.lstat(current)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return current
      throw error
    }
    if (stat.isFile()) return current
    if (!stat.isSymbolicLink()) throw new NotRegularFileError(file, kindOf(stat), current)
    if (links >= MAX_LINKS) throw new NotRegularFileError(file, "a symbolic link loop (or a chain of more than 40 links)", current)
    if (await plantedLink(current, stat))
      throw new NotRegularFileError(file, "a symbolic link another user made in a folder everyone can write to (like /tmp)", current)
    current = path.resolve(path.dirname(current), await fs.readlink(current))
  }
}

/**
 * The kernel's protected_symlinks rule, which following links by hand would otherwise bypass: in a
 * sticky folder everyone can write to (/tmp), a link is followed only when it is ours or the folder
 * owner's. Another user's link there may point at any of our files (`--bundle /tmp/b.json --force`
 * onto a planted link to ~/.ssh/authorized_keys).
 */
async function plantedLink(link: string, stat: Stats) {
  const uid = process.getuid?.()
  if (uid === undefined || stat.uid === uid) return false
  const dir = await fs.stat(path.dirname(link)).catch(() => undefined)
  return dir !== undefined && (dir.mode & 0o1002) === 0o1002 && dir.uid !== stat.uid
}

export function kindOf(stat: Stats) {
  if (stat.isDirectory()) return "a directory"
  if (stat.isFIFO()) return "a FIFO (named pipe)"
  if (stat.isSocket()) return "a socket"
  if (stat.isCharacterDevice()) return "a character device"
  if (stat.isBlockDevice()) return "a block device"
  return "a special file"
}

/**
 * Replaces the regular file at `file` (or where its link ends) with `content`, so a reader sees
 * either the old or the new file, never a torn one. Returns the path written.
 */
export async function write(file: string, content: string, mode = 0o600): Promise<string> {
  await ensureDir(path.dirname(path.resolve(file)))
  const target = await resolve(file)
  const temp = await prepare(target, content, mode)
  try {
    await fs.rename(temp, target)
  } catch (error) {
    await fs.unlink(temp).catch(() => {})
    throw error
  }
  return target
}

/**
 * Publishes `content` at `file` (or where its link ends) only if nothing is there yet: EEXIST
 * otherwise, never an overwrite. The complete file is hard-linked into place, so a reader never
 * sees it half written. Returns the path written.
 */
export async function create(file: string, content: string, mode = 0o600): Promise<string> {
  await ensureDir(path.dirname(path.resolve(file)))
  const target = await resolve(file)
  const temp = await prepare(target, content, mode)
  try {
    await fs.link(temp, target)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // Filesystems without hard links: a rename after an existence check. The check-then-rename race
    // can only make a concurrent first run keep its own file until the next start.
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error
    if (await fs.lstat(target).then(() => true, () => false)) throw Object.assign(new Error(`${target} exists`), { code: "EEXIST" })
    await fs.rename(temp, target)
  } finally {
    await fs.unlink(temp).catch(() => {})
  }
  return target
}

// The target's directory (a link may point elsewhere), leftovers cleared, the new content on disk.
async function prepare(target: string, content: string, mode: number) {
  await ensureDir(path.dirname(target))
  await removeLeftovers(target)
  return writeTemp(target, content, mode)
}

// mkdir -p reports a file in the way as EEXIST, which would read as "the target exists".
async function ensureDir(dir: string) {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
    throw Object.assign(new Error(`${dir}: a part of this path is a file, not a directory`), { code: "ENOTDIR" })
  }
}

/**
 * Writes and flushes `content` to a new temp file beside `target` and returns its path. Created
 * with O_EXCL and mode 0600 whatever `mode` is (a planted symlink or a loose umask cannot widen
 * it); `mode` is applied only once the content is complete.
 */
export async function writeTemp(target: string, content: string, mode = 0o600) {
  const temp = `${target}.${process.pid}.${randomBytes(8).toString("hex")}.tmp`
  const handle = await fs.open(temp, "wx", 0o600)
  let complete = false
  try {
    await handle.writeFile(content)
    if ((mode & 0o777) !== 0o600) await handle.chmod(mode & 0o777)
    await handle.sync()
    complete = true
  } finally {
    await handle.close().catch(() => {})
    if (!complete) await fs.unlink(temp).catch(() => {})
  }
  return temp
}

/** Whether `name` is one of this module's temp files for the file named `base`. */
export function isTempFor(base: string, name: string) {
  const match = TEMP_NAME.exec(name)
  return match !== null && match[1] === base
}

/**
 * Removes temp files of `target` left by writers that died before their rename (they hold the full
 * content: every key, for auth.json). One whose process still runs is being written now and is left
 * alone, unless it is too old for that to be true.
 */
export async function removeLeftovers(target: string) {
  const dir = path.dirname(target)
  const base = path.basename(target)
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch {
    return
  }
  for (const name of names) {
    const match = TEMP_NAME.exec(name)
    if (!match || match[1] !== base) continue
    const file = path.join(dir, name)
    const stat = await fs.lstat(file).catch(() => undefined)
    if (!stat?.isFile()) continue
    const pid = Number(match[2])
    if (processAlive(pid) && Date.now() - stat.mtimeMs < LEFTOVER_MS) continue
    await fs.unlink(file).catch(() => {})
  }
}
