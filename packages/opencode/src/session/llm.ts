import { streamText, type ModelMessage } from "ai"
import { Provider } from "../provider"
import * as SessionHeaders from "./headers"
import * as SessionDeadline from "./deadline"

export interface StreamInput {
  model: Provider.Resolved
  sessionID: string
  requestID: string
  projectID?: string
  client?: string
  parentSessionID?: string
  system?: string
  messages: ModelMessage[]
  abortSignal?: AbortSignal
  /** Replaces the global fetch for this call (tests, benchmarks). */
  fetch?: typeof fetch
}

/**
 * Streams one completion. The SDK's own retries are off (`maxRetries: 0`): whether and when to
 * try again is decided by session/retry.ts on the normalized failure, never by the SDK's defaults.
 * With a `watch` (session/deadline.ts) the request is aborted when one of its deadlines passes.
 */
export function stream(input: StreamInput, watch?: SessionDeadline.Watch) {
  const headers = SessionHeaders.build({
    providerID: input.model.provider.id,
    projectID: input.projectID ?? "global",
    sessionID: input.sessionID,
    requestID: input.requestID,
    client: input.client ?? "cli",
    ...(input.parentSessionID ? { parentSessionID: input.parentSessionID } : {}),
    ...(input.model.install?.token ? { install: input.model.install.token } : {}),
  })
  const model = Provider.languageModel(input.model, input.fetch)
  return streamText({
    // The watch's signal reaches the request through the model (SessionDeadline.watched), not here.
    model: watch && typeof model !== "string" ? SessionDeadline.watched(model, watch) : model,
    ...(input.system ? { system: input.system } : {}),
    messages: input.messages,
    headers,
    maxRetries: 0,
    // The SDK's default logs every failure with its request body (the prompt) to stderr; the
    // failure reaches the processor as the stream's error part and is reported from there.
    onError: () => {},
    ...(input.abortSignal ? { abortSignal: input.abortSignal } : {}),
  })
}
