import fs from "node:fs/promises"
import { constants } from "node:fs"
import path from "node:path"
import { randomBytes } from "node:crypto"
import { z } from "zod"
import { Paths } from "../global"
import type { Config } from "../config"
import { fingerprint } from "../util/fingerprint"
import { withLock } from "../util/file-lock"
import * as AtomicFile from "../util/atomic-file"
import * as Json from "../util/json"
import * as ReadFile from "../util/read-file"
import { writeProblem } from "../util/file-problem"
import { RuntimeError } from "../util/error"

/**
 * The per-install identity: a random token sent as `x-pawwork-install` to OpenCode gateway
 * providers, so a gateway (or a PawWork relay) can give each install its own free allowance
 * instead of one pool per public IP. See docs/install-identity.md.
 *
 * It is 32 bytes from the CSPRNG and nothing else: no hardware, user, host or network data, so it
 * says nothing about the person, and after a rotation nothing the gateway sees links old and new
 * (only the local file keeps the old fingerprint, for support).
 */

export const HEADER = "x-pawwork-install"
export const ENV_VAR = "PAWWORK_INSTALL_IDENTITY"
export const FILE_NAME = "install.json"

// This version writes 43 characters (32 bytes); any URL-safe token of at least 128 bits is accepted
// so a file from a newer version with a longer token is kept, not mistaken for a corrupt one.
const TOKEN = /^pwi_[A-Za-z0-9_-]{22,256}$/
const TOKEN_ANYWHERE = /pwi_[A-Za-z0-9_-]{22,256}/
/** The most install.json may hold: this version writes under 300 bytes. */
const MAX_BYTES = 64 * 1024

// Only the fields this version needs are required, so a file written by a newer version still loads.
export const FileContents = z
  .object({
    version: z.number().int().positive(),
    token: z.string().regex(TOKEN, "not a pwi_ install token"),
    createdAt: z.iso.datetime(),
    /** Set when this token replaced another: which one (fingerprint only), when and why. */
    previousFingerprint: z.string().optional(),
    replacedAt: z.iso.datetime().optional(),
    reason: z.string().optional(),
  })
  .passthrough()
export type FileContents = z.infer<typeof FileContents>

export interface Active {
  optedOut: false
  /** The raw token: non-enumerable, read only where the header is built. Never log or print it. */
  readonly token: string
  fingerprint: string
  createdAt: string
  /** false: the file could not be read or written; this token lives only as long as the process. */
  persisted: boolean
  path: string
  /** Why the token is not persisted, or why the one on disk was replaced in this process. */
  problem?: string
}

export interface OptedOut {
  optedOut: true
  /** Which switch turned it off: `PAWWORK_INSTALL_IDENTITY` or opencode.json `pawwork.installIdentity`. */
  by: "env" | "config"
  path: string
}

export type State = Active | OptedOut

/** What a resolved model carries about the identity, for the header builder and for reports. */
export interface Tag {
  /** Whether `x-pawwork-install` goes out with this model's requests. */
  sent: boolean
  optedOut: boolean
  persisted: boolean
  fingerprint?: string
  /** The raw token, present (non-enumerable) only when `sent`. */
  readonly token?: string
}

export class IdentityWriteError extends RuntimeError {
  readonly code = "identity_write_failed"
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`A new install identity could not be saved in ${file} (${problem}). The current one was kept; make ${path.dirname(file)} writable and try again.`)
    this.name = "IdentityWriteError"
  }
}

export class IdentityOptedOutError extends RuntimeError {
  readonly code = "identity_opted_out"
  constructor(readonly by: OptedOut["by"]) {
    super(
      `The install identity is turned off (${describeOptOut(by)}), so there is nothing to rotate and no ${HEADER} header is sent. Turn it back on first if you want a new one.`,
    )
    this.name = "IdentityOptedOutError"
  }
}

export function describeOptOut(by: OptedOut["by"]) {
  return by === "env" ? `${ENV_VAR} is set` : `opencode.json has "pawwork": { "installIdentity": false }`
}

export function filePath(env: Paths.Env = process.env) {
  return path.join(Paths.resolve(env).data, FILE_NAME)
}

export function logPath(env: Paths.Env = process.env) {
  return path.join(Paths.resolve(env).data, "log", "identity.log")
}

const ON = new Set(["1", "on", "true", "yes"])

/**
 * Whether the user turned the identity off. Either switch is enough. Any env value other than an
 * explicit "on" counts as off, so a typo never sends the header against the user's intent.
 */
