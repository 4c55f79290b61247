import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import fs from "node:fs/promises"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { Provider } from "../src/provider"
import { SessionDiagnostics, SessionProcessor, SessionRetry } from "../src/session"
import * as Identifier from "../src/id/id"
import { plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"

// End to end against the gateway as it is since 2026-09-17 (gateway-drift-2026.md, section 1):
// the simulator's free-tier client gate in its default mode serves anonymous free requests only
// with a canonical x-opencode-session. The runtime must be served with its own ids, and a refused
// request must stop after exactly one request, named for what it is: not a key problem.
setDefaultTimeout(30_000)

const KEY = plantedSecret("sk-gate")
let sim: Simulator
let anonymous: TestInstall
let keyed: TestInstall
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false, workspaces: [{ id: "wrk_gate", balanceUSD: 20, members: [{ userID: "usr_gate", keys: [KEY] }] }] } })
  anonymous = await simInstall(sim)
  keyed = await simInstall(sim, { env: { OPENCODE_API_KEY: KEY } })
})
afterAll(async () => {
  await sim.stop()
  await anonymous.cleanup()
  await keyed.cleanup()
})

const chats = () => sim.requests().filter((r) => r.path.endsWith("/chat/completions"))

// Ids the gateway refuses: reported by the projects that hit the gate, and this runtime's own
// shape before it minted OpenCode's (ses_ + 15 hex + 14 characters).
const NON_CANONICAL = {
  "ses_ + 24 hex": `ses_${"0123456789abcdef01234567"}`,
  UUID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
  "the runtime's old shape": "ses_19a4b2c3d4e5f60AbCdEfGhIjKlMn",
  "upper-case hex": "ses_DD463AAD1FFFNTy1XAcBW53Zz6",
}

async function turn(install: TestInstall, sessionID: string) {
  const model = await Provider.getModel("opencode", "big-pickle", install.env)
  const decisions: SessionProcessor.Decision[] = []
  const slept: number[] = []
  const result = await SessionProcessor.process({
    model,
    sessionID,
    requestID: Identifier.ascending("message"),
    messages: [{ role: "user", content: "Say hello." }],
    decide: SessionRetry.policy(),
    onFailure: (_, decision) => decisions.push(decision),
    sleep: async (ms) => void slept.push(ms),
  })
  return { model, result, decisions, slept }
}

describe("through the runtime (ai SDK, retry policy) with the gate on, default mode", () => {
  test("an anonymous free request with the runtime's own session id is served", async () => {
    sim.reset()
    const sessionID = Identifier.create("session")
    const { model, result } = await turn(anonymous, sessionID)
    expect(model.provider.credential.source).toBe("public")
    expect(result.ok).toBe(true)
    expect(chats()).toHaveLength(1)
    expect(chats()[0]!.headers["x-opencode-session"]).toBe(sessionID)
    expect(chats()[0]!.status).toBe(200)
  })

  for (const [name, sessionID] of Object.entries(NON_CANONICAL))
    test(`a non-canonical session id (${name}) gets 403 free_tier_gated from the gateway after exactly one request, and stops`, async () => {
      sim.reset()
      expect(sessionID).not.toMatch(Identifier.pattern("session"))
      const { result, decisions, slept } = await turn(anonymous, sessionID)
      expect(result.ok).toBe(false)
      if (result.ok) return
      expect(result.failure).toMatchObject({ kind: "free_tier_gated", origin: "gateway", statusCode: 403, upstreamType: "FreeTierError", retryable: false })
      expect(decisions).toEqual([expect.objectContaining({ action: "stop" })])
      expect(result.attempts).toBe(1)
      expect(slept).toEqual([])
      expect(chats()).toHaveLength(1)
      expect(chats()[0]!.status).toBe(403)
      // The September 2026 mistake was telling users to fix a key they may not have.
      expect(result.failure.userMessage).toContain("not a key problem")
      expect(result.failure.userMessage).toContain("auth set opencode")
      expect(result.failure.userMessage).not.toMatch(/invalid|check (your|the) (api )?key/i)
    })

  test("the gate is for anonymous requests: the same non-canonical id with a key is served and billed", async () => {
    sim.reset()
    const { model, result } = await turn(keyed, NON_CANONICAL.UUID)
    expect(model.provider.credential.source).toBe("env")
    expect(result.ok).toBe(true)
    expect(chats()).toHaveLength(1)
  })
})

describe("through the CLI (bun run cli run) against the simulator", () => {
  test("`run` with the runtime's own ids is served", async () => {
    sim.reset()
    const out = await runCli(["run", "--json", "Say hello."], anonymous.env)
    expect(out.stderr).toBe("")
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toMatchObject({ authSource: "public", attempts: 1 })
    expect(JSON.parse(out.stdout).sessionID).toMatch(Identifier.pattern("session"))
  })

  test("`run --session <bad id>`: exit 1 after one request, free_tier_gated from the gateway, and a paragraph that says it is not a key problem", async () => {
    sim.reset()
    const logBefore = await readLog(anonymous)
    const json = await runCli(["run", "--session", NON_CANONICAL["ses_ + 24 hex"], "--json", "Say hello."], anonymous.env)
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout).error).toMatchObject({
      code: "provider_error",
      kind: "free_tier_gated",
      origin: "gateway",
      action: "stop",
      statusCode: 403,
      attempts: 1,
      stopReason: "not_retryable",
    })
    expect(json.stderr).toContain("not a key problem")
    expect(chats()).toHaveLength(1)

    const text = await runCli(["run", "--session", NON_CANONICAL.UUID, "Say hello."], anonymous.env)
    expect(text.code).toBe(1)
    expect(text.stdout).toBe("")
    expect(text.stderr).toContain("OpenCode now serves its free models only to its own app")
    expect(text.stderr).not.toContain("Retrying")
    expect(chats()).toHaveLength(2)

    // The diagnostics log records both refusals for support, with what the runtime did.
    const records = (await readLog(anonymous)).slice(logBefore.length).filter((r) => r.event === "provider.failure")
    expect(records.map((r) => [r.kind, r.action, r.statusCode])).toEqual([
      ["free_tier_gated", "stop", 403],
      ["free_tier_gated", "stop", 403],
    ])
  })
})

async function readLog(install: TestInstall): Promise<Record<string, unknown>[]> {
  await SessionDiagnostics.flush()
  const file = SessionDiagnostics.logFile(install.env)
  const text = await fs.readFile(file, "utf8").catch(() => "")
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}
