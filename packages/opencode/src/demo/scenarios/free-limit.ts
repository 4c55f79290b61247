import { Provider, ProviderErrorMessage } from "../../provider"
import type { Scenario } from "../context"
import { turn } from "../turn"

/**
 * The reported incident: the free daily limit reached at 10:02:57 UTC. OpenCode's runtime slept
 * 50,223 s (until UTC midnight); PawWork ends the turn at once and says when the allowance resets.
 */
export const scenario: Scenario = {
  title: "Free daily limit reached: answered at once with the reset time, not a 14-hour wait",
  async run(ctx) {
    ctx.sim.clock.set("2026-11-21T10:02:57Z")
    ctx.sim.configure({ freeDailyLimit: 2 })
    ctx.sim.reset()
    try {
      const install = await ctx.install("free-limit")
      const model = await Provider.getModel("opencode", "big-pickle", install.env)
      ctx.print(`simulator clock: ${ctx.sim.clock.now().toISOString()} · free allowance: 2 requests per network per day · key: ${model.provider.credential.source}`)
      for (let i = 1; i <= 3; i++) {
        const { result, elapsedMs, requests } = await turn(ctx, model, { env: install.env })
        if (result.ok) {
          ctx.print(`prompt ${i}: answered (${requests} request)`)
          continue
        }
        const f = result.failure
        ctx.print(`prompt ${i}: ended after ${elapsedMs} ms of wall time, ${requests} request, ${result.attempts} attempt`)
        ctx.print(`  kind ${f.kind} · HTTP ${f.statusCode} ${f.upstreamType} · action ${f.action} · quota ${f.quotaScope}`)
        ctx.print(`  retry-after ${f.retryAfterRaw} s (${ProviderErrorMessage.relative(f.retryAfterMs ?? 0).replace(/^in /, "")}) · resetAt ${f.resetAt}`)
        ctx.print(`  OpenCode's runtime would have slept those ${f.retryAfterRaw} s, silently.`)
        ctx.print(`  user sees: ${f.userMessage}`)
      }
    } finally {
      ctx.sim.configure({ freeDailyLimit: 200 })
      ctx.sim.clock.set(new Date())
      ctx.sim.reset()
    }
  },
}
