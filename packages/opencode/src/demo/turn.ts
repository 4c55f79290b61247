import { Provider, ProviderErrorMessage } from "../provider"
import { SessionProcessor, SessionRetry } from "../session"
import * as Identifier from "../id/id"
import type { DemoContext } from "./context"

/**
 * One prompt through the real runtime with the retry policy, as `cli run` does it: the retry
 * notices it would print, the delays the policy asked for, the wall time, and the requests the
 * simulator received for this turn.
 */
export async function turn(ctx: DemoContext, model: Provider.Resolved, options: { policy?: Partial<SessionRetry.Options> } = {}) {
  const before = ctx.sim.requests().length
  const delays: number[] = []
  const notices: string[] = []
  const started = performance.now()
  const result = await SessionProcessor.process({
    model,
    sessionID: Identifier.ascending("session"),
    requestID: Identifier.ascending("message"),
    messages: [{ role: "user", content: "Say hello to PawWork." }],
    decide: SessionRetry.policy(options.policy),
    now: () => ctx.sim.clock.now().getTime(),
    onFailure: (failure, decision) => {
      if (decision.action !== "retry") return
      delays.push(decision.delayMs)
      notices.push(ProviderErrorMessage.retrying(failure.info, decision.delayMs, failure.attempt + 1, options.policy?.maxAttempts ?? SessionRetry.MAX_ATTEMPTS))
    },
  })
  const elapsedMs = Math.round(performance.now() - started)
  return { result, delays, notices, elapsedMs, requests: ctx.sim.requests().length - before }
}
