import fs from "node:fs/promises"
import { randomBytes } from "node:crypto"
import path from "node:path"
import { z } from "zod"
import { Paths } from "../global"
import * as AtomicFile from "../util/atomic-file"
import * as ReadFile from "../util/read-file"
import { LockTimeoutError, withLock } from "../util/file-lock"

/**
 * The local quota ledger: what this install sent to OpenCode's gateway providers and what came
 * back, per UTC day and per provider/model/auth source, plus the last refusal of each quota kind
 * with its reset. OpenCode publishes no free allowance and sends no rate-limit headers, so this is
 * the only record of "how much have I used today" that exists. One JSON file per install,
 * `<data>/quota/ledger.json`, mode 0600, plus the batches of counts not yet merged into it.
 *
 * A writer never waits for another: it puts its batch in a file of its own in `ledger.pending/`
 * (a unique name, written whole and renamed into place, 0600), then merges the pending batches into
 * ledger.json only if nobody else holds the lock at that moment. Waiting on a lock at the end of
 * `cli run` lost counts when many processes ended at once (a waiter gave up and exited); a batch
 * on disk is counted by every reader until a merge takes it in. ledger.json lists the batches its
 * last merge took in (`absorbed`), so a batch is counted once even if that merge died before
 * deleting them.
 *
 * It holds counts, kinds, model ids, auth-source tags and times: never a key, a fingerprint, a
 * prompt or an answer. A file that does not parse is moved aside (`ledger.damaged.json`) and
 * replaced with a fresh one carrying a note; a request never fails because of the ledger.
 */

export const FILE_NAME = "ledger.json"
export const DAMAGED_NAME = "ledger.damaged.json"
/** Far above a month of rows; far below what would slow a read. */
export const MAX_BYTES = 512 * 1024
/** UTC days kept; older ones are dropped on the next write. */
export const KEEP_DAYS = 35
/** Rows of one day; requests beyond are counted under the model id OTHER_MODEL. */
export const MAX_ROWS_PER_DAY = 64
export const OTHER_MODEL = "(other)"
export const MAX_NOTES = 5
const MAX_REFUSALS = 64
/** The folder of batches not yet merged into ledger.json, beside it. */
export const PENDING_DIR = "ledger.pending"
/** Where the last batch that could not be read is moved. */
export const DAMAGED_BATCH_NAME = "ledger.damaged-batch.json"
/**
 * Batches waiting at most. Normally a merge follows each batch within moments; a pile this large
 * means ledger.json itself cannot be written, and further counts are refused (and said) instead of
 * filling the disk.
 */
export const MAX_PENDING = 1_000
// `<ms since 1970, 13 digits>-<pid>-<16 hex>.json`: sorts by time, never reused.
const BATCH_NAME = /^\d{13}-\d{1,10}-[0-9a-f]{16}\.json$/

/** Refusals whose latest occurrence (and reset) the ledger keeps: spent quotas and client gates. */
export const QUOTA_KINDS = [
  "free_usage_limit",
  "go_usage_limit",
  "subscription_usage_limit",
  "credits_exhausted",
  "spend_limit",
  "free_tier_gated",
  "client_outdated",
] as const
export type QuotaKind = (typeof QUOTA_KINDS)[number]
const QUOTA_KIND_SET: ReadonlySet<string> = new Set(QUOTA_KINDS)
export function isQuotaKind(kind: string): kind is QuotaKind {
  return QUOTA_KIND_SET.has(kind)
}

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const time = z.iso.datetime()
const AuthSource = z.enum(["config", "auth", "env", "public", "none"])
const DayKey = z.string().regex(/^\d{4}-\d{2}-\d{2}$/)

export const Row = z.object({
  providerID: z.string().min(1).max(128),
  modelID: z.string().min(1).max(256),
  authSource: AuthSource,
  sent: count,
  answered: count,
  /** Failed attempts by normalized kind (ProviderError.Kind; a newer runtime's kinds are kept as written). */
  failed: z.record(z.string().max(64), count).refine((r) => Object.keys(r).length <= 64, "at most 64 kinds"),
})
export type Row = z.infer<typeof Row>

