import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import * as Identifier from "../../opencode/src/id/id"
import { Provider } from "../../opencode/src/provider"
import { SessionDiagnostics, SessionProcessor } from "../../opencode/src/session"
import * as DiagnosticsFindings from "../../opencode/src/session/diagnostics-findings"
import { startRelay, type Relay } from "../src/index"
import { chat, installToken, NOW, randomSecret, startRedis, type ErrorBody, type TestRedis } from "./helpers"

/**
 * What the relay can and cannot guarantee, against a gateway with its real free limiter: the
 * gateway counts a free model per client address per UTC day whether or not a key is sent
 * (research: zen-server-behaviour.md, "The limiters"), and the relay is that client. So free models
 * through a relay share the relay's address's free allowance, whatever the relay allows each
 * install; paid models, billed to PawWork's key, are what gives every install its own allowance.
 */

setDefaultTimeout(30_000)

const FREE_LIMIT = 3
let redis: TestRedis
let sim: Simulator
let relay: Relay
let key: string

beforeAll(async () => {
  redis = await startRedis()
  key = randomSecret("sk-")
  sim = await startSimulator({
    now: "2026-11-30T10:00:00.000Z",
    frozenClock: true,
    config: {
      freeDailyLimit: FREE_LIMIT,
      newClientBonus: false,
      workspaces: [{ id: "wrk_relay", balanceUSD: 1_000_000, members: [{ userID: "usr_relay", role: "admin", keys: [key] }] }],
    },
  })
  relay = await startRelay({
    config: {
      port: 0,
      redisUrl: redis.url,
      trustProxy: true,
      upstream: { baseURL: sim.zenBaseURL, keyEnv: "RELAY_TEST_KEY" },
      models: ["big-pickle", "claude-sonnet-4-5"],
      limits: { installDailyRequests: 5, concurrentStreamsPerInstall: null },
    },
    upstreamKey: key,
    logSink: () => {},
    now: () => NOW,
  })
})
afterAll(async () => {
  await relay.stop()
  await sim.stop()
  await redis.stop()
})

describe("the relay and the gateway's per-address free limit", () => {
  test("free models through the relay share the relay's one free allowance, whatever each install is allowed", async () => {
    const statuses = async (install: string, ip: string) => {
      const out: string[] = []
      for (let i = 0; i < 5; i++) {
        const response = await chat(relay, { install, ip, model: "big-pickle" })
        out.push(response.ok ? "ok" : `${response.status} ${((await response.json()) as ErrorBody).error.type}`)
      }
      return out
    }
    // Two installs on two networks, each allowed 5 by the relay: together they get the gateway's 3 for the relay's address.
    expect(await statuses(installToken(), "198.51.100.1")).toEqual(["ok", "ok", "ok", "429 FreeUsageLimitError", "429 FreeUsageLimitError"])
    expect(await statuses(installToken(), "198.51.100.2")).toEqual(Array(5).fill("429 FreeUsageLimitError"))
  })

  test("through the runtime, that refusal is worded as the relay's allowance, not the user's network, and recorded as relayed", async () => {
    const root = await mkdtemp(join(tmpdir(), "relay-free-"))
    try {
      const env = { HOME: join(root, "home"), XDG_DATA_HOME: join(root, "data"), XDG_CONFIG_HOME: join(root, "config") }
      await mkdir(join(root, "config", "opencode"), { recursive: true })
      const config = { provider: { opencode: { options: { baseURL: `${relay.url}/v1` } } } }
      await writeFile(join(root, "config", "opencode", "opencode.json"), JSON.stringify(config))
      const model = await Provider.getModel("opencode", "big-pickle", env)
      const sessionID = Identifier.create("session")
      const requestID = Identifier.ascending("message")
      const result = await SessionProcessor.process({ model, sessionID, requestID, messages: [{ role: "user", content: "hi" }], now: () => NOW, sleep: async () => {} })
      if (result.ok) throw new Error("the relay's free allowance should be spent")
      expect(result.failure).toMatchObject({ kind: "free_usage_limit", origin: "gateway", upstreamType: "FreeUsageLimitError", relayed: true, action: "stop" })
      expect(result.failure.userMessage).toStartWith("OpenCode's free allowance for the PawWork relay is used up")
      expect(result.failure.userMessage).toContain("instead of the relay")
      expect(result.failure.userMessage).not.toContain("everyone on the same network")

      const record = SessionDiagnostics.failureRecord(
        { model, sessionID, requestID, now: () => NOW },
        { attempt: 1, error: result.error, streamedText: false, info: result.failure },
        { action: "stop", reason: "not_retryable" },
      )
      expect(record.relayed).toBe(true)
      const [finding] = DiagnosticsFindings.findings(DiagnosticsFindings.group([record]))
      expect(finding).toStartWith("The PawWork relay's free allowance at OpenCode is used up on opencode/big-pickle")
      expect(finding).toContain("this user's own network is not involved")
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })

  test("paid models on PawWork's key give each install its own allowance", async () => {
    for (const ip of ["198.51.100.3", "198.51.100.4"]) {
      const install = installToken()
      const out: number[] = []
      for (let i = 0; i < 6; i++) out.push((await chat(relay, { install, ip, model: "claude-sonnet-4-5" })).status)
      expect(out).toEqual([200, 200, 200, 200, 200, 429])
    }
  })

  test("the runtime reaches the relay's paid models with a placeholder apiKey beside the relay's baseURL (the relay ignores it)", async () => {
    const root = await mkdtemp(join(tmpdir(), "relay-paid-"))
    try {
      const env = { HOME: join(root, "home"), XDG_DATA_HOME: join(root, "data"), XDG_CONFIG_HOME: join(root, "config") }
      await mkdir(join(root, "config", "opencode"), { recursive: true })
      const config = { provider: { opencode: { options: { baseURL: `${relay.url}/v1`, apiKey: "pawwork-relay" } } } }
      await writeFile(join(root, "config", "opencode", "opencode.json"), JSON.stringify(config))
      const model = await Provider.getModel("opencode", "claude-sonnet-4-5", env)
      const before = sim.requests().length
      const result = await SessionProcessor.process({
        model,
        sessionID: Identifier.create("session"),
        requestID: Identifier.ascending("message"),
        messages: [{ role: "user", content: "Reply with one word." }],
        sleep: async () => {},
      })
      expect(result.ok).toBe(true)
      const seen = sim.requests().slice(before)
      expect(seen.length).toBe(1)
      // The gateway saw PawWork's key, not the placeholder, and no install token.
      expect(JSON.stringify(seen[0]!.headers)).not.toContain("pawwork-relay")
      expect(Object.keys(seen[0]!.headers).map((k) => k.toLowerCase())).not.toContain("x-pawwork-install")
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
