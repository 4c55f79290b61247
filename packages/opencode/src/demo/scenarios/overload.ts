import { Provider } from "../../provider"
import type { Scenario } from "../context"
import { turn } from "../turn"

/**
 * The upstream provider overloaded twice (529), then fine: retried with backoff, and the turn
 * completes. The demo shortens the first backoff to 200 ms; `cli run` starts at 2 s.
 */
export const scenario: Scenario = {
  title: "Provider overloaded twice (529): retried with backoff, then answered",
  async run(ctx) {
    ctx.sim.configure({ faults: [{ status: 529, count: 2, provider: "anthropic" }] })
    ctx.sim.reset()
    try {
      const install = await ctx.install("overload")
      const model = await Provider.getModel("opencode", "big-pickle", install.env)
      const { result, delays, notices, elapsedMs, requests } = await turn(ctx, model, { policy: { initialDelayMs: 200 }, env: install.env })
      for (const notice of notices) ctx.print(`stderr: ${notice}`)
      ctx.print(`delays the policy asked for: ${delays.map((d) => `${d} ms`).join(", ")} (first backoff shortened to 200 ms for the demo)`)
      ctx.print(
        result.ok
          ? `answered after ${result.attempts} attempts, ${requests} requests, ${elapsedMs} ms: ${result.text}`
          : `failed: ${result.failure.userMessage}`,
      )
    } finally {
      ctx.sim.configure({ faults: [] })
      ctx.sim.reset()
    }
  },
}
