import { Provider } from "../../provider"
import { SessionProcessor } from "../../session"
import * as Identifier from "../../id/id"
import type { Scenario } from "../context"

/** The base path: one real streamed prompt through the runtime, and what the gateway received. */
export const scenario: Scenario = {
  title: "A streamed prompt through the runtime, and the headers the gateway received",
  async run(ctx) {
    const install = await ctx.install("stream")
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    ctx.print(`model: opencode/big-pickle (free) · key: ${model.provider.credential.source}`)
    ctx.sim.reset()
    let answer = ""
    const result = await SessionProcessor.process({
      model,
      sessionID: Identifier.create("session"),
      requestID: Identifier.ascending("message"),
      messages: [{ role: "user", content: "Say hello to PawWork." }],
      onText: (delta) => (answer += delta),
    })
    if (!result.ok) throw result.error
    ctx.print(`answer: ${answer}`)
    const request = ctx.sim.requests().find((r) => r.path.endsWith("/chat/completions"))
    ctx.print("headers the gateway received:")
    for (const [name, value] of Object.entries(request?.headers ?? {}).sort()) ctx.print(`  ${name}: ${value}`)
  },
}
