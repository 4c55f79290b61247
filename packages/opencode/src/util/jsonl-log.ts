import fs from "node:fs/promises"
import { constants } from "node:fs"
import path from "node:path"
import { withLock } from "./file-lock"

/**
 * An append-only JSON-lines log that never holds up its caller: `append` only queues; one writer
 * per log drains the queue in batches, each batch written with a single `write` of whole lines, so
 * a process that dies mid-write leaves at most one torn last line (which readers skip, and which
 * the next writer closes with a newline before appending). The live file is rotated before it
 * would pass `maxBytes`; `keep` older files are kept (`name.1.jsonl` newest ... `name.<keep>.jsonl`
 * oldest). If the log cannot be written the `onError` sink is told once and the lines are dropped:
 * diagnostics must never break or slow the request they describe.
 *
 * Several processes may append to one file: O_APPEND keeps their batches whole, and rotation is
 * done by one process at a time under `<file>.lock` (util/file-lock.ts), after checking again that
 * the live file is still full. A writer that finds it already rotated by another appends to the new
 * one; a batch that was on its way into the old file when it was renamed lands in `name.1.jsonl`.
 * So a rotation drops only what was in the oldest file, whatever the number of writers.
 */

// "a+" (O_RDWR: the torn-line check reads the last byte), plus O_NONBLOCK so that a FIFO at the
// log's path cannot hold up the open (no effect on a regular file).
const OPEN_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOCTTY

/** Default cap of one file. */
export const MAX_BYTES = 5 * 1024 * 1024
/** Default number of rotated files kept besides the live one. */
export const KEEP = 3
/** Lines waiting beyond this are dropped (counted in `dropped`): a stuck disk must not eat memory. */
export const MAX_QUEUE = 10_000
/** Upper bound of one write. */
export const MAX_BATCH_BYTES = 256 * 1024
/**
 * How long a writer waits for another's rotation. The lock is held for a few renames; a holder
 * that keeps it longer is stuck, and the batch then goes into the full file rather than nowhere.
 */
export const ROTATE_WAIT_MS = 5_000

export interface Options {
  /** The live file, e.g. `<data>/log/provider.jsonl`. */
  file: string
  maxBytes?: number
  keep?: number
  maxQueue?: number
  /** How long to wait for another process's rotation (default ROTATE_WAIT_MS). */
  rotateWaitMs?: number
  /** Told once per writer, the first time a batch cannot be written. */
  onError?: (message: string) => void
}

/** `provider.jsonl`, 2 → `provider.2.jsonl`. */
export function rotatedName(file: string, n: number) {
  const ext = path.extname(file)
  return n === 0 ? file : `${file.slice(0, file.length - ext.length)}.${n}${ext}`
}

export class Writer {
  readonly file: string
  readonly maxBytes: number
  readonly keep: number
  readonly maxQueue: number
  readonly rotateWaitMs: number
  private readonly onError: (message: string) => void
  private queue: string[] = []
  private running: Promise<void> | undefined
  private reported = false
  private dirReady = false
  private handle: fs.FileHandle | undefined
  private ino = 0
  private tailChecked = false
  private droppedLines = 0

  constructor(options: Options) {
    this.file = options.file
    this.maxBytes = Math.max(256, options.maxBytes ?? MAX_BYTES)
    this.keep = Math.max(0, options.keep ?? KEEP)
    this.maxQueue = Math.max(1, options.maxQueue ?? MAX_QUEUE)
    this.rotateWaitMs = Math.max(0, options.rotateWaitMs ?? ROTATE_WAIT_MS)
    this.onError = options.onError ?? ((message) => void process.stderr.write(message + "\n"))
  }

  /** Lines dropped because the queue was full, a line was larger than a file, or a write failed. */
  get dropped() {
    return this.droppedLines
  }

  /** Queues one value as a JSON line. Synchronous and cheap; never throws. */
  append(value: unknown) {
    let line: string
    try {
      line = JSON.stringify(value) + "\n"
    } catch {
      this.droppedLines++
      return
    }
    if (this.queue.length >= this.maxQueue) {
      this.droppedLines++
      return
    }
    this.queue.push(line)
    this.running ??= this.drain()
  }

  /** Resolves once everything queued so far is written (or dropped). */
  async flush() {
    while (this.running) await this.running
  }

  private async drain() {
    // Let the caller's synchronous appends join the first batch.
    await undefined
    try {
      for (;;) {
        while (this.queue.length) await this.write(this.take())
        // Idle: no descriptor held between bursts. Lines queued while closing go out in this run.
        await this.release()
        if (!this.queue.length) break
      }
    } finally {
      this.running = undefined
    }
  }

