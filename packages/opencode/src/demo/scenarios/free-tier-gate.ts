import { randomBytes } from "node:crypto"
import * as Auth from "../../auth"
import * as Identifier from "../../id/id"
import { Installation } from "../../installation"
import { Provider } from "../../provider"
import type { Scenario } from "../context"
import { turn } from "../turn"

/**
 * The gateway since 2026-09-17: anonymous free-tier requests are served only to what looks like
 * OpenCode's own client, a canonical `x-opencode-session` (gateway-drift-2026.md, section 1).
 * The runtime's own ids pass; a request with another id shape (a UUID, as PawWork's app sent
 * before its fix) is refused with 403 FreeTierError, which the runtime names for what it is,
 * stops on after one request, and never calls a key problem. A saved key is not gated.
 */
export const scenario: Scenario = {
  title: "Free-tier gate: a refused anonymous request, and what the user sees",
  async run(ctx) {
    const key = `sk-demo-${randomBytes(12).toString("hex")}`
    ctx.sim.configure({ freeTierGate: "session", workspaces: [{ id: "wrk_demo_gate", balanceUSD: 10, members: [{ userID: "usr_demo_gate", keys: [key] }] }] })
    ctx.sim.reset()
    try {
      const install = await ctx.install("free-tier-gate")
      const model = await Provider.getModel("opencode", "big-pickle", install.env)
      ctx.print(`gate: session (the gateway's default since 2026-09-17) · key: ${model.provider.credential.source} · User-Agent ${Installation.userAgent("cli")}`)

      const own = Identifier.create("session")
      const served = await turn(ctx, model, { env: install.env, sessionID: own })
      ctx.print(`\nthe runtime's own session id ${own} (OpenCode's shape): ${served.result.ok ? "answered" : `refused (${served.result.failure.kind})`}, ${served.requests} request`)

      const foreign = crypto.randomUUID()
      const gated = await turn(ctx, model, { env: install.env, sessionID: foreign })
      ctx.print(`\na session id of another shape (${foreign}, a UUID):`)
      if (gated.result.ok) ctx.print("  answered: the gate is off")
      else {
        const f = gated.result.failure
        ctx.print(`  ended after ${gated.requests} request, ${gated.result.attempts} attempt, no retry, no wait`)
        ctx.print(`  kind ${f.kind} · origin ${f.origin} · HTTP ${f.statusCode} ${f.upstreamType} · action ${f.action}`)
        ctx.print(`  gateway said: ${f.message}`)
        ctx.print(`  user sees: ${f.userMessage}`)
      }

      await Auth.set("opencode", { type: "api", key }, install.env)
      const keyed = await Provider.getModel("opencode", "big-pickle", install.env)
      const withKey = await turn(ctx, keyed, { env: install.env, sessionID: foreign })
      ctx.print(`\nthe same id with a saved key (${keyed.provider.credential.fingerprint}): ${withKey.result.ok ? "answered" : `refused (${withKey.result.failure.kind})`}: the gate is for the anonymous free tier only`)
    } finally {
      ctx.sim.configure({ freeTierGate: "session", workspaces: [] })
      ctx.sim.reset()
    }
  },
}
