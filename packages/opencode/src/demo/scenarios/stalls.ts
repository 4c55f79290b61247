import { Provider } from "../../provider"
import type { Scenario } from "../context"
import { turn } from "../turn"

/**
 * A gateway that never answers, and one that answers and then only sends SSE keep-alive comments:
 * before the deadlines the first held a turn about 24 minutes and the second forever. The demo
 * shortens the deadlines to about a second (opencode.json `pawwork.timeouts`; defaults 90 s and
 * 2 min) and the first backoff to 200 ms.
 */
export const scenario: Scenario = {
  title: "Stalled gateway: no answer, then keep-alives only; each turn ends at its deadline",
  async run(ctx) {
    const timeouts = { firstByteMs: 1_000, streamIdleMs: 1_500 }
    const cases = [
      { label: "no answer at all", fault: { status: 200, stall: "no-answer" as const, count: -1 } },
      { label: "headers, then `: keep-alive` every 200 ms", fault: { status: 200, stall: "keep-alive" as const, intervalMs: 200, count: -1 } },
    ]
    try {
      const install = await ctx.install("stalls")
      const model = await Provider.getModel("opencode", "big-pickle", install.env)
      for (const { label, fault } of cases) {
        ctx.sim.configure({ faults: [fault] })
        ctx.sim.reset()
        const { result, notices, elapsedMs, requests } = await turn(ctx, model, { policy: { initialDelayMs: 200 }, timeouts, env: install.env })
        ctx.print(`${label}:`)
        for (const notice of notices) ctx.print(`  stderr: ${notice}`)
        ctx.print(
          result.ok
            ? `  answered (unexpected): ${result.text}`
            : `  ${result.failure.kind} after ${result.attempts} attempt(s), ${requests} request(s), ${elapsedMs} ms, stopReason ${result.stopReason}: ${result.failure.userMessage}`,
        )
      }
    } finally {
      ctx.sim.configure({ faults: [] })
      ctx.sim.reset()
    }
  },
}
