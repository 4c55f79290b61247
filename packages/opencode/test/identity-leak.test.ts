import { afterAll, beforeAll, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import * as Identity from "../src/auth/identity"
import { Provider } from "../src/provider"
import { SessionProcessor } from "../src/session"
import * as SessionDryRun from "../src/session/dry-run"
import * as Identifier from "../src/id/id"
import { plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { simInstall, tokenOf } from "./fixture/sim-install"

/**
 * No file, log line or output of the runtime holds a raw key or install token, except the stores
 * made for them: auth.json for the saved key, opencode.json (written by the user) for the config
 * key, and install.json for the current token.
 */

const saved = plantedSecret("sk-saved")
const envKey = plantedSecret("sk-env")
const configKey = plantedSecret("sk-config")
const unknownKey = plantedSecret("sk-unknown")

let sim: Simulator
let install: TestInstall
beforeAll(async () => {
  sim = await startSimulator({
    config: { newClientBonus: false, workspaces: [{ id: "wrk_leak", balanceUSD: 50, members: [{ userID: "usr_leak", keys: [saved, envKey, configKey], go: {} }] }] },
  })
})
afterAll(async () => {
  await sim.stop()
  await install?.cleanup()
})

test("planted keys and tokens appear nowhere but their own stores", async () => {
  install = await simInstall(sim, {
    config: { provider: { mycustom: { npm: "@ai-sdk/openai-compatible", options: { baseURL: sim.zenBaseURL, apiKey: configKey }, models: { "big-pickle": {} } } } },
  })
  const withEnv = { ...install.env, OPENCODE_API_KEY: envKey }
  const outputs: string[] = []
  const cli = async (args: string[], env: TestInstall["env"] = withEnv, stdin?: string) => {
    const out = await runCli(args, env, stdin)
    outputs.push(out.stdout, out.stderr)
    return out
  }

  expect((await cli(["auth", "set", "opencode"], install.env, saved)).code).toBe(0)
  await cli(["auth", "list"])
  await cli(["auth", "list", "--json"])
  await cli(["models"])
  await cli(["identity"])
  await cli(["identity", "--json"])
  const tokens = [await tokenOf(install)]
  for (const model of ["opencode/big-pickle", "opencode-go/glm-5", "mycustom/big-pickle"]) {
    expect((await cli(["request", "--dry-run", "--json", "--model", model])).code).toBe(0)
    expect((await cli(["request", "--dry-run", "--model", model])).code).toBe(0)
    expect((await cli(["run", "--json", "--model", model, "hi"])).code).toBe(0)
    await cli(["run", "--model", model, "--debug", "hi"])
  }
  // A key the gateway refuses: the error path prints too.
  const refused = await cli(["run", "--json", "--debug", "--model", "opencode-go/glm-5", "hi"], { ...install.env, OPENCODE_API_KEY: unknownKey })
  expect(refused.code).toBe(1)
  expect((await cli(["identity", "--rotate"])).code).toBe(0)
  tokens.push(await tokenOf(install))
  expect((await cli(["identity", "--rotate", "--json"])).code).toBe(0)
  tokens.push(await tokenOf(install))
  await cli(["request", "--dry-run", "--json"])

  // In-process paths: resolved models, identities, dry-run reports, and a real turn.
  Identity.resetCache()
  const resolved = await Provider.getModel("opencode", "big-pickle", withEnv)
  outputs.push(JSON.stringify(resolved), JSON.stringify(await Identity.load(withEnv)), JSON.stringify(resolved.install))
  const input = { model: resolved, sessionID: Identifier.create("session"), requestID: Identifier.ascending("message"), messages: [{ role: "user" as const, content: "hi" }] }
  const captured = await SessionDryRun.capture(input)
  expect(captured.headers["x-pawwork-install"]).toBe(tokens.at(-1)!) // the capture itself holds it...
  outputs.push(JSON.stringify(SessionDryRun.report(resolved, captured))) // ...the report does not
  const turn = await SessionProcessor.process(input)
  expect(turn.ok).toBe(true)
  outputs.push(JSON.stringify(turn))

  expect(new Set(tokens).size).toBe(3)
  const secrets = { saved, envKey, configKey, unknownKey, ...Object.fromEntries(tokens.map((t, i) => [`token${i}`, t])) }
  const allowed: Record<string, string[]> = {
    saved: ["data/opencode/auth.json"],
    configKey: ["config/opencode/opencode.json"],
    [`token${tokens.length - 1}`]: ["data/opencode/install.json"],
  }

  const found: string[] = []
  for (const [index, text] of outputs.entries())
    for (const [name, secret] of Object.entries(secrets)) if (text.includes(secret)) found.push(`${name} in output #${index}`)
  const files = await fs.readdir(install.root, { recursive: true, withFileTypes: true })
  const scanned: string[] = []
  for (const entry of files) {
    if (!entry.isFile()) continue
    const full = path.join(entry.parentPath, entry.name)
    const relative = path.relative(install.root, full)
    scanned.push(relative)
    const text = await fs.readFile(full, "utf8")
    for (const [name, secret] of Object.entries(secrets))
      if (text.includes(secret) && !allowed[name]?.includes(relative)) found.push(`${name} in ${relative}`)
  }
  expect(found).toEqual([])
  // The scan saw what it was meant to see.
  expect(scanned).toEqual(expect.arrayContaining(["data/opencode/auth.json", "data/opencode/install.json", "data/opencode/log/identity.log"]))
  expect(outputs.join("")).toContain("fp_")
}, 60_000) // some thirty CLI processes, one after another
