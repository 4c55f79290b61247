import type { LanguageModelUsage } from "ai"
import * as ProviderError from "../provider/error"
import { DeadlineError } from "../provider/deadline-error"
import { Provider } from "../provider"
import * as SessionLLM from "./llm"
import * as SessionDeadline from "./deadline"
import type { StopReason as PolicyStopReason } from "./retry"

/**
 * Why a turn stopped: the retry policy's reason, or the processor's own: `text_streamed` (trying
 * again would repeat text already shown), `wait_budget_exhausted` (the next wait would pass the
 * turn's budget), `aborted` (the caller cancelled), `no_retry_policy` (no `decide` given).
 */
export type StopReason = PolicyStopReason | "text_streamed" | "wait_budget_exhausted" | "aborted" | "no_retry_policy"

/** What to do after a failed attempt. Decided by session/retry.ts; the processor only carries it out. */
export type Decision = { action: "retry"; delayMs: number } | { action: "stop"; reason?: string }

export interface AttemptFailure {
  /** 1-based attempt number. */
  attempt: number
  error: unknown
  /** Whether any text of this attempt had already reached the caller. */
  streamedText: boolean
  /** The failure normalized once, here, for the policy, the hooks and the result alike. */
  info: ProviderError.Info
  /** How long the attempt ran before it failed. */
  elapsedMs?: number
  /** The first-byte deadline the attempt ran under: what "slow" is measured against (retry.ts). */
  firstByteMs?: number
}

export interface Hooks {
  /** Text as it streams. */
  onText?: (delta: string) => void
  /** After every failed attempt, with the decision taken. */
  onFailure?: (failure: AttemptFailure, decision: Decision) => void
  /** After the attempt that succeeded. */
  onSuccess?: (attempt: number, usage: LanguageModelUsage | undefined) => void
  /**
   * Once, before the first attempt. Synchronous: whatever it starts (quota/turn.ts refreshes usage
   * meters) runs beside the request and never delays it.
   */
  onTurnStart?: () => void
}

export interface Input extends SessionLLM.StreamInput, Hooks {
  /** Retry policy; without one a failure ends the turn. */
  decide?: (failure: AttemptFailure) => Decision
  /** Waits between attempts; replaceable so tests drive time instead of sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The clock failures are dated against (resetAt); replaceable so tests follow a simulated clock. */
  now?: () => number
  /** Deadlines and the wait budget (opencode.json `pawwork.timeouts`); unset fields take SessionDeadline.DEFAULTS. */
  timeouts?: Partial<SessionDeadline.Timeouts>
}

export type Result =
  | { ok: true; text: string; usage: LanguageModelUsage | undefined; attempts: number }
  | { ok: false; error: unknown; attempts: number; text: string; failure: ProviderError.Info; stopReason: StopReason | (string & {}) }

/**
 * Runs one assistant turn: streams the completion and, when an attempt fails, asks the retry
 * policy what to do. Retrying after text has been shown would duplicate it, so that case stops.
 * Every attempt runs under the deadlines of session/deadline.ts, and the waits between attempts
 * under the turn's wait budget: a retry whose wait would pass it ends the turn instead.
 */
