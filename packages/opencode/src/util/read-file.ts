import fs from "node:fs/promises"
import { constants, type Stats } from "node:fs"
import path from "node:path"
import { RuntimeError } from "./error"
import { kindOf } from "./atomic-file"

/**
 * Reads a file a user pointed at (auth.json, opencode.json, install.json, a saved page) as UTF-8
 * text, bounded: only a regular file is read (/dev/zero never ends, a FIFO blocks until someone
 * writes), never more than `maxBytes`, and a UTF-8 byte order mark is dropped, as OpenCode and
 * most editors do. Every failure is a FileReadError naming the file and the reason.
 */

export type Reason = "missing" | "directory" | "special" | "loop" | "permission" | "not_a_directory" | "too_large" | "other"

export class FileReadError extends RuntimeError {
  readonly code = "file_unreadable"
  constructor(
    readonly file: string,
    readonly reason: Reason,
    /** What is wrong, as a phrase that follows the file name ("is a directory, not a file"). */
    readonly problem: string,
    /** The system's error code (EACCES, ...), when a system call failed. */
    readonly errno?: string,
  ) {
    super(`${file} ${problem}.`)
    this.name = "FileReadError"
  }
}

export interface Options {
  /** The most bytes read; a larger file is refused with `too_large`, or cut with `truncate`. */
  maxBytes: number
  /** Keep the first `maxBytes` instead of refusing a larger file (a pasted body, where the start is what counts). */
  truncate?: boolean
}

export interface Text {
  text: string
  /** Only with `truncate`: the file had more than `maxBytes`, which was left unread. */
  truncated: boolean
}

// O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one (it has no
// effect on a regular file). O_NOCTTY: opening a terminal device never makes it ours.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY

export async function readText(file: string, options: Options): Promise<Text> {
  // stat first, so a device or FIFO is refused without being opened at all (opening one can have
  // effects); fstat after opening, because the path may have been swapped in between.
  check(file, await fs.stat(file).catch((error) => fail(file, error)), options)
  const handle = await fs.open(file, OPEN_FLAGS).catch((error) => fail(file, error))
  try {
    check(file, await handle.stat(), options)
    const buffer = Buffer.alloc(Math.min(options.maxBytes + 1, 64 * 1024))
    const chunks: Buffer[] = []
    let total = 0
    // Read to the end even when the size said otherwise: a file may grow after fstat, and some
    // (procfs) report size 0. One byte past the cap tells "exactly maxBytes" from "more".
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, options.maxBytes + 1 - total), null)
      if (bytesRead === 0) break
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)))
      total += bytesRead
      if (total > options.maxBytes) break
    }
    const bytes = Buffer.concat(chunks, total)
    const truncated = total > options.maxBytes
    if (truncated && !options.truncate) throw tooLarge(file, options.maxBytes)
    // TextDecoder drops a leading BOM; `stream` leaves out a character the cap cut in two.
    const text = new TextDecoder("utf-8").decode(bytes.subarray(0, Math.min(total, options.maxBytes)), { stream: truncated })
    return { text, truncated }
  } catch (error) {
    if (error instanceof FileReadError) throw error
    return fail(file, error)
  } finally {
    await handle.close().catch(() => {})
  }
}

function check(file: string, stat: Stats, options: Options) {
  if (stat.isDirectory()) throw new FileReadError(file, "directory", "is a directory, not a file")
  if (!stat.isFile()) throw new FileReadError(file, "special", `is ${kindOf(stat)}, not a regular file; point at a regular file instead`)
  if (stat.size > options.maxBytes && !options.truncate) throw tooLarge(file, options.maxBytes)
}

function tooLarge(file: string, maxBytes: number) {
  return new FileReadError(file, "too_large", `is larger than ${formatBytes(maxBytes)}, the most this file may hold; check that it is the right file`)
}

export function formatBytes(bytes: number) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`
  return `${bytes} bytes`
}

/** Turns a system error from stat/open/read into a FileReadError naming the file and what to do. */
export function fail(file: string, error: unknown): never {
  throw describe(file, error)
}

export function describe(file: string, error: unknown): FileReadError {
  if (error instanceof FileReadError) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const made = make(file, code, error)
  return code ? new FileReadError(file, made.reason, made.problem, code) : made
}

function make(file: string, code: string | undefined, error: unknown): FileReadError {
  switch (code) {
    case "ENOENT":
      return new FileReadError(file, "missing", "does not exist")
    case "EISDIR":
      return new FileReadError(file, "directory", "is a directory, not a file")
    case "ELOOP":
      return new FileReadError(file, "loop", "is a symlink loop (symbolic links that point at each other); fix or remove the link")
    case "ENOTDIR":
      return new FileReadError(file, "not_a_directory", "cannot be read: a part of its path is a file, not a directory")
    case "EACCES":
    case "EPERM":
      return new FileReadError(file, "permission", `cannot be read: permission denied; check the owner/mode of ${file} and of ${path.dirname(file)}`)
    case "ENXIO":
      // open() of a socket, or of a FIFO for writing: neither is a file to read.
      return new FileReadError(file, "special", "is a socket or another special file, not a regular file; point at a regular file instead")
    default:
      return new FileReadError(file, "other", `cannot be read (${code ?? (error instanceof Error ? error.message : String(error))})`)
  }
}
