import { APICallError } from "ai"
import { ProviderError, ProviderErrorMessage } from "../provider"
import { RuntimeError } from "../util/error"
import { UsageError } from "./args"

/** The normalized provider failure as `--json` shows it: the record, its upstream text renamed so `message` stays the paragraph. */
export type ProviderFields = Omit<ProviderError.Info, "message" | "userMessage"> & {
  upstreamMessage: string
  attempts?: number
  stopReason?: string
}

export type Described = {
  code: string
  message: string
  details?: Record<string, unknown>
} & Partial<ProviderFields>

/** One human paragraph (and a stable code) for anything a command can fail with. */
export function describe(error: unknown): Described {
  if (error instanceof UsageError) return { code: "usage", message: error.message }
  if (RuntimeError.isInstance(error)) return { code: error.code, message: error.message }
  // The turn has ended: whatever the classifier suggested, the runtime's action was to stop.
  if (ProviderError.ProviderFailure.isInstance(error)) return provider({ ...error.info, action: "stop" }, error.attempts, error.stopReason)
  if (APICallError.isInstance(error)) return provider(ProviderError.classify(error))
  const message = error instanceof Error ? error.message : String(error)
  return { code: "unexpected", message: `Unexpected error: ${truncate(message, 300)}` }
}

function provider(info: ProviderError.Info, attempts?: number, stopReason?: string): Described {
  const { message: upstreamMessage, userMessage, ...fields } = info
  let message = userMessage
  if (stopReason === "attempts_exhausted" && attempts) message += ` ${ProviderErrorMessage.gaveUp(attempts)}`
  if (stopReason === "text_streamed" && info.retryable) message += ` ${ProviderErrorMessage.notRetriedAfterText()}`
  // A rate limit's own message already names its reset time.
  if (stopReason === "wait_too_long") message += ` ${ProviderErrorMessage.tooLongToWait(info.kind === "rate_limit" ? null : info.resetAt, Date.now())}`
  return {
    code: "provider_error",
    message,
    ...fields,
    upstreamMessage,
    ...(attempts !== undefined ? { attempts } : {}),
    ...(stopReason ? { stopReason } : {}),
  }
}

function truncate(text: string, max: number) {
  return text.length > max ? text.slice(0, max) + "…" : text
}