  private take(): string {
    const limit = Math.min(MAX_BATCH_BYTES, this.maxBytes)
    let bytes = 0
    let count = 0
    const parts: string[] = []
    for (const line of this.queue) {
      const size = Buffer.byteLength(line)
      if (size > this.maxBytes) {
        this.droppedLines++
        count++
        continue
      }
      if (bytes + size > limit && parts.length) break
      parts.push(line)
      bytes += size
      count++
    }
    this.queue.splice(0, count)
    return parts.join("")
  }

  private async write(data: string) {
    if (!data) return
    try {
      const bytes = Buffer.byteLength(data)
      const { handle, size } = await this.acquire()
      if (size > 0 && size + bytes > this.maxBytes) await this.rotateAndWrite(data, bytes)
      else await this.appendTo(handle, size, data)
    } catch (error) {
      this.droppedLines += data.split("\n").length - 1
      await this.release()
      this.report(error)
    }
  }

  private async appendTo(handle: fs.FileHandle, size: number, data: string) {
    // A process that died mid-write left a line without its newline: close it off so the
    // torn line stays one skipped line instead of swallowing the next record. Another process's
    // write still in progress can look the same (the size grows a page at a time); then the
    // newline only adds a blank line after it, which readers skip.
    let prefix = ""
    if (!this.tailChecked && size > 0) {
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      if (last[0] !== 0x0a) prefix = "\n"
    }
    this.tailChecked = true
    await handle.write(prefix + data)
  }

  /**
   * Rotates, if the live file is still too full once the lock is held, and writes the batch under
   * the same lock. Without the re-check, every writer that saw the file full would rotate in turn
   * and push the whole history (and each other's new lines) out of the kept files.
   */
  private async rotateAndWrite(data: string, bytes: number) {
    await this.release()
    let written = false
    const rotateThenAppend = async () => {
      const onDisk = await fs.stat(this.file).catch(() => undefined)
      if (onDisk && onDisk.size > 0 && onDisk.size + bytes > this.maxBytes) await this.rotate()
      const { handle, size } = await this.acquire()
      written = true
      await this.appendTo(handle, size, data)
    }
    try {
      await withLock(`${this.file}.lock`, rotateThenAppend, { waitMs: this.rotateWaitMs })
    } catch (error) {
      // The batch was handed to write(2) and failed there: nothing more to try.
      if (written) throw error
      // A stuck rotation (LockTimeoutError), or one that cannot be done (no lock file or rename in
      // a read-only directory): a file past the cap loses nothing; not writing would.
      const { handle, size } = await this.acquire()
      await this.appendTo(handle, size, data)
    }
  }

  /**
   * The open live file and its current size. One descriptor serves a whole burst of batches; the
   * name is checked each batch (a cheap stat) so that a rotation by another process, which moved
   * the file away under the descriptor, is followed, and their appends count towards the cap.
   */
  private async acquire(): Promise<{ handle: fs.FileHandle; size: number }> {
    if (this.handle) {
      // Async: this runs on every batch inside the writer, and must never stall the event loop.
      const onDisk = await fs.stat(this.file).catch(() => undefined)
      if (onDisk && onDisk.ino === this.ino) return { handle: this.handle, size: onDisk.size }
      await this.release()
    }
    if (!this.dirReady) {
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 })
      this.dirReady = true
    }
    const handle = await fs.open(this.file, OPEN_FLAGS, 0o600)
    const stat = await handle.stat()
    if (!stat.isFile()) {
      // A device or FIFO put where the log goes: never fed, and a FIFO nobody reads would block.
      await handle.close().catch(() => {})
      throw new Error("not a regular file")
    }
    this.handle = handle
    this.ino = stat.ino
    this.tailChecked = false
    return { handle, size: stat.size }
  }

  private async release() {
    const handle = this.handle
    this.handle = undefined
    await handle?.close().catch(() => {})
  }

  /** Only under the rotation lock: `name.<keep>.jsonl` is dropped, the others shift up by one. */
  private async rotate() {
    for (let n = this.keep; n >= 1; n--) {
      const from = rotatedName(this.file, n - 1)
      const to = rotatedName(this.file, n)
      await fs.rename(from, to).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error
      })
    }
    // keep = 0: the live file is simply started again.
    if (this.keep === 0) await fs.rm(this.file, { force: true })
  }

  private report(error: unknown) {
    if (this.reported) return
    this.reported = true
    const code = (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message : String(error))
    try {
      this.onError(`PawWork could not write its diagnostics log ${this.file} (${code}); carrying on without it.`)
    } catch {}
  }
}
