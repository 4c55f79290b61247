import fs from "node:fs/promises"
import path from "node:path"
import { RuntimeError } from "../util/error"
import { bounded } from "../util/scrub"
import * as JsonlRead from "../util/jsonl-read"
import { Entry, MESSAGE_MAX } from "./diagnostics"

/**
 * Reads diagnostics logs back for `cli diagnose`: every rotated file oldest first, each line parsed
 * and checked against the record schema. A damaged log (torn last line, garbage, a runaway line)
 * is read to the end; what could not be used is counted in `skipped`, never thrown.
 */

const LOG_NAME = /^provider(?:\.(\d{1,4}))?\.jsonl$/
/** Records kept in memory at most (the newest); the rotation cap keeps real logs far below it. */
export const MAX_ENTRIES = 100_000

export class LogNotFoundError extends RuntimeError {
  readonly code = "diagnostics_not_found"
  constructor(readonly target: string) {
    super(`${target} does not exist. Point \`diagnose\` at a diagnostics log file, a log directory or a data directory (default: the data dir's log/).`)
    this.name = "LogNotFoundError"
  }
}

export interface Filter {
  sessionID?: string
  /** Epoch ms: records before it are left out. */
  since?: number
}

export interface Result {
  entries: Entry[]
  /** Lines that were not a valid record. */
  skipped: number
  files: string[]
}

/** The diagnostics logs in a directory, oldest first (`provider.3.jsonl` ... `provider.jsonl`). */
export async function logFiles(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch {
    return []
  }
  return names
    .flatMap((name) => {
      const match = LOG_NAME.exec(name)
      return match ? [{ name, n: match[1] === undefined ? 0 : Number(match[1]) }] : []
    })
    .sort((a, b) => b.n - a.n)
    .map((f) => path.join(dir, f.name))
}

/** The files behind a `diagnose` argument: a log file, a log directory, or a data dir with log/. */
export async function locate(target: string): Promise<string[]> {
  let stat
  try {
    stat = await fs.stat(target)
  } catch {
    throw new LogNotFoundError(target)
  }
  if (!stat.isDirectory()) return [target]
  const direct = await logFiles(target)
  return direct.length ? direct : logFiles(path.join(target, "log"))
}

export async function read(files: string[], filter: Filter = {}): Promise<Result> {
  const entries: Entry[] = []
  let skipped = 0
  for (const file of files) {
    let source: AsyncGenerator<JsonlRead.Line>
    try {
      source = JsonlRead.lines(file)
      for await (const line of source) {
        if (!line.ok) {
          skipped++
          continue
        }
        if (line.text.trim() === "") continue
        const entry = parse(line.text)
        if (!entry) {
          skipped++
          continue
        }
        if (filter.sessionID !== undefined && entry.sessionID !== filter.sessionID) continue
        if (filter.since !== undefined && Date.parse(entry.time) < filter.since) continue
        entries.push(entry)
        if (entries.length >= 2 * MAX_ENTRIES) entries.splice(0, entries.length - MAX_ENTRIES)
      }
    } catch {
      // Unreadable file (vanished in a rotation, permissions): the others still count.
      skipped++
    }
  }
  // Stable: lines of one process stay in order; lines of concurrent processes fall into time order.
  entries.sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
  if (entries.length > MAX_ENTRIES) entries.splice(0, entries.length - MAX_ENTRIES)
  return { entries, skipped, files }
}

function parse(text: string): Entry | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  const checked = Entry.safeParse(json)
  if (!checked.success) return undefined
  const entry = checked.data
  // A log is untrusted input like any other: scrub the one free-text field again on the way out.
  if (entry.event === "provider.failure" && entry.message !== undefined) entry.message = bounded(entry.message, MESSAGE_MAX)
  return entry
}
