import fs from "node:fs/promises"
import { startSimulator } from "@pawwork/zen-sim"
import { makeContext, tempRoot, type Scenario } from "./context"
import { scenario as stream } from "./scenarios/stream"
import { scenario as installs } from "./scenarios/installs"
import { scenario as freeLimit } from "./scenarios/free-limit"
import { scenario as freeTierGate } from "./scenarios/free-tier-gate"
import { scenario as goLimit } from "./scenarios/go-limit"
import { scenario as overload } from "./scenarios/overload"
import { scenario as stalls } from "./scenarios/stalls"
import { scenario as diagnose } from "./scenarios/diagnose"
import { scenario as quota } from "./scenarios/quota"

/**
 * `bun run demo`: every scenario against an embedded simulator on a free loopback port, with
 * throwaway installs. Nothing of the user's (auth.json, config, logs) is read or written.
 * A new scenario is one file in ./scenarios and one line here.
 */
const scenarios: Scenario[] = [stream, installs, freeLimit, freeTierGate, goLimit, overload, diagnose, stalls, quota]

const root = await tempRoot()
const sim = await startSimulator({ config: { newClientBonus: false } })
try {
  const ctx = await makeContext(sim, root)
  console.log(`PawWork OpenCode runtime demo · simulator at ${sim.url} · throwaway data under ${root}`)
  for (const scenario of scenarios) {
    ctx.heading(scenario.title)
    await scenario.run(ctx)
  }
} finally {
  await sim.stop()
  await fs.rm(root, { recursive: true, force: true })
}