export const Refusal = z.object({
  providerID: z.string().min(1).max(128),
  modelID: z.string().min(1).max(256),
  authSource: AuthSource,
  kind: z.string().min(1).max(64),
  at: time,
  resetAt: time.nullable(),
  /** The Go window the gateway named ("5 hour", "weekly", "monthly"), when it did. */
  limitName: z.string().max(32).nullable(),
})
export type Refusal = z.infer<typeof Refusal>

export const Answered = z.object({
  providerID: z.string().min(1).max(128),
  modelID: z.string().min(1).max(256),
  authSource: AuthSource,
  at: time,
})
export type Answered = z.infer<typeof Answered>

export const Note = z.object({ at: time, text: z.string().max(500) })

export const File = z
  .object({
    version: z.literal(1),
    /** UTC day → `provider/model auth` → counts. */
    days: z.record(DayKey, z.record(z.string().max(512), Row)),
    /** `provider auth kind` → the latest refusal of that quota kind. */
    lastRefusals: z.record(z.string().max(256), Refusal),
    /** `provider auth` → the latest answered request, to tell whether a refusal still holds. */
    lastAnswered: z.record(z.string().max(256), Answered),
    notes: z.array(Note).max(MAX_NOTES),
    /** The pending batches the last merge took in: a reader skips them, the next merge deletes what is left of them. */
    absorbed: z.array(z.string().regex(BATCH_NAME)).max(MAX_PENDING).optional(),
  })
  .passthrough()
export type File = z.infer<typeof File>

export function empty(): File {
  return { version: 1, days: {}, lastRefusals: {}, lastAnswered: {}, notes: [] }
}

/** One finished attempt, as the processor reports it. */
export type Event = {
  at: number
  providerID: string
  modelID: string
  authSource: z.infer<typeof AuthSource>
} & ({ outcome: "answered" } | { outcome: "failed"; kind: string; resetAt: string | null; limitName: string | null })

export function dir(env: Paths.Env = process.env) {
  return path.join(Paths.resolve(env).data, "quota")
}

export function filePath(env: Paths.Env = process.env) {
  return path.join(dir(env), FILE_NAME)
}

export function pendingDir(file: string) {
  return path.join(path.dirname(file), PENDING_DIR)
}

/** "2026-11-21" for any moment of that UTC day. */
export function utcDay(at: number): string {
  const start = Math.floor(at / DAY_MS) * DAY_MS
  if (start !== lastDay.start) lastDay = { start, key: new Date(start).toISOString().slice(0, 10) }
  return lastDay.key
}
const DAY_MS = 86_400_000
// Every request of a day asks for the same key: it is made once a day.
let lastDay = { start: NaN, key: "" }

export const rowKey = (e: Pick<Event, "providerID" | "modelID" | "authSource">) => `${e.providerID}/${e.modelID} ${e.authSource}`
export const refusalKey = (providerID: string, authSource: string, kind: string) => `${providerID} ${authSource} ${kind}`
export const answeredKey = (providerID: string, authSource: string) => `${providerID} ${authSource}`

/** Adds one event to `ledger` (in place). Pure apart from that: the caller decides when it is written. */
export function apply(ledger: File, event: Event) {
  const row = rowOf(ledger, utcDay(event.at), event)
  row.sent++
  if (event.outcome === "answered") {
    row.answered++
    const iso = isoOf(event.at)
    const k = answeredKey(event.providerID, event.authSource)
    const last = ledger.lastAnswered[k]
    if (!last || last.at <= iso) ledger.lastAnswered[k] = { providerID: event.providerID, modelID: event.modelID, authSource: event.authSource, at: iso }
    return
  }
  countFailure(row, event.kind, 1)
  if (!isQuotaKind(event.kind)) return
  refused(ledger, {
    providerID: event.providerID,
    modelID: event.modelID,
    authSource: event.authSource,
    kind: event.kind,
    at: isoOf(event.at),
    resetAt: event.resetAt,
    limitName: event.limitName,
  })
}

