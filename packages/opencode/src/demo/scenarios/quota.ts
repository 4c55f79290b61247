import * as Identifier from "../../id/id"
import { Provider } from "../../provider"
import { QuotaRecorder, QuotaTurn } from "../../quota"
import * as QuotaStatus from "../../quota/status"
import * as StatusRender from "../../quota/status-render"
import { SessionProcessor, SessionRetry } from "../../session"
import type { Scenario } from "../context"

/**
 * Know before you hit it: a Go session crosses 50, 80 and 95 % of its 5-hour window (one warning
 * each), is refused, and after the reset gets one "restored" notice; then `status` as it reads.
 */
export const scenario: Scenario = {
  title: "Quota ledger, Go threshold warnings and `status`",
  async run(ctx) {
    const key = `demo-quota-${crypto.randomUUID()}`
    ctx.sim.configure({
      goRequestCostUSD: 0.125,
      workspaces: [{ id: "wrk_quota", balanceUSD: 0, members: [{ userID: "usr_quota", keys: [key], go: { limits: { "5 hour": 1 } } }] }],
    })
    ctx.sim.reset()
    try {
      const install = await ctx.install("quota", { env: { OPENCODE_API_KEY: key }, config: { pawwork: { quota: { cacheMaxAgeSec: 0 } } } })
      const model = await Provider.getModel("opencode-go", "glm-5", install.env)
      const now = () => ctx.sim.clock.now().getTime()
      ctx.print("model: opencode-go/glm-5 · 5-hour window: $1.00, $0.125 a request · meters read before every turn (cacheMaxAgeSec 0)")
      const turn = async (label: string) => {
        const quota = QuotaTurn.forTurn({ model, env: install.env, now, settings: { cacheMaxAgeSec: 0 }, onWarning: (text) => ctx.print(`  warning: ${text}`) })
        const result = await SessionProcessor.process({
          model,
          sessionID: Identifier.create("session"),
          requestID: Identifier.ascending("message"),
          messages: [{ role: "user", content: "Say hello to PawWork." }],
          decide: SessionRetry.policy(),
          now,
          onTurnStart: quota.onTurnStart,
          onSuccess: quota.onSuccess,
          onFailure: quota.onFailure,
        })
        await quota.settled()
        ctx.print(`${label}: ${result.ok ? "answered" : `refused (${result.failure.kind}, ${result.failure.limitName} window)`}`)
      }
      for (let i = 1; i <= 9; i++) await turn(`prompt ${i}`)
      ctx.sim.clock.advance(5 * 3_600_000)
      ctx.print("… five hours later")
      await turn("prompt 10")
      await QuotaRecorder.flushAll()
      ctx.print()
      ctx.print("bun run cli status:")
      const report = await QuotaStatus.build({ env: install.env, now })
      for (const line of StatusRender.human(report).trimEnd().split("\n")) ctx.print(`  ${line}`)
    } finally {
      ctx.sim.configure({ workspaces: [], goRequestCostUSD: 0.05 })
      ctx.sim.reset()
    }
  },
}
