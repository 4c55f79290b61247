import { randomBytes } from "node:crypto"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import * as Auth from "../../auth"
import { Provider } from "../../provider"
import { SessionProcessor } from "../../session"
import * as Identifier from "../../id/id"
import type { DemoContext, DemoInstall, Scenario } from "../context"

const FREE_PER_DAY = 3

/**
 * Two installs behind one address (here: loopback), as in an office or behind carrier NAT. The
 * real gateway counts free usage per IP, so they share one pool; a gateway that counts per
 * x-pawwork-install (the simulator's install mode) gives each its own. Also shows each request's
 * auth source next to the key fingerprint the gateway received.
 */
export const scenario: Scenario = {
  title: "Two installs on one network: install identity, auth source, separate free allowances",
  async run(ctx) {
    const key = `sk-demo-${randomBytes(12).toString("hex")}`
    const config = {
      freeDailyLimit: FREE_PER_DAY,
      newClientBonus: false,
      workspaces: [{ id: "wrk_demo_installs", balanceUSD: 10, members: [{ userID: "usr_demo", keys: [key] }] }],
    }
    const perInstall = await startSimulator({ quotaKey: "install", config })
    const perIP = await startSimulator({ quotaKey: "ip", config })
    try {
      for (const [label, mode, sim] of [
        ["a gateway counting free usage per install (simulator in install mode)", "per-install", perInstall],
        ["the gateway as it is today: free usage counted per IP", "per-ip", perIP],
      ] as const) {
        ctx.print(`\n--- ${label}; ${FREE_PER_DAY} free requests a day each`)
        const a = await installOn(ctx, sim, `office-a-${mode}`)
        const b = await installOn(ctx, sim, `office-b-${mode}`)
        for (const install of [a, b]) {
          const model = await Provider.getModel("opencode", "big-pickle", install.env)
          ctx.print(`${install.name}: install ${model.install.fingerprint} · key ${model.provider.credential.source}`)
        }
        await turns(ctx, sim, a, FREE_PER_DAY + 1)
        await turns(ctx, sim, b, 2)
      }

      ctx.print("\n--- each request's auth source (tag) next to the key the gateway received")
      ctx.print("(fingerprints: the runtime prints fp_<12 hex>, the simulator fp:<8 hex>, of the same sha256)")
      const saved = await installOn(ctx, perInstall, "keyed-saved", { OPENCODE_API_KEY: key })
      await Auth.set("opencode", { type: "api", key }, saved.env)
      const sources = [
        await installOn(ctx, perInstall, "keyed-env", { OPENCODE_API_KEY: key }),
        saved,
        await installOn(ctx, perInstall, "keyed-config", {}, { apiKey: key }),
      ]
      for (const install of sources) await turns(ctx, perInstall, install, 1)
    } finally {
      await perInstall.stop()
      await perIP.stop()
    }
  },
}

async function installOn(ctx: DemoContext, sim: Simulator, name: string, env: Record<string, string> = {}, options: Record<string, string> = {}) {
  return ctx.install(name, {
    env,
    config: { provider: { opencode: { options: { baseURL: sim.zenBaseURL, ...options } }, "opencode-go": { options: { baseURL: sim.goBaseURL } } } },
  })
}

async function turns(ctx: DemoContext, sim: Simulator, install: DemoInstall, count: number) {
  const model = await Provider.getModel("opencode", "big-pickle", install.env)
  for (let i = 1; i <= count; i++) {
    const sessionID = Identifier.create("session")
    const result = await SessionProcessor.process({
      model,
      sessionID,
      requestID: Identifier.ascending("message"),
      messages: [{ role: "user", content: `Request ${i} from ${install.name}` }],
    })
    // The simulator stores credentials and the install token as fingerprints only.
    const seen = sim.requests().find((r) => r.headers["x-opencode-session"] === sessionID)
    const outcome = result.ok ? "ok" : `refused ${seen?.status ?? "?"}${seen?.status === 429 ? " (free allowance used up)" : ""}`
    ctx.print(
      `  ${install.name} #${i}: ${outcome.padEnd(36)} gateway saw ip ${seen?.clientIP} · install ${seen?.headers["x-pawwork-install"]} · ${seen?.headers.authorization} · tag ${model.provider.credential.source}${model.provider.credential.envVar ? ` (${model.provider.credential.envVar})` : ""}${model.provider.credential.fingerprint ? ` ${model.provider.credential.fingerprint}` : ""}`,
    )
  }
}
