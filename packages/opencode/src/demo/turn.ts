import { Provider, ProviderErrorMessage } from "../provider"
import { SessionDeadline, SessionDiagnostics, SessionProcessor, SessionRetry } from "../session"
import * as Identifier from "../id/id"
import type { DemoContext } from "./context"

/**
 * One prompt through the real runtime with the retry policy, as `cli run` does it: the retry
 * notices it would print, the delays the policy asked for, the wall time, and the requests the
 * simulator received for this turn. With the install's `env`, the turn also writes its diagnostics
 * records into that install's data dir, as `cli run` does (the diagnose scenario reads them).
 */
export async function turn(
  ctx: DemoContext,
  model: Provider.Resolved,
  options: {
    policy?: Partial<SessionRetry.Options>
    env?: Record<string, string | undefined>
    sessionID?: string
    timeouts?: Partial<SessionDeadline.Timeouts>
  } = {},
) {
  const before = ctx.sim.requests().length
  const delays: number[] = []
  const notices: string[] = []
  const started = performance.now()
  // A scenario may send a session id of another shape, as another client would.
  const sessionID = options.sessionID ?? Identifier.create("session")
  const requestID = Identifier.ascending("message")
  const now = () => ctx.sim.clock.now().getTime()
  const diagnostics = options.env ? SessionDiagnostics.hooks({ model, sessionID, requestID, env: options.env, now }) : {}
  const result = await SessionProcessor.process({
    model,
    sessionID,
    requestID,
    messages: [{ role: "user", content: "Say hello to PawWork." }],
    decide: SessionRetry.policy(options.policy),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    now,
    onSuccess: diagnostics.onSuccess,
    onFailure: (failure, decision) => {
      diagnostics.onFailure?.(failure, decision)
      if (decision.action !== "retry") return
      delays.push(decision.delayMs)
      notices.push(ProviderErrorMessage.retrying(failure.info, decision.delayMs, failure.attempt + 1, SessionRetry.maxAttempts(failure.info.kind, options.policy ?? {})))
    },
  })
  await SessionDiagnostics.flush()
  const elapsedMs = Math.round(performance.now() - started)
  return { result, delays, notices, elapsedMs, requests: ctx.sim.requests().length - before }
}
