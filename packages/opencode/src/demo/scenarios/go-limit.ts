import { Provider } from "../../provider"
import type { Scenario } from "../context"
import { turn } from "../turn"

/** An OpenCode Go 5-hour window used up: the turn ends at once, naming the window and its reset. */
export const scenario: Scenario = {
  title: "OpenCode Go 5-hour limit: the window and its reset, no silent wait",
  async run(ctx) {
    // A throwaway key known only to this simulator run; never printed.
    const key = `demo-go-${crypto.randomUUID()}`
    ctx.sim.configure({
      workspaces: [{ id: "wrk_demo", balanceUSD: 5, members: [{ userID: "usr_demo", keys: [key], go: { limits: { "5 hour": 0.1 } } }] }],
    })
    ctx.sim.reset()
    try {
      const install = await ctx.install("go-limit", { env: { OPENCODE_API_KEY: key } })
      const model = await Provider.getModel("opencode-go", "glm-5", install.env)
      ctx.print(`model: opencode-go/glm-5 · key: ${model.provider.credential.source} ${model.provider.credential.fingerprint} · 5-hour window: $0.10, $0.05 a request`)
      for (let i = 1; i <= 3; i++) {
        const { result, elapsedMs, requests } = await turn(ctx, model, { env: install.env })
        if (result.ok) {
          ctx.print(`prompt ${i}: answered`)
          continue
        }
        const f = result.failure
        ctx.print(`prompt ${i}: ended after ${elapsedMs} ms, ${requests} request`)
        ctx.print(`  kind ${f.kind} · HTTP ${f.statusCode} ${f.upstreamType} · window "${f.limitName}" (${f.quotaScope}) · workspace ${f.workspaceID}`)
        ctx.print(`  retry-after ${f.retryAfterRaw} s · resetAt ${f.resetAt}`)
        ctx.print(`  user sees: ${f.userMessage}`)
      }
    } finally {
      ctx.sim.configure({ workspaces: [] })
      ctx.sim.reset()
    }
  },
}
