import path from "node:path"
import { z } from "zod"
import { Paths } from "../global"
import type { Provider } from "../provider"
import * as ProviderError from "../provider/error"
import { Installation } from "../installation"
import { bounded } from "../util/scrub"
import { safeURL } from "../util/redact"
import * as JsonlLog from "../util/jsonl-log"
import type { AttemptFailure, Decision, Hooks } from "./processor"

/**
 * Structured diagnostics for requests to OpenCode gateway providers (`opencode*`): one
 * `provider.failure` line per failed attempt (retried ones too) and one short `provider.request`
 * line per request that succeeded, appended to `<data dir>/log/provider.jsonl` (rotated, see
 * util/jsonl-log.ts and docs/diagnostics.md). Support reads them with `cli diagnose`.
 *
 * Users send these files as they are, so a record is built field by field from an allow-list,
 * never by spreading an object that might carry a key: credentials appear only as fingerprints,
 * upstream text is scrubbed and bounded, URLs lose their userinfo and query.
 */

export const FILE_NAME = "provider.jsonl"
export const MESSAGE_MAX = 300

// `host`: written only by the fetch layer (src/integration/): a key the host program sent that is
// none of the keys the runtime knows (opencode.json, auth.json, OPENCODE_API_KEY).
export const AuthSource = z.enum(["config", "auth", "env", "public", "none", "host"])

// Shared by both events: which request, which model, which credential path, which identity.
const identity = {
  time: z.iso.datetime(),
  sessionID: z.string().min(1).max(128),
  requestID: z.string().min(1).max(128),
  providerID: z.string().min(1).max(128),
  modelID: z.string().min(1).max(256),
  baseURL: z.string().max(512),
  authSource: AuthSource,
  /** The variable the key came from, when authSource is `env`. */
  authEnvVar: z.string().max(128).optional(),
  /** Fingerprint of the key, when a real key (not `public`) was sent. */
  keyFingerprint: z.string().max(32).optional(),
  /** Fingerprint of the install identity, when there is one (absent when opted out, and only then). */
  installFingerprint: z.string().max(32).optional(),
  /** Whether `x-pawwork-install` went out: false when opted out (no installFingerprint) or when the provider is not a built-in gateway one. */
  installHeaderSent: z.boolean(),
  /** 1-based attempt number (failure), or the attempts the request took (request). */
  attempt: z.number().int().min(1).max(1000),
  runtimeVersion: z.string().max(64),
}

export const Failure = z.object({
  event: z.literal("provider.failure"),
  ...identity,
  statusCode: z.number().int().min(100).max(599).optional(),
  upstreamType: z.string().max(64).optional(),
  upstreamCode: z.string().max(64).optional(),
  /** The upstream model provider the gateway named (`Error from provider (<name>)`). */
  upstreamProvider: z.string().max(64).optional(),
  kind: ProviderError.Kind,
  /** Whose side the failure is on (ProviderError.Origin). Absent in records written before it existed. */
  origin: ProviderError.Origin.optional(),
  /** The answer came from a PawWork relay (ProviderError.Info.relayed); present only when it did. */
  relayed: z.literal(true).optional(),
  retryable: z.boolean(),
  /** What the runtime did after this attempt (not what the classifier suggested). */
  action: z.enum(["retry", "stop"]),
  /** The wait before the next attempt, when retrying. */
  nextRetryMs: z.number().int().min(0).optional(),
  /** Why the retry policy stopped (`not_retryable`, `attempts_exhausted`, `wait_too_long`). */
  stopReason: z.string().max(32).optional(),
  retryAfterRaw: z.string().max(64).optional(),
  retryAfterMs: z.number().int().min(0).optional(),
  resetAt: z.iso.datetime().optional(),
  quotaScope: ProviderError.QuotaScope.optional(),
  limitName: z.string().max(32).optional(),
  workspaceID: z.string().max(64).optional(),
  message: z.string().max(MESSAGE_MAX).optional(),
})
export type Failure = z.infer<typeof Failure>

export const Request = z.object({
  event: z.literal("provider.request"),
  ...identity,
  durationMs: z.number().int().min(0).optional(),
})
export type Request = z.infer<typeof Request>

export const Entry = z.discriminatedUnion("event", [Failure, Request])
export type Entry = z.infer<typeof Entry>

export interface Context {
  model: Provider.Resolved
  sessionID: string
  requestID: string
  /** The clock records are dated by (the simulator's in tests and the demo). */
  now?: () => number
}