/**
 * Adds everything `from` holds to `into` (in place): counts are summed, the later of two refusals
 * or answers is kept, notes appended. How a batch of in-memory counts joins the file's.
 */
export function merge(into: File, from: File) {
  for (const [day, rows] of Object.entries(from.days)) {
    for (const row of Object.values(rows)) {
      const target = rowOf(into, day, row)
      target.sent += row.sent
      target.answered += row.answered
      for (const [kind, n] of Object.entries(row.failed)) countFailure(target, kind, n)
    }
  }
  for (const r of Object.values(from.lastRefusals)) refused(into, r)
  for (const [k, a] of Object.entries(from.lastAnswered)) if (!into.lastAnswered[k] || into.lastAnswered[k].at <= a.at) into.lastAnswered[k] = a
  into.notes.push(...from.notes)
}

/** The row of a day for this provider/model/auth source, made if new; past the day's cap, the `(other)` row. */
function rowOf(ledger: File, day: string, e: Pick<Row, "providerID" | "modelID" | "authSource">): Row {
  const rows = (ledger.days[day] ??= {})
  const key = rowKey(e)
  const found = rows[key]
  if (found) return found
  const modelID = Object.keys(rows).length >= MAX_ROWS_PER_DAY ? OTHER_MODEL : e.modelID
  const k = modelID === e.modelID ? key : rowKey({ ...e, modelID })
  return (rows[k] ??= { providerID: e.providerID, modelID, authSource: e.authSource, sent: 0, answered: 0, failed: {} })
}

function countFailure(row: Row, kind: string, n: number) {
  if (row.failed[kind] !== undefined || Object.keys(row.failed).length < 64) row.failed[kind] = (row.failed[kind] ?? 0) + n
}

function refused(ledger: File, r: Refusal) {
  const k = refusalKey(r.providerID, r.authSource, r.kind)
  const last = ledger.lastRefusals[k]
  if (!last || last.at <= r.at) ledger.lastRefusals[k] = r
}

// The same second comes up for every request of a burst: its ISO form is made once.
let lastIso: { ms: number; iso: string } = { ms: NaN, iso: "" }
function isoOf(ms: number) {
  if (lastIso.ms !== ms) lastIso = { ms, iso: new Date(ms).toISOString() }
  return lastIso.iso
}

/** Drops days older than KEEP_DAYS before `now` and the oldest refusals past the cap. */
export function prune(ledger: File, now: number) {
  const oldest = utcDay(now - (KEEP_DAYS - 1) * 86_400_000)
  for (const day of Object.keys(ledger.days)) if (day < oldest) delete ledger.days[day]
  const refusals = Object.entries(ledger.lastRefusals)
  if (refusals.length > MAX_REFUSALS) {
    refusals.sort((a, b) => (a[1].at < b[1].at ? 1 : -1))
    ledger.lastRefusals = Object.fromEntries(refusals.slice(0, MAX_REFUSALS))
  }
  const answered = Object.entries(ledger.lastAnswered)
  if (answered.length > MAX_REFUSALS) {
    answered.sort((a, b) => (a[1].at < b[1].at ? 1 : -1))
    ledger.lastAnswered = Object.fromEntries(answered.slice(0, MAX_REFUSALS))
  }
  if (ledger.notes.length > MAX_NOTES) ledger.notes = ledger.notes.slice(-MAX_NOTES)
}

export type ReadResult = { ledger: File; damaged?: string }

/**
 * Reads the ledger with every batch still pending added, without changing anything: a missing file
 * is an empty ledger, a damaged one is an empty ledger (plus the pending batches) with `damaged`
 * saying why (the next merge replaces it). Anything else that keeps ledger.json from being read (a
 * directory in its place, permissions) is thrown as a FileReadError. Takes no lock: a batch that
 * disappears while it is read was merged meanwhile, and the read starts again.
 */
