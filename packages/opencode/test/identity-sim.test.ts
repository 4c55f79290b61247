import { afterAll, beforeAll, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test"
import { fingerprint as simFingerprint, startSimulator, type CapturedRequest, type Simulator } from "@pawwork/zen-sim"
import * as Auth from "../src/auth"
import * as Identity from "../src/auth/identity"
import { Provider } from "../src/provider"
import { SessionProcessor } from "../src/session"
import * as Identifier from "../src/id/id"
import { fingerprint } from "../src/util/fingerprint"
import { plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { simInstall, tokenOf } from "./fixture/sim-install"

// These tests start CLI processes; on a loaded machine a few of them take longer than the default 5 s.
setDefaultTimeout(60_000)

// Keys the simulator knows: one member with balance and a Go subscription holds them all.
const KEYS = { config: plantedSecret("sk-config"), auth: plantedSecret("sk-saved"), env: plantedSecret("sk-env") }
const workspaces = [{ id: "wrk_ids", balanceUSD: 100, members: [{ userID: "usr_ids", keys: Object.values(KEYS), go: {} }] }]

let sim: Simulator
const installs: TestInstall[] = []
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false, workspaces } })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})
beforeEach(() => sim.reset())

async function install(options: Parameters<typeof simInstall>[1] = {}, on = sim) {
  const made = await simInstall(on, options)
  installs.push(made)
  return made
}

/** One turn through the real runtime (model resolution, processor, SDK, HTTP); returns what the simulator captured. */
async function send(model: string, env: TestInstall["env"], on = sim) {
  const { providerID, modelID } = Provider.parseModel(model)
  const resolved = await Provider.getModel(providerID, modelID, env)
  const sessionID = Identifier.create("session")
  const result = await SessionProcessor.process({
    model: resolved,
    sessionID,
    requestID: Identifier.ascending("message"),
    messages: [{ role: "user", content: "hi" }],
  })
  const captured = on.requests().filter((r) => r.headers["x-opencode-session"] === sessionID || r.headers["x-session-affinity"] === sessionID)
  expect(captured).toHaveLength(1)
  return { resolved, result, request: captured[0]! }
}

const bearer = (key: string) => `Bearer ${simFingerprint(key)}`

describe("x-pawwork-install reaches the gateway for opencode providers only", () => {
  test("opencode (anonymous), through the CLI in its own process", async () => {
    const inst = await install()
    const sessionID = Identifier.create("session")
    const out = await runCli(["run", "--session", sessionID, "hi"], inst.env)
    expect(out.code).toBe(0)
    const request = sim.requests().find((r) => r.headers["x-opencode-session"] === sessionID)
    expect(request?.status).toBe(200)
    // The simulator stores the token as it stores keys: as its fingerprint.
    expect(request?.headers["x-pawwork-install"]).toBe(simFingerprint(await tokenOf(inst)))
    expect(request?.headers.authorization).toBe(bearer("public"))
  })

  test("opencode-go (keyed)", async () => {
    const inst = await install({ env: { OPENCODE_API_KEY: KEYS.env } })
    const { result, request } = await send("opencode-go/glm-5", inst.env)
    expect(result.ok).toBe(true)
    expect(request.path).toBe("/zen/go/v1/chat/completions")
    expect(request.headers["x-pawwork-install"]).toBe(simFingerprint(await tokenOf(inst)))
  })

  test("a custom provider on the same gateway URL never gets it", async () => {
    const inst = await install({
      config: { provider: { mycustom: { npm: "@ai-sdk/openai-compatible", options: { baseURL: sim.zenBaseURL }, models: { "big-pickle": {} } } } },
    })
    await Identity.load(inst.env) // the install has an identity; it must still not be sent
    const { resolved, result, request } = await send("mycustom/big-pickle", inst.env)
    // Not OpenCode's client (no x-opencode-session), so the free tier's gate refuses it; what it sent is the point.
    expect(result.ok).toBe(false)
    expect(request.status).toBe(403)
    expect(resolved.install.sent).toBe(false)
    expect(Object.keys(request.headers)).not.toContain("x-pawwork-install")
    expect(JSON.stringify(request.headers)).not.toContain(simFingerprint(await tokenOf(inst)))
    expect(request.headers["x-session-affinity"]).toBeDefined()
  })

  test("opted out: the gateway gets no install header", async () => {
    const inst = await install({ config: { pawwork: { installIdentity: false } } })
    const { result, request } = await send("opencode/big-pickle", inst.env)
    expect(result.ok).toBe(true)
    expect(Object.keys(request.headers)).not.toContain("x-pawwork-install")
  })
})