/** The identity fields of a record, picked one by one from the resolved model. */
function base(context: Context, attempt: number) {
  const { provider, model, install } = context.model
  const credential = provider.credential
  return {
    time: new Date(context.now?.() ?? Date.now()).toISOString(),
    sessionID: id(context.sessionID),
    requestID: id(context.requestID),
    providerID: bounded(provider.id, 128) || "unknown",
    modelID: bounded(model.id, 256) || "unknown",
    baseURL: safeURL(provider.baseURL),
    authSource: credential.source,
    ...(credential.source === "env" && credential.envVar ? { authEnvVar: bounded(credential.envVar, 128) } : {}),
    ...(credential.fingerprint ? { keyFingerprint: bounded(credential.fingerprint, 32) } : {}),
    ...(install?.fingerprint ? { installFingerprint: bounded(install.fingerprint, 32) } : {}),
    installHeaderSent: install?.sent === true,
    attempt,
    runtimeVersion: Installation.version(),
  }
}

// Ids are the runtime's own (ses_..., msg_...): kept verbatim when they look like ids, so records of
// one request group together; anything else is scrubbed like upstream text.
function id(value: string) {
  return /^[A-Za-z0-9_.:-]{1,128}$/.test(value) ? value : bounded(value, 128) || "unknown"
}

export function failureRecord(context: Context, failure: AttemptFailure, decision: Decision): Failure {
  const info = failure.info
  const reason = (decision as { reason?: unknown }).reason
  const record: Failure = {
    event: "provider.failure",
    ...base(context, failure.attempt),
    kind: info.kind,
    origin: info.origin,
    retryable: info.retryable,
    action: decision.action,
  }
  if (info.relayed) record.relayed = true
  if (info.statusCode !== null) record.statusCode = info.statusCode
  if (info.upstreamType !== null) record.upstreamType = bounded(info.upstreamType, 64)
  if (info.upstreamCode !== null) record.upstreamCode = bounded(info.upstreamCode, 64)
  if (info.provider !== null) record.upstreamProvider = bounded(info.provider, 64)
  if (decision.action === "retry") record.nextRetryMs = Math.max(0, Math.round(decision.delayMs))
  if (decision.action === "stop" && typeof reason === "string") record.stopReason = bounded(reason, 32)
  if (info.retryAfterRaw !== null) record.retryAfterRaw = bounded(info.retryAfterRaw, 64)
  if (info.retryAfterMs !== null) record.retryAfterMs = info.retryAfterMs
  if (info.resetAt !== null) record.resetAt = info.resetAt
  if (info.quotaScope !== null) record.quotaScope = info.quotaScope
  if (info.limitName !== null) record.limitName = bounded(info.limitName, 32)
  if (info.workspaceID !== null) record.workspaceID = bounded(info.workspaceID, 64)
  // Already scrubbed by the classifier; scrubbed again because this line leaves the machine.
  const message = bounded(info.message, MESSAGE_MAX)
  if (message) record.message = message
  return record
}

export function requestRecord(context: Context, attempts: number, durationMs?: number): Request {
  return {
    event: "provider.request",
    ...base(context, attempts),
    ...(durationMs !== undefined && Number.isFinite(durationMs) ? { durationMs: Math.max(0, Math.round(durationMs)) } : {}),
  }
}

// ---- where records go -------------------------------------------------------------------------

export function logDir(env: Paths.Env = process.env) {
  return path.join(Paths.resolve(env).data, "log")
}

export function logFile(env: Paths.Env = process.env) {
  return path.join(logDir(env), FILE_NAME)
}

// One writer per file per process, so appends from concurrent requests share one queue.
const writers = new Map<string, JsonlLog.Writer>()

export function writer(env: Paths.Env = process.env): JsonlLog.Writer {
  const file = logFile(env)
  let found = writers.get(file)
  if (!found) {
    found = new JsonlLog.Writer({ file })
    writers.set(file, found)
  }
  return found
}

/** Waits until every record queued by this process is on disk (the CLI awaits it before exit). */
export async function flush() {
  await Promise.all([...writers.values()].map((w) => w.flush()))
}

export interface HookInput extends Context {
  env: Paths.Env
  /** Where to write instead of the data dir's log (tests, benchmarks). */
  log?: Pick<JsonlLog.Writer, "append">
}

/**
 * The processor hooks that record one request to an OpenCode gateway provider. Other providers
 * get no hooks: what is recorded is the OpenCode gateway's behaviour. The hooks only queue, so
 * they never delay or fail the request; invalid records (a bug) are dropped, not written.
 */
export function hooks(input: HookInput): Pick<Hooks, "onFailure" | "onSuccess"> {
  if (!input.model.provider.opencode) return {}
  const started = performance.now()
  const context: Context = { model: input.model, sessionID: input.sessionID, requestID: input.requestID, ...(input.now ? { now: input.now } : {}) }
  const log = input.log ?? writer(input.env)
  const append = (record: Entry) => {
    try {
      const checked = Entry.safeParse(record)
      if (checked.success) log.append(checked.data)
    } catch {}
  }
  return {
    onFailure: (failure, decision) => append(failureRecord(context, failure, decision)),
    onSuccess: (attempt) => append(requestRecord(context, attempt, performance.now() - started)),
  }
}
