import os from "node:os"
import { Paths } from "../global"
import { Config } from "../config"
import * as Auth from "../auth"
import * as Identity from "../auth/identity"
import { Installation } from "../installation"
import * as AtomicFile from "../util/atomic-file"
import { RuntimeError } from "../util/error"
import { fingerprint } from "../util/fingerprint"
import * as Json from "../util/json"
import * as ReadFile from "../util/read-file"
import { redact } from "../util/redact"
import { bounded } from "../util/scrub"
import type { Entry } from "./diagnostics"
import type { IdentityLog } from "./diagnostics-read"

/**
 * The support bundle (`cli diagnose --bundle <file>`): what a user attaches to a report. Recent
 * diagnostics records, the runtime and platform, the config's shape (util/redact.ts: an allow-list,
 * so every string not known to be harmless is replaced), saved credentials reduced to provider,
 * type and fingerprint, the install identity by fingerprint and the recent identity changes
 * (identity.log, validated: fingerprints only). It only reads: it never creates an identity or
 * touches auth.json.
 */

/** Records put in a bundle at most (the newest). */
export const MAX_RECORDS = 1_000

export class BundleExistsError extends RuntimeError {
  readonly code = "bundle_exists"
  constructor(readonly file: string) {
    super(`${file} already exists and was left as it is. Pick another file name, or pass --force to replace it.`)
    this.name = "BundleExistsError"
  }
}

export interface Bundle {
  kind: "pawwork-support-bundle"
  version: 1
  createdAt: string
  runtimeVersion: string
  platform: { os: string; arch: string; release: string; bun: string }
  identity: { optedOut: boolean; optedOutBy?: string; fingerprint?: string; persisted: boolean; createdAt?: string; problem?: string }
  config: { present: boolean; shape?: unknown; problem?: string }
  auth: { providers: { id: string; type: string; fingerprint?: string }[]; problem?: string }
  /** identity.log's newest valid lines (created / replaced, by fingerprint) and the lines dropped. */
  identityLog: IdentityLog
  skipped: number
  findings: string[]
  records: Entry[]
}

export async function build(
  env: Paths.Env,
  input: { entries: Entry[]; skipped: number; findings: string[]; identityLog: IdentityLog; now?: number },
): Promise<Bundle> {
  const [config, auth] = await Promise.all([configShape(env), authSummary(env)])
  return {
    kind: "pawwork-support-bundle",
    version: 1,
    createdAt: new Date(input.now ?? Date.now()).toISOString(),
    runtimeVersion: Installation.version(),
    platform: { os: process.platform, arch: process.arch, release: os.release(), bun: Bun.version },
    identity: await identity(env),
    config,
    auth,
    identityLog: input.identityLog,
    skipped: input.skipped,
    findings: input.findings,
    records: input.entries.slice(-MAX_RECORDS),
  }
}

export class BundleWriteError extends RuntimeError {
  readonly code = "bundle_write_failed"
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`The support bundle could not be written to ${file} (${problem}). Pick a file in a folder you can write to, e.g. --bundle ./pawwork-bundle.json.`)
    this.name = "BundleWriteError"
  }
}

/**
 * Writes with mode 0600, atomically; an existing file is replaced only with `force`, and only if it
 * is a regular file (util/atomic-file.ts: a device, FIFO or directory is refused, a symlink is
 * written through).
 */
export async function write(file: string, bundle: Bundle, force: boolean) {
  const text = JSON.stringify(bundle, null, 2) + "\n"
  try {
    if (force) await AtomicFile.write(file, text, 0o600)
    else await AtomicFile.create(file, text, 0o600)
  } catch (error) {
    if (RuntimeError.isInstance(error)) throw error
    const code = (error as NodeJS.ErrnoException).code
    if (code === "EEXIST") throw new BundleExistsError(file)
    throw new BundleWriteError(file, WRITE_PROBLEMS[code ?? ""] ?? code ?? (error instanceof Error ? error.message : String(error)))
  }
}

const WRITE_PROBLEMS: Record<string, string> = {
  ENOTDIR: "a part of its path is a file, not a folder",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  ENAMETOOLONG: "the name is too long",
}

// The raw file, not Config.load: `{env:VAR}` must stay a reference, never become the key it names.
async function configShape(env: Paths.Env): Promise<Bundle["config"]> {
  const file = Paths.resolve(env).config
  let text: string
  try {
    // Bounded, regular files only: a FIFO named as the config must not hold the bundle forever.
    text = (await ReadFile.readText(file, { maxBytes: Config.MAX_BYTES })).text
  } catch (error) {
    const reason = error instanceof ReadFile.FileReadError ? error.reason : "other"
    return reason === "missing" ? { present: false } : { present: true, problem: `unreadable (${reason})` }
  }
  // JSONC, as the runtime reads it: a config with comments is not "invalid" here either.
  const json = Json.parse(text, { jsonc: true })
  if (!json.ok) return { present: true, problem: `not valid JSON (line ${json.line}, column ${json.column})` }
  return { present: true, shape: redact(json.value) }
}

async function authSummary(env: Paths.Env): Promise<Bundle["auth"]> {
  let contents: Auth.Contents
  try {
    contents = await Auth.read(env)
  } catch (error) {
    return { providers: [], problem: RuntimeError.isInstance(error) ? error.code : "unreadable" }
  }
  const providers: Bundle["auth"]["providers"] = []
  for (const [id, info] of Object.entries(contents.entries)) {
    const secret = info.type === "api" ? info.key : info.type === "oauth" ? info.refresh : info.token
    // Trimmed as the runtime trims a key where it reads it, so this matches the records' keyFingerprint.
    providers.push({ id: bounded(id, 128), type: info.type, fingerprint: fingerprint(secret.trim()) })
  }
  for (const id of Object.keys(contents.invalid)) providers.push({ id: bounded(id, 128), type: "invalid" })
  return { providers }
}

async function identity(env: Paths.Env): Promise<Bundle["identity"]> {
  let config: Config.Info | undefined
  try {
    config = (await Config.load(env)).info
  } catch {}
  const by = Identity.optOut(env, config)
  if (by) return { optedOut: true, optedOutBy: by, persisted: false }
  let text: string
  try {
    text = (await ReadFile.readText(Identity.filePath(env), { maxBytes: 64 * 1024 })).text
  } catch (error) {
    const reason = error instanceof ReadFile.FileReadError ? error.reason : "other"
    return { optedOut: false, persisted: false, problem: reason === "missing" ? "no install.json yet" : `install.json unreadable (${reason})` }
  }
  const json = Json.parse(text)
  const parsed = json.ok ? Identity.FileContents.safeParse(json.value) : undefined
  if (!parsed?.success) return { optedOut: false, persisted: false, problem: "install.json is corrupt" }
  return { optedOut: false, fingerprint: fingerprint(parsed.data.token), persisted: true, createdAt: parsed.data.createdAt }
}