export function optOut(env: Paths.Env, config: Config.Info | undefined): OptedOut["by"] | undefined {
  const value = env[ENV_VAR]?.trim().toLowerCase()
  if (value && !ON.has(value)) return "env"
  if (config?.pawwork?.installIdentity === false) return "config"
  return undefined
}

/** The identity in force for this process. Never throws: a request must not fail because of it. */
export async function resolve(env: Paths.Env, config: Config.Info | undefined): Promise<State> {
  const by = optOut(env, config)
  if (by) return { optedOut: true, by, path: filePath(env) }
  return load(env)
}

export function tag(state: State, opencodeProvider: boolean): Tag {
  if (state.optedOut) return { sent: false, optedOut: true, persisted: false }
  const result: Tag = { sent: opencodeProvider, optedOut: false, persisted: state.persisted, fingerprint: state.fingerprint }
  if (opencodeProvider) Object.defineProperty(result, "token", { value: state.token, enumerable: false })
  return result
}

// One disk read per data dir per process: the promise is cached before the read starts, so
// concurrent first calls share it and the request path never touches the file again.
const cache = new Map<string, Promise<Active>>()
let reads = 0

/** How many times install.json was read by this process (tests prove the once-per-process rule). */
export function readCount() {
  return reads
}

/** Forgets the cached identities (tests only: a real process keeps its identity for its lifetime). */
export function resetCache() {
  cache.clear()
  reads = 0
}

/** The identity for `env`'s data dir, created on first use. Ignores the opt-out: callers check it. */
export function load(env: Paths.Env = process.env): Promise<Active> {
  const file = filePath(env)
  let pending = cache.get(file)
  if (!pending) {
    pending = open(file, logPath(env)).catch((error) => memory(file, `unexpected: ${describeError(error)}`))
    cache.set(file, pending)
  }
  return pending
}

/** Replaces the token with a fresh one, records the change, and makes it this process's identity. */
export async function rotate(env: Paths.Env, config: Config.Info | undefined): Promise<Active> {
  const by = optOut(env, config)
  if (by) throw new IdentityOptedOutError(by)
  const file = filePath(env)
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    const active = await withLock(`${file}.lock`, async () => {
      // Refuse a directory, device or FIFO before reading it, not only when replacing it.
      await AtomicFile.resolve(file)
      const current = await read(file)
      return replace(file, logPath(env), previousOf(current), "rotated")
    })
    cache.set(file, Promise.resolve(active))
    return active
  } catch (error) {
    if (RuntimeError.isInstance(error)) throw error
    throw new IdentityWriteError(file, describeError(error))
  }
}

type ReadResult =
  | { kind: "ok"; contents: FileContents }
  | { kind: "missing" }
  | { kind: "corrupt"; problem: string; previous?: string }
  | { kind: "unreadable"; problem: string }

async function open(file: string, logFile: string): Promise<Active> {
  const found = await read(file)
  if (found.kind === "ok") return active(file, found.contents)
  if (found.kind === "missing") return create(file, logFile)
  // A file that cannot be read (permissions, a directory, a FIFO, far too large) is the user's to
  // fix, not ours to replace: this process gets a temporary identity and says why.
  if (found.kind === "unreadable") return memory(file, found.problem)
  return repair(file, logFile)
}

async function read(file: string): Promise<ReadResult> {
  reads++
  let text: string
  try {
    // A BOM (an editor's doing) is dropped here, so such a file is read, never replaced as corrupt.
    text = (await ReadFile.readText(file, { maxBytes: MAX_BYTES })).text
  } catch (error) {
    if (!(error instanceof ReadFile.FileReadError)) return { kind: "unreadable", problem: `cannot be read (${describeError(error)})` }
    if (error.reason === "missing") return { kind: "missing" }
    return { kind: "unreadable", problem: error.errno ? `${error.problem} (${error.errno})` : error.problem }
  }
  const json = Json.parse(text)
  if (!json.ok) return { kind: "corrupt", problem: "corrupt (not JSON)", ...recoverToken(text) }
  const parsed = FileContents.safeParse(json.value)
  if (parsed.success) return { kind: "ok", contents: parsed.data }
  const issue = parsed.error.issues[0]!
  return { kind: "corrupt", problem: `corrupt (${issue.path.map(String).join(".") || "top level"}: ${issue.message})`, ...recoverToken(text) }
}