export async function read(file: string): Promise<ReadResult> {
  const pending = pendingDir(file)
  for (let attempt = 1; ; attempt++) {
    // Listed before ledger.json is read: a batch merged after the listing is then either in the
    // ledger read (and in its `absorbed`) or gone, which starts the read again.
    const names = await pendingNames(pending)
    const result = await readLedgerFile(file)
    const absorbed = new Set(result.ledger.absorbed)
    let vanished = false
    for (const name of names) {
      if (absorbed.has(name)) continue
      const batch = await readBatch(path.join(pending, name))
      if (batch === "missing") vanished = true
      else if (!batch.damaged) merge(result.ledger, batch.ledger)
      if (vanished) break
    }
    if (!vanished || attempt >= 3) return result
  }
}

/** ledger.json alone. */
async function readLedgerFile(file: string): Promise<ReadResult> {
  let text: string
  try {
    text = (await ReadFile.readText(file, { maxBytes: MAX_BYTES })).text
  } catch (error) {
    if (error instanceof ReadFile.FileReadError) {
      if (error.reason === "missing") return { ledger: empty() }
      if (error.reason === "too_large") return { ledger: empty(), damaged: `it is larger than ${ReadFile.formatBytes(MAX_BYTES)}` }
    }
    throw error
  }
  return parse(text)
}

export function parse(text: string): ReadResult {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { ledger: empty(), damaged: "it is not valid JSON" }
  }
  const parsed = File.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? issue.path.map(String).join(".").slice(0, 120) : "(top level)"
    return { ledger: empty(), damaged: `${where}: ${(issue?.message ?? "unexpected content").slice(0, 120)}` }
  }
  return { ledger: parsed.data }
}

/** The quota folder, or an error that says what is in the way (mkdir's own says EEXIST or ENOTDIR). */
export async function ensureDir(dir: string) {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "EEXIST" || code === "ENOTDIR") throw new Error(`${dir} cannot be created: it, or a part of its path, is a file, not a folder`)
    throw error
  }
}

/** How long a process waits for another's lock on a file of the quota folder (meters.json). */
export const LOCK_WAIT_MS = 2_000

/**
 * Adds `counts` (a ledger of what happened since the last write) to the ledger: as a pending batch
 * first (never waiting for anyone; a failure here loses the counts and is thrown), then merged into
 * ledger.json if the lock is free within `mergeWaitMs` (0: only if free now). Resolves to whether
 * the merge ran; a lock held by another process is not an error, since the batch is counted as it is
 * and the next merge takes it in.
 */
export async function add(file: string, counts: File, now: number, mergeWaitMs = 0): Promise<boolean> {
  await append(file, counts, now)
  return compact(file, now, mergeWaitMs).then(
    () => true,
    (error) => {
      if (error instanceof LockTimeoutError) return false
      throw new MergeError(file, error)
    },
  )
}

/** The batch is on disk (and counted); only merging it into ledger.json failed. */
export class MergeError extends Error {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause })
    this.name = "MergeError"
  }
}

/** Writes `counts` as a new pending batch: a unique name, written whole, then renamed into place. */
export async function append(file: string, counts: File, now: number) {
  const pending = pendingDir(file)
  await ensureDir(path.dirname(file))
  await ensureDir(pending)
  const waiting = (await pendingNames(pending)).length
  if (waiting >= MAX_PENDING) throw new Error(`${pending} already holds ${waiting} batches not merged into ${FILE_NAME}; fix what keeps ${FILE_NAME} from being written`)
  const batch = structuredClone(counts)
  prune(batch, now)
  delete batch.absorbed
  const target = path.join(pending, `${String(Date.now()).padStart(13, "0")}-${process.pid}-${randomBytes(8).toString("hex")}.json`)
  const temp = await AtomicFile.writeTemp(target, JSON.stringify(batch) + "\n")
  try {
    await fs.rename(temp, target)
  } catch (error) {
    await fs.unlink(temp).catch(() => {})
    throw error
  }
}