describe("the auth-source tag matches the key the gateway received", () => {
  const cases: { name: string; source: Provider.AuthSource; key: string; setup: (inst: TestInstall) => Promise<TestInstall["env"]> }[] = [
    { name: "no key: public", source: "public", key: "public", setup: async (i) => i.env },
    { name: "env key", source: "env", key: KEYS.env, setup: async (i) => ({ ...i.env, OPENCODE_API_KEY: KEYS.env }) },
    {
      name: "saved key over env key",
      source: "auth",
      key: KEYS.auth,
      setup: async (i) => {
        await Auth.set("opencode", { type: "api", key: KEYS.auth }, i.env)
        return { ...i.env, OPENCODE_API_KEY: KEYS.env }
      },
    },
    {
      name: "config key over saved and env keys",
      source: "config",
      key: KEYS.config,
      setup: async (i) => {
        await Auth.set("opencode", { type: "api", key: KEYS.auth }, i.env)
        await i.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL, apiKey: KEYS.config } } } })
        return { ...i.env, OPENCODE_API_KEY: KEYS.env }
      },
    },
  ]
  for (const c of cases)
    test(c.name, async () => {
      const inst = await install()
      const env = await c.setup(inst)
      const { resolved, result, request } = await send("opencode/big-pickle", env)
      expect(result.ok).toBe(true)
      expect(resolved.provider.credential.source).toBe(c.source)
      expect(request.headers.authorization).toBe(bearer(c.key))
      if (c.source === "public") expect(resolved.provider.credential.fingerprint).toBeUndefined()
      else {
        expect(resolved.provider.credential.fingerprint).toBe(fingerprint(c.key))
        // The runtime's fingerprint and the gateway's are prefixes of the same sha256.
        expect(simFingerprint(c.key).slice(3)).toBe(resolved.provider.credential.fingerprint!.slice(3, 11))
      }
      // And the dry run, from the CLI, tags the same source and shows the same install.
      const out = await runCli(["request", "--dry-run", "--json", "--model", "opencode/big-pickle"], env)
      const report = JSON.parse(out.stdout) as { authSource: string; headers: Record<string, string> }
      expect(report.authSource).toBe(c.source)
      const token = await tokenOf(inst)
      expect(request.headers["x-pawwork-install"]).toBe(simFingerprint(token))
      expect(report.headers["x-pawwork-install"]).toBe(fingerprint(token))
    })
})

describe("a gateway counting free usage per install (simulator --quota-key install)", () => {
  const LIMIT = 2

  async function exhaust(on: Simulator, a: TestInstall, b: TestInstall) {
    const statuses = (requests: CapturedRequest[], inst: TestInstall, token: string) =>
      requests.filter((r) => r.path.endsWith("/chat/completions") && r.headers["x-pawwork-install"] === simFingerprint(token)).map((r) => r.status)
    for (let i = 0; i < LIMIT + 1; i++) await send("opencode/big-pickle", a.env, on)
    const bTurn = await send("opencode/big-pickle", b.env, on)
    const requests = on.requests()
    return { a: statuses(requests, a, await tokenOf(a)), b: statuses(requests, b, await tokenOf(b)), bTurn }
  }

  test("two installs on one IP get separate allowances", async () => {
    const perInstall = await startSimulator({ quotaKey: "install", config: { freeDailyLimit: LIMIT, newClientBonus: false } })
    try {
      const a = await install({}, perInstall)
      const b = await install({}, perInstall)
      const { a: aStatuses, b: bStatuses, bTurn } = await exhaust(perInstall, a, b)
      expect(new Set(perInstall.requests().map((r) => r.clientIP)).size).toBe(1)
      expect(aStatuses).toEqual([200, 200, 429])
      expect(bStatuses).toEqual([200])
      expect(bTurn.result.ok).toBe(true)
    } finally {
      await perInstall.stop()
    }
  })

  test("contrast: a per-IP gateway makes the same two installs share one pool", async () => {
    const perIP = await startSimulator({ quotaKey: "ip", config: { freeDailyLimit: LIMIT, newClientBonus: false } })
    try {
      const a = await install({}, perIP)
      const b = await install({}, perIP)
      const { a: aStatuses, b: bStatuses, bTurn } = await exhaust(perIP, a, b)
      expect(aStatuses).toEqual([200, 200, 429])
      expect(bStatuses).toEqual([429])
      expect(bTurn.result.ok).toBe(false)
    } finally {
      await perIP.stop()
    }
  })
})
