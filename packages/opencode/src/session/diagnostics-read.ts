import fs from "node:fs/promises"
import path from "node:path"
import { z } from "zod"
import { RuntimeError } from "../util/error"
import { bounded, scrub } from "../util/scrub"
import * as JsonlRead from "../util/jsonl-read"
import * as ReadFile from "../util/read-file"
import { kindOf } from "../util/atomic-file"
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

/** A path that exists but cannot be looked at: a symlink loop, no permission. */
export class LogUnreadableError extends RuntimeError {
  readonly code = "diagnostics_unreadable"
  constructor(
    readonly target: string,
    /** A phrase after the path, from util/read-file: "is a symlink loop (...)", "cannot be read: permission denied; ...". */
    readonly problem: string,
  ) {
    super(`${target} ${problem}. Point \`diagnose\` at a diagnostics log file, a log directory or a data directory.`)
    this.name = "LogUnreadableError"
  }
}

export class NotALogFileError extends RuntimeError {
  readonly code = "diagnostics_not_a_file"
  constructor(
    readonly target: string,
    /** What is there: "a directory", "a FIFO (named pipe)", "a character device", ... */
    readonly found: string,
  ) {
    super(`${target} is not a regular file but ${found}, never a diagnostics log. Point \`diagnose\` at a diagnostics log file, a log directory or a data directory.`)
    this.name = "NotALogFileError"
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

/**
 * The files behind a `diagnose` argument: a log file, a log directory, or a data dir with log/.
 * `missingIsEmpty` is for the default directory: an install that never logged has none, and that
 * is "nothing recorded yet", not an error. A path the user names must exist.
 */
export async function locate(target: string, options: { missingIsEmpty?: boolean } = {}): Promise<string[]> {
  let stat
  try {
    stat = await fs.stat(target)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (options.missingIsEmpty && code === "ENOENT") return []
    if (code === "ENOENT") throw new LogNotFoundError(target)
    // A symlink loop or a path we may not look at exists: saying "does not exist" would mislead.
    throw new LogUnreadableError(target, ReadFile.describe(target, error).problem)
  }
  if (!stat.isDirectory()) {
    // Only a regular file ends: /dev/zero or a FIFO would be read forever.
    if (!stat.isFile()) throw new NotALogFileError(target, kindOf(stat))
    return [target]
  }
  const direct = await logFiles(target)
  return regularFiles(direct.length ? direct : await logFiles(path.join(target, "log")))
}

/** The files of a directory listing that are regular files; one that vanished since (a rotation) is left out. */
async function regularFiles(files: string[]): Promise<string[]> {
  const kept: string[] = []
  for (const file of files) {
    let stat
    try {
      stat = await fs.stat(file)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue
      throw new LogUnreadableError(file, ReadFile.describe(file, error).problem)
    }
    if (!stat.isFile()) throw new NotALogFileError(file, kindOf(stat))
    kept.push(file)
  }
  return kept
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
  // A log is untrusted input like any other, and these fields go into a terminal table: a record
  // whose identifiers are not plain printable text was not written by the runtime, and is refused.
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== "string" || key === "message") continue
    if (!(FIELD[key] ?? PRINTABLE).test(value)) return undefined
  }
  // The one free-text field is cleaned (control characters dropped, scrubbed again) rather than refused.
  if (entry.event === "provider.failure" && entry.message !== undefined) entry.message = bounded(entry.message, MESSAGE_MAX)
  return entry
}

// Letters, marks, digits, punctuation, symbols and the plain space: no control, format (bidi,
// zero-width) or separator characters, nothing a terminal acts on. The runtime writes these fields
// through ids it made or through bounded(), so its own records always pass.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u
// Fields with a known shape are held to it.
const FIELD: Record<string, RegExp> = {
  keyFingerprint: /^fp_[0-9a-f]{12}$/,
  installFingerprint: /^fp_[0-9a-f]{12}$/,
  authEnvVar: /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  runtimeVersion: /^[0-9A-Za-z.+-]{1,64}$/,
  stopReason: /^[a-z_]{1,32}$/,
}

// ---- the identity log -------------------------------------------------------------------------

/** Written by auth/identity.ts next to the diagnostics logs: one line per identity created or replaced. */
export const IDENTITY_LOG = "identity.log"
/** Identity events kept at most (the newest): identities change rarely, so these cover months. */
export const MAX_IDENTITY_EVENTS = 50
const IDENTITY_LINE_MAX = 4096

const Fingerprint = z.string().regex(/^fp_[0-9a-f]{12}$/)
// The reason is the runtime's own words ("rotated", "corrupt (not JSON)", "corrupt (token: ...)"):
// short printable text in which nothing looks like a credential or an install token.
const Reason = z
  .string()
  .min(1)
  .max(160)
  .refine((r) => /^[\x20-\x7e]+$/.test(r) && !/pwi_[A-Za-z0-9_-]{8,}/.test(r) && scrub(r) === r)

export const IdentityEvent = z.discriminatedUnion("event", [
  z.object({ time: z.iso.datetime(), event: z.literal("identity.created"), fingerprint: Fingerprint }),
  z.object({
    time: z.iso.datetime(),
    event: z.literal("identity.replaced"),
    reason: Reason,
    previousFingerprint: Fingerprint.optional(),
    fingerprint: Fingerprint,
  }),
])
export type IdentityEvent = z.infer<typeof IdentityEvent>

export interface IdentityLog {
  /** The newest valid events, oldest first; only the schema's fields (fingerprints, never tokens). */
  events: IdentityEvent[]
  /** Lines that were not a valid event (damaged, unknown, or carrying anything token-shaped). */
  skipped: number
}

/** The identity logs beside the given diagnostics logs (one per directory), for `diagnose`. */
export function identityLogsBeside(files: string[]): string[] {
  return [...new Set(files.map((f) => path.join(path.dirname(f), IDENTITY_LOG)))]
}

/** Reads identity logs; a missing file is no events, a damaged line is skipped and counted. */
export async function readIdentityLogs(files: string[]): Promise<IdentityLog> {
  const events: IdentityEvent[] = []
  let skipped = 0
  for (const file of files) {
    try {
      for await (const line of JsonlRead.lines(file, IDENTITY_LINE_MAX)) {
        if (!line.ok) {
          skipped++
          continue
        }
        if (line.text.trim() === "") continue
        let json: unknown
        try {
          json = JSON.parse(line.text)
        } catch {
          skipped++
          continue
        }
        const checked = IdentityEvent.safeParse(json)
        if (!checked.success) {
          skipped++
          continue
        }
        events.push(checked.data)
        if (events.length >= 2 * MAX_IDENTITY_EVENTS) events.splice(0, events.length - MAX_IDENTITY_EVENTS)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") skipped++
    }
  }
  events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
  return { events: events.slice(-MAX_IDENTITY_EVENTS), skipped }
}
