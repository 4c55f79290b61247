import type { LanguageModelUsage } from "ai"
import * as ProviderError from "../provider/error"
import { Provider } from "../provider"
import * as SessionLLM from "./llm"

/** What to do after a failed attempt. Decided by session/retry.ts; the processor only carries it out. */
export type Decision = { action: "retry"; delayMs: number } | { action: "stop" }

export interface AttemptFailure {
  /** 1-based attempt number. */
  attempt: number
  error: unknown
  /** Whether any text of this attempt had already reached the caller. */
  streamedText: boolean
  /** The failure normalized once, here, for the policy, the hooks and the result alike. */
  info: ProviderError.Info
}

export interface Hooks {
  /** Text as it streams. */
  onText?: (delta: string) => void
  /** After every failed attempt, with the decision taken. */
  onFailure?: (failure: AttemptFailure, decision: Decision) => void
  /** After the attempt that succeeded. */
  onSuccess?: (attempt: number, usage: LanguageModelUsage | undefined) => void
}

export interface Input extends SessionLLM.StreamInput, Hooks {
  /** Retry policy; without one a failure ends the turn. */
  decide?: (failure: AttemptFailure) => Decision
  /** Waits between attempts; replaceable so tests drive time instead of sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** The clock failures are dated against (resetAt); replaceable so tests follow a simulated clock. */
  now?: () => number
}

export type Result =
  | { ok: true; text: string; usage: LanguageModelUsage | undefined; attempts: number }
  | { ok: false; error: unknown; attempts: number; text: string; failure: ProviderError.Info }

/**
 * Runs one assistant turn: streams the completion and, when an attempt fails, asks the retry
 * policy what to do. Retrying after text has been shown would duplicate it, so that case stops.
 */
export async function process(input: Input): Promise<Result> {
  let text = ""
  for (let attempt = 1; ; attempt++) {
    const outcome = await once(input, (delta) => {
      text += delta
      input.onText?.(delta)
    })
    if (outcome.ok) {
      input.onSuccess?.(attempt, outcome.usage)
      return { ok: true, text, usage: outcome.usage, attempts: attempt }
    }
    const { credential, id: providerID } = input.model.provider
    const secrets = Provider.secretsOf(input.model)
    const context = { authSource: credential.source, providerID, secrets, ...(credential.envVar ? { authEnvVar: credential.envVar } : {}) }
    const info = ProviderError.withoutSecrets(ProviderError.classify(outcome.error, input.now?.() ?? Date.now(), context), secrets)
    const failure: AttemptFailure = { attempt, error: outcome.error, streamedText: outcome.streamedText, info }
    const decision: Decision = outcome.streamedText || !input.decide ? { action: "stop" } : input.decide(failure)
    input.onFailure?.(failure, decision)
    const failed = { ok: false as const, error: outcome.error, attempts: attempt, text, failure: info }
    if (decision.action === "stop" || input.abortSignal?.aborted) return failed
    await (input.sleep ?? sleep)(decision.delayMs, input.abortSignal)
    if (input.abortSignal?.aborted) return failed
  }
}

type Outcome = { ok: true; usage: LanguageModelUsage | undefined } | { ok: false; error: unknown; streamedText: boolean }

async function once(input: Input, onText: (delta: string) => void): Promise<Outcome> {
  let streamedText = false
  let usage: LanguageModelUsage | undefined
  try {
    const result = SessionLLM.stream(input)
    for await (const part of result.fullStream) {
      switch (part.type) {
        case "text-delta":
          if (part.text) {
            streamedText = true
            onText(part.text)
          }
          break
        case "error":
          return { ok: false, error: part.error, streamedText }
        case "finish":
          usage = part.totalUsage
          break
      }
    }
    return { ok: true, usage }
  } catch (error) {
    return { ok: false, error, streamedText }
  }
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