// Only for the replacement record: support can then match the lost token's fingerprint.
function recoverToken(text: string): { previous?: string } {
  const match = TOKEN_ANYWHERE.exec(text)
  return match ? { previous: match[0] } : {}
}

function previousOf(found: ReadResult) {
  if (found.kind === "ok") return found.contents.token
  if (found.kind === "corrupt") return found.previous
  return undefined
}

async function create(file: string, logFile: string): Promise<Active> {
  const contents = fresh()
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    // Through a symlinked install.json (even a dangling one) to the file it names; EEXIST if taken.
    await AtomicFile.create(file, serialise(contents), 0o600)
  } catch (error) {
    // Another process created it first: its token is the install's token. Read once more, never
    // create again from here: a path that is taken yet reads as missing must not loop forever.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      const found = await read(file)
      if (found.kind === "ok") return active(file, found.contents)
      if (found.kind === "corrupt") return repair(file, logFile)
      return memory(file, found.kind === "unreadable" ? found.problem : "exists but cannot be found when read", contents)
    }
    return memory(file, `cannot be saved: ${saveProblem(file, error)}`, contents)
  }
  await appendLog(logFile, { event: "identity.created", fingerprint: fingerprint(contents.token) })
  return active(file, contents)
}

// Under the lock, and re-read inside it, so processes that all found the same corrupt file end up
// with the one replacement the first of them wrote.
async function repair(file: string, logFile: string): Promise<Active> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    return await withLock(`${file}.lock`, async () => {
      const found = await read(file)
      if (found.kind === "ok") return active(file, found.contents)
      if (found.kind === "missing") return create(file, logFile)
      if (found.kind === "unreadable") return memory(file, found.problem)
      return replace(file, logFile, previousOf(found), found.problem)
    })
  } catch (error) {
    return memory(file, `could not be replaced: ${saveProblem(file, error)}`)
  }
}

async function replace(file: string, logFile: string, previousToken: string | undefined, reason: string): Promise<Active> {
  const replacedAt = new Date().toISOString()
  const previousFingerprint = previousToken ? fingerprint(previousToken) : undefined
  const contents: FileContents = { ...fresh(), replacedAt, reason, ...(previousFingerprint ? { previousFingerprint } : {}) }
  await AtomicFile.write(file, serialise(contents), 0o600)
  await appendLog(logFile, {
    event: "identity.replaced",
    reason,
    ...(previousFingerprint ? { previousFingerprint } : {}),
    fingerprint: fingerprint(contents.token),
  })
  const result = active(file, contents)
  if (reason !== "rotated") result.problem = `the previous file was ${reason} and was replaced`
  return result
}

// O_NONBLOCK: a FIFO put where the log should be fails to open (ENXIO) instead of waiting forever
// for a reader; it changes nothing for a regular file.
const LOG_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK | constants.O_NOCTTY

async function appendLog(logFile: string, event: Record<string, string>) {
  try {
    await fs.mkdir(path.dirname(logFile), { recursive: true, mode: 0o700 })
    const handle = await fs.open(logFile, LOG_FLAGS, 0o600)
    try {
      // Only ever appended to a regular file: never fed to a device or a pipe.
      if ((await handle.stat()).isFile()) await handle.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + "\n")
    } finally {
      await handle.close()
    }
  } catch {
    // The log is for support; losing a line must not cost the user their identity.
  }
}

function fresh(): FileContents {
  return { version: 1, token: "pwi_" + randomBytes(32).toString("base64url"), createdAt: new Date().toISOString() }
}

function serialise(contents: FileContents) {
  return JSON.stringify(contents, null, 2) + "\n"
}

function active(file: string, contents: FileContents, persisted = true): Active {
  const result = { optedOut: false, fingerprint: fingerprint(contents.token), createdAt: contents.createdAt, persisted, path: file } as Active
  return Object.defineProperty(result, "token", { value: contents.token, enumerable: false })
}

// The data dir cannot hold the identity: this process still gets a token (stable for its lifetime)
// so its requests look like one install, but the next start will try the file again.
function memory(file: string, problem: string, contents = fresh()): Active {
  const result = active(file, contents, false)
  result.problem = problem
  return result
}

// What to fix, with the system's code kept for support ("... check the owner/mode of <dir> (EACCES)").
function saveProblem(file: string, error: unknown) {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const problem = writeProblem(file, error)
  return code && problem !== code ? `${problem} (${code})` : problem
}

function describeError(error: unknown) {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code) return code
  return error instanceof Error ? error.message : String(error)
}
