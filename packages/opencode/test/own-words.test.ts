import { afterAll, beforeAll, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { runCli, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"

// Every configured header value counts as a secret (it may be a credential), and removal takes any
// 8 characters of one. A value that names the product ("pawwork-opencode-desktop") then shares
// "opencode" with the runtime's own words: the advice "auth set opencode" and the provider id in
// diagnose came out as "[redacted]". Text from outside is still cleaned; the runtime's words stay.

let sim: Simulator
let install: TestInstall
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false } })
  const options = { baseURL: sim.zenBaseURL, headers: { "X-Client": "pawwork-opencode-desktop" } }
  install = await simInstall(sim, { config: { provider: { opencode: { options } } } })
  await fs.mkdir(install.dataDir, { recursive: true })
  await fs.writeFile(path.join(install.dataDir, "auth.json"), JSON.stringify({ opencode: { type: "api", key: "not-a-key-the-sim-knows" } }))
})
afterAll(async () => {
  await install.cleanup()
  await sim.stop()
})

test("a rejected key's advice names the provider, and diagnose shows it", async () => {
  const out = await runCli(["run", "hi"], install.env)
  expect(out.code).toBe(1)
  expect(out.stderr).toContain("auth set opencode")
  const diagnose = await runCli(["diagnose"], install.env)
  expect(diagnose.stdout).toContain("opencode/big-pickle")
  expect(diagnose.stdout).toContain("auth set opencode")
  expect(diagnose.stdout).not.toContain("[redacted]")
})