/**
 * Merges the pending batches into ledger.json under its lock (`<file>.lock`), waiting at most
 * `waitMs` for it (LockTimeoutError past that): read, add, prune, write atomically (0600), then
 * delete the batches taken in. A damaged ledger.json is moved aside and replaced by a fresh ledger
 * that says so; a batch that cannot be read is moved aside with a note.
 */
export async function compact(file: string, now: number, waitMs = 0) {
  const pending = pendingDir(file)
  await ensureDir(path.dirname(file))
  await withLock(
    `${file}.lock`,
    async () => {
      const names = await pendingNames(pending)
      const { ledger, damaged } = await readLedgerFile(file)
      const note = (text: string) => ledger.notes.push({ at: new Date(now).toISOString(), text })
      if (damaged) {
        await fs.rename(file, path.join(path.dirname(file), DAMAGED_NAME)).catch(() => {})
        note(`The ledger could not be read (${damaged}) and was replaced; its earlier counts are lost. The damaged copy is ${DAMAGED_NAME}.`)
      }
      // Batches the last merge took in but did not get to delete: counted already, deleted now.
      const previous = ledger.absorbed ?? []
      const absorbed: string[] = []
      for (const name of previous)
        await fs.unlink(path.join(pending, name)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") absorbed.push(name)
        })
      const skip = new Set(previous)
      const taken: string[] = []
      for (const name of names) {
        if (skip.has(name) || absorbed.length + taken.length >= MAX_PENDING) continue
        const batch = await readBatch(path.join(pending, name))
        if (batch === "missing") continue
        if (batch.damaged) {
          await fs.rename(path.join(pending, name), path.join(path.dirname(file), DAMAGED_BATCH_NAME)).catch(() => {})
          note(`A batch of counts (${name}) could not be read (${batch.damaged}) and was left out; it is kept as ${DAMAGED_BATCH_NAME}.`)
        } else merge(ledger, batch.ledger)
        taken.push(name)
      }
      await removeLeftovers(pending)
      if (!damaged && taken.length === 0) return
      prune(ledger, now)
      absorbed.push(...taken)
      if (absorbed.length) ledger.absorbed = absorbed
      else delete ledger.absorbed
      await AtomicFile.write(file, JSON.stringify(ledger) + "\n")
      for (const name of taken) await fs.unlink(path.join(pending, name)).catch(() => {})
    },
    { waitMs },
  )
}

/** The pending batches, oldest first, at most MAX_PENDING; none when the folder is missing. */
async function pendingNames(pending: string): Promise<string[]> {
  let names: string[]
  try {
    names = await fs.readdir(pending)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === "ENOENT" || code === "ENOTDIR") return []
    throw error
  }
  return names
    .filter((n) => BATCH_NAME.test(n))
    .sort()
    .slice(0, MAX_PENDING)
}

/** A writer killed between its temp file and the rename leaves the temp (`<batch>.<pid>.<hex>.tmp`): gone after a while. */
async function removeLeftovers(pending: string) {
  const names = await fs.readdir(pending).catch(() => [] as string[])
  for (const name of names) {
    const batch = name.slice(0, name.indexOf(".json.") + 5)
    if (!BATCH_NAME.test(batch) || !AtomicFile.isTempFor(batch, name)) continue
    const file = path.join(pending, name)
    const stat = await fs.lstat(file).catch(() => undefined)
    if (stat?.isFile() && Date.now() - stat.mtimeMs > LEFTOVER_MS) await fs.unlink(file).catch(() => {})
  }
}
// Far longer than writing a few hundred bytes takes: a temp this old has no writer any more.
const LEFTOVER_MS = 10 * 60_000

/** One pending batch; "missing" when it was merged (and deleted) since it was listed. */
async function readBatch(file: string): Promise<ReadResult | "missing"> {
  try {
    return parse((await ReadFile.readText(file, { maxBytes: MAX_BYTES })).text)
  } catch (error) {
    if (error instanceof ReadFile.FileReadError && error.reason === "missing") return "missing"
    return { ledger: empty(), damaged: error instanceof Error ? error.message.slice(0, 200) : "it cannot be read" }
  }
}