export async function process(input: Input): Promise<Result> {
  const timeouts = SessionDeadline.resolve(input.timeouts)
  try {
    input.onTurnStart?.()
  } catch {}
  let text = ""
  let waitedMs = 0
  for (let attempt = 1; ; attempt++) {
    const outcome = await once(input, timeouts, (delta) => {
      text += delta
      input.onText?.(delta)
    })
    if (outcome.ok) {
      input.onSuccess?.(attempt, outcome.usage)
      return { ok: true, text, usage: outcome.usage, attempts: attempt }
    }
    let failure = attemptFailure(input, attempt, outcome.error, outcome.streamedText, { elapsedMs: outcome.elapsedMs, firstByteMs: timeouts.firstByteMs })
    let decision = decideAfter(input, failure)
    if (decision.action === "retry" && waitedMs + decision.delayMs > timeouts.turnWaitBudgetMs) {
      const spent = new DeadlineError("wait_budget", timeouts.turnWaitBudgetMs, { waitedMs, nextMs: decision.delayMs }, { cause: outcome.error })
      failure = attemptFailure(input, attempt, spent, false, { elapsedMs: outcome.elapsedMs, firstByteMs: timeouts.firstByteMs })
      decision = { action: "stop", reason: "wait_budget_exhausted" }
    }
    input.onFailure?.(failure, decision)
    const failed = (stopReason: string) => ({ ok: false as const, error: failure.error, attempts: attempt, text, failure: failure.info, stopReason })
    if (decision.action === "stop") return failed(decision.reason ?? "not_retryable")
    await (input.sleep ?? sleep)(decision.delayMs, input.abortSignal)
    waitedMs += decision.delayMs
    if (input.abortSignal?.aborted) return failed("aborted")
  }
}

/** The processor's own stops first (a cancel, text already shown), then the retry policy's call. */
function decideAfter(input: Input, failure: AttemptFailure): Decision {
  if (input.abortSignal?.aborted) return { action: "stop", reason: "aborted" }
  if (failure.streamedText) return { action: "stop", reason: "text_streamed" }
  return input.decide ? input.decide(failure) : { action: "stop", reason: "no_retry_policy" }
}

/** The failed attempt with its record, normalized once, without any secret the request carried. */
function attemptFailure(input: Input, attempt: number, error: unknown, streamedText: boolean, timing: { elapsedMs: number; firstByteMs: number }): AttemptFailure {
  const { credential, id: providerID } = input.model.provider
  const secrets = Provider.secretsOf(input.model)
  const context = { authSource: credential.source, providerID, secrets, ...(credential.envVar ? { authEnvVar: credential.envVar } : {}) }
  const classified = ProviderError.classify(error, input.now?.() ?? Date.now(), context)
  const info = ProviderError.withoutSecrets(classified, secrets)
  // classify already cleaned the upstream text the advice quotes; when the backstop found nothing
  // more there, the advice keeps the runtime's own words, which a configured header value naming
  // the product ("pawwork-opencode-desktop") would otherwise cut ("auth set [redacted]").
  if (info.message === classified.message) info.userMessage = classified.userMessage
  return { attempt, error, streamedText, info, ...timing }
}

type Outcome = { ok: true; usage: LanguageModelUsage | undefined } | { ok: false; error: unknown; streamedText: boolean; elapsedMs: number }

async function once(input: Input, timeouts: SessionDeadline.Timeouts, onText: (delta: string) => void): Promise<Outcome> {
  let streamedText = false
  let usage: LanguageModelUsage | undefined
  const watch = new SessionDeadline.Watch(timeouts)
  const started = performance.now()
  const failed = (error: unknown) => ({ ok: false as const, error, streamedText, elapsedMs: performance.now() - started })
  try {
    const result = SessionLLM.stream(input, watch)
    for await (const part of result.fullStream) {
      watch.progress()
      switch (part.type) {
        case "text-delta":
          if (part.text) {
            streamedText = true
            onText(part.text)
          }
          break
        case "error":
          return failed(watch.expired ?? part.error)
        // The SDK ends an aborted stream quietly with this part: a deadline's or the caller's abort.
        case "abort":
          return failed(watch.expired ?? cancelled(input.abortSignal))
        case "finish":
          usage = part.totalUsage
          break
      }
    }
    return watch.expired ? failed(watch.expired) : { ok: true, usage }
  } catch (error) {
    return failed(watch.expired ?? error)
  } finally {
    watch.stop()
  }
}

/** The caller's cancellation as the classifier knows it (network, AbortError), whatever reason it was given. */
function cancelled(signal: AbortSignal | undefined) {
  return Object.assign(new Error("The request was cancelled"), { name: "AbortError", cause: signal?.reason })
}

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    signal?.addEventListener("abort", done, { once: true })
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener("abort", done)
      resolve()
    }
  })
}
