import fs from "node:fs/promises"
import path from "node:path"
import { z } from "zod"
import { Paths } from "../global"
import * as Json from "../util/json"
import * as ReadFile from "../util/read-file"
import { writeProblem } from "../util/file-problem"
import * as AtomicFile from "../util/atomic-file"
import { withLock, LockTimeoutError } from "../util/file-lock"
import { RuntimeError } from "../util/error"

export const Api = z.object({ type: z.literal("api"), key: z.string().min(1) })
export const Oauth = z.object({
  type: z.literal("oauth"),
  refresh: z.string(),
  access: z.string(),
  expires: z.number(),
})
export const WellKnown = z.object({ type: z.literal("wellknown"), key: z.string(), token: z.string() })
export const Info = z.discriminatedUnion("type", [Api, Oauth, WellKnown])
export type Info = z.infer<typeof Info>

export class AuthFileError extends RuntimeError {
  readonly code = "auth_file_invalid"
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`The saved credentials file ${file} ${problem}. It was left as it is; fix or move it aside, then run \`auth set\` again.`)
    this.name = "AuthFileError"
  }
}

export class AuthLockError extends RuntimeError {
  readonly code = "auth_locked"
  constructor(readonly file: string) {
    super(`Another process kept ${file} locked for too long. Nothing was changed; try again (if no other PawWork or OpenCode process is running, remove ${file}.lock).`)
    this.name = "AuthLockError"
  }
}

export function filePath(env: Paths.Env = process.env) {
  return path.join(Paths.resolve(env).data, "auth.json")
}

export interface Contents {
  /** Entries that match the schema. */
  entries: Record<string, Info>
  /** Entries that do not, with why: kept on disk untouched, reported, never used. */
  invalid: Record<string, string>
}

/** Reads auth.json. Missing: empty. Not JSON / not an object / unreadable: AuthFileError. */
export async function read(env: Paths.Env = process.env): Promise<Contents> {
  const file = filePath(env)
  return classify(await readRaw(file))
}

export async function get(providerID: string, env: Paths.Env = process.env): Promise<Info | undefined> {
  const file = filePath(env)
  const contents = await read(env)
  const reason = contents.invalid[providerID]
  if (reason) throw new AuthFileError(file, `has an unusable entry for "${providerID}" (${reason})`)
  return contents.entries[providerID]
}

export async function set(providerID: string, info: Info, env: Paths.Env = process.env) {
  const parsed = Info.parse(info)
  await update(env, (raw) => {
    raw[providerID] = parsed
    return true
  })
}

/** Returns whether an entry was removed. */
export async function remove(providerID: string, env: Paths.Env = process.env): Promise<boolean> {
  let removed = false
  await update(env, (raw) => {
    removed = Object.hasOwn(raw, providerID)
    delete raw[providerID]
    return removed
  })
  return removed
}

// Read-modify-write under a cross-process lock, on the raw object, so an entry this version does not
// understand (or considers invalid) is written back exactly as it was instead of being dropped.
async function update(env: Paths.Env, change: (raw: Record<string, unknown>) => boolean) {
  const file = filePath(env)
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    await withLock(`${file}.lock`, async () => {
      // A directory, device or FIFO at auth.json is refused before it is read (a FIFO would block);
      // a symlinked auth.json is read and written through its link, which stays.
      await AtomicFile.resolve(file)
      const raw = (await readRaw(file)) ?? (Object.create(null) as Record<string, unknown>)
      if (!change(raw)) return
      await AtomicFile.write(file, JSON.stringify(raw, null, 2) + "\n", 0o600)
    })
  } catch (error) {
    if (error instanceof LockTimeoutError) throw new AuthLockError(file)
    if (error instanceof AtomicFile.NotRegularFileError) throw new AuthFileError(file, error.problem)
    if (RuntimeError.isInstance(error)) throw error
    // A read-only or foreign-owned data dir fails in mkdir, the lock or the rename.
    throw new AuthFileError(file, `cannot be written: ${writeProblem(file, error)}`)
  }
}

/** The most auth.json may hold: a few keys take a few hundred bytes. */
export const MAX_BYTES = 1024 * 1024

async function readRaw(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string
  try {
    text = (await ReadFile.readText(file, { maxBytes: MAX_BYTES })).text
  } catch (error) {
    if (!(error instanceof ReadFile.FileReadError)) throw error
    if (error.reason === "missing") return undefined
    throw new AuthFileError(file, error.problem)
  }
  if (text.trim() === "") return {}
  const json = Json.parse(text)
  if (!json.ok) throw new AuthFileError(file, `is not valid JSON (${Json.describe(json)})`)
  if (typeof json.value !== "object" || json.value === null || Array.isArray(json.value))
    throw new AuthFileError(file, "does not hold a JSON object of provider entries")
  // A null-prototype copy, so a "__proto__" provider id is just a key.
  return Object.assign(Object.create(null), json.value) as Record<string, unknown>
}

function classify(raw: Record<string, unknown> | undefined): Contents {
  const entries: Record<string, Info> = Object.create(null)
  const invalid: Record<string, string> = Object.create(null)
  for (const [id, value] of Object.entries(raw ?? {})) {
    const result = Info.safeParse(value)
    if (result.success) entries[id] = result.data
    else invalid[id] = describeIssue(result.error)
  }
  return { entries, invalid }
}

function describeIssue(error: z.ZodError) {
  const issue = error.issues[0]!
  return issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message
}
