import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import path from "node:path"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import * as Auth from "../src/auth"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"

// The usage reader is tested in packages/usage; this checks its wiring into `cli usage`:
// the command reaches it, offline parsing works, and `usage go` picks up the saved key.
const FIXTURES = path.join(import.meta.dir, "..", "..", "usage", "test", "fixtures")
const goKey = plantedSecret("sk-go")
const cookie = plantedSecret("cookie")
const consoleSession = plantedSecret("console")
const serviceKey = plantedSecret("oc_sk")
let sim: Simulator
let install: TestInstall

beforeAll(async () => {
  sim = await startSimulator({
    config: {
      workspaces: [
        {
          id: "wrk_01K6XGM22R6FM8JVABE9XDQXGH",
          balanceUSD: 22,
          console: { serviceAccountKeys: [serviceKey] },
          members: [{ userID: "usr_1", role: "admin", keys: [goKey], cookie, consoleSession, go: { limits: { "5 hour": 12 } } }],
        },
      ],
    },
  })
  install = await makeInstall({ ZEN_COOKIE: `auth=${cookie}`, CONSOLE_COOKIE: `__Host-console_session=${consoleSession}; auth=${cookie}`, SERVICE_KEY: serviceKey })
})
afterAll(async () => {
  await sim.stop()
  await install.cleanup()
})

describe("cli usage", () => {
  test("zen --html-file parses a saved page offline", async () => {
    const out = await runCli(["usage", "zen", "--html-file", path.join(FIXTURES, "compact.html"), "--json"], install.env)
    expect(out.code).toBe(0)
    const json = JSON.parse(out.stdout)
    expect(typeof json.balanceUSD).toBe("number")
    expect(json).toHaveProperty("reload.enabled")
  })

  test("zen against the simulator's console, with the session cookie from an env var", async () => {
    const out = await runCli(["usage", "zen", "--cookie-env", "CONSOLE_COOKIE", "--base-url", sim.url, "--json"], install.env)
    expect(out.code).toBe(0)
    const json = JSON.parse(out.stdout)
    expect(json).toMatchObject({ org: { id: "wrk_01K6XGM22R6FM8JVABE9XDQXGH" }, balance: { usd: "22.00", microCents: "2200000000" }, go: { subscribed: true } })
    expect(json.go.fiveHour.limit.usd).toBe("12.00")
    expect(out.stdout + out.stderr).not.toContain(cookie)
    expect(out.stdout + out.stderr).not.toContain(consoleSession)
  })

  test("zen by service-account key, human output", async () => {
    const out = await runCli(["usage", "zen", "--api-key-env", "SERVICE_KEY", "--base-url", sim.url], install.env)
    expect(out.code).toBe(0)
    expect(out.stdout).toContain("Balance            $22.00  prepaid")
    expect(out.stdout).toMatch(/5 hours +\[-{20}\] +0%  \$0\.00 of \$12\.00/)
    expect(out.stdout + out.stderr).not.toContain(serviceKey)
  })

  test("zen with only the old auth cookie of a migrated workspace: console_moved and the command that works", async () => {
    const out = await runCli(["usage", "zen", "--cookie-env", "ZEN_COOKIE", "--base-url", sim.url], install.env)
    expect(out.code).toBe(1)
    expect(out.stderr).toContain("error [console_moved]")
    expect(out.stderr).toContain("usage zen --cookie-file")
    expect(out.stdout + out.stderr).not.toContain(cookie)
  })

  test("go uses the saved key when no --api-key-env is given, and never prints it", async () => {
    await Auth.set("opencode-go", { type: "api", key: goKey }, install.env)
    const out = await runCli(["usage", "go", "--base-url", sim.goBaseURL, "--json"], install.env)
    expect(out.code).toBe(0)
    const json = JSON.parse(out.stdout)
    for (const window of ["rolling", "weekly", "monthly"]) expect(json[window]).toHaveProperty("percent")
    expect(out.stdout + out.stderr).not.toContain(goKey)
  })

  test("go with nothing saved uses OPENCODE_API_KEY, as the runtime would", async () => {
    const local = await makeInstall({ OPENCODE_API_KEY: goKey })
    try {
      const out = await runCli(["usage", "go", "--base-url", sim.goBaseURL, "--json"], local.env)
      expect(out.stderr).not.toContain("no Go API key")
      expect(out.code).toBe(0)
      expect(JSON.parse(out.stdout)).toHaveProperty("rolling.percent")
      expect(out.stdout + out.stderr).not.toContain(goKey)
    } finally {
      await local.cleanup()
    }
  })

  test("go follows the runtime's precedence: opencode.json > saved opencode-go > OPENCODE_API_KEY > saved opencode", async () => {
    const wrong = plantedSecret("sk-wrong")
    // Each case: the Go key in one place, a wrong key in the place just below it (or above, for the
    // last-resort saved opencode key). Only the right pick reaches the simulator with a known key.
    const cases: { env?: Record<string, string>; config?: string; saved?: Record<string, string> }[] = [
      { config: goKey, saved: { "opencode-go": wrong } },
      { saved: { "opencode-go": goKey }, env: { OPENCODE_API_KEY: wrong } },
      { env: { OPENCODE_API_KEY: goKey }, saved: { opencode: wrong } },
      { saved: { opencode: goKey } },
    ]
    for (const c of cases) {
      const local = await makeInstall(c.env ?? {})
      try {
        if (c.config) await local.writeConfig({ provider: { "opencode-go": { options: { apiKey: c.config } } } })
        for (const [id, key] of Object.entries(c.saved ?? {})) await Auth.set(id, { type: "api", key }, local.env)
        const out = await runCli(["usage", "go", "--base-url", sim.goBaseURL, "--json"], local.env)
        expect({ case: c, code: out.code }).toEqual({ case: c, code: 0 })
        expect(out.stdout + out.stderr).not.toContain(goKey)
      } finally {
        await local.cleanup()
      }
    }
  })

  test("go --base-url takes the origin too (as probe does) and adds /zen/go/v1", async () => {
    await Auth.set("opencode-go", { type: "api", key: goKey }, install.env)
    for (const base of [sim.url, `${sim.url}/`]) {
      const out = await runCli(["usage", "go", "--base-url", base, "--json"], install.env)
      expect(out.code).toBe(0)
      expect(JSON.parse(out.stdout)).toHaveProperty("weekly.percent")
    }
  })

  test("go without --base-url sends the key only to the opencode-go base URL configured in opencode.json (a relay)", async () => {
    const seen: { path: string; authorization: string | null }[] = []
    // The relay stands in for the configured host and forwards to the simulator.
    const relay = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const url = new URL(req.url)
        seen.push({ path: url.pathname, authorization: req.headers.get("authorization") })
        return fetch(`${sim.goBaseURL}/usage`, { headers: { authorization: req.headers.get("authorization") ?? "" } })
      },
    })
    // Anything not on loopback goes to a proxy that does not exist: a regression fails here
    // instead of sending the planted key to the real gateway.
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: 502 }) })
    const deadURL = `http://127.0.0.1:${dead.port}`
    const local = await makeInstall({ HTTPS_PROXY: deadURL, https_proxy: deadURL, HTTP_PROXY: deadURL, http_proxy: deadURL, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" })
    try {
      await local.writeConfig({ provider: { "opencode-go": { options: { baseURL: `http://127.0.0.1:${relay.port}/relay/go/v1`, apiKey: goKey } } } })
      const out = await runCli(["usage", "go", "--json"], local.env)
      expect(seen).toEqual([{ path: "/relay/go/v1/usage", authorization: `Bearer ${goKey}` }])
      expect(out.code).toBe(0)
      expect(out.stdout + out.stderr).not.toContain(goKey)
    } finally {
      relay.stop(true)
      dead.stop(true)
      await local.cleanup()
    }
  })

  test("the saved Zen key is never handed to a relay configured for opencode-go", async () => {
    const seen: string[] = []
    const relay = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (seen.push(req.headers.get("authorization") ?? ""), new Response("{}")) })
    const local = await makeInstall()
    try {
      await local.writeConfig({ provider: { "opencode-go": { options: { baseURL: `http://127.0.0.1:${relay.port}/relay/go/v1` } } } })
      await Auth.set("opencode", { type: "api", key: goKey }, local.env)
      const out = await runCli(["usage", "go", "--json"], local.env)
      expect(out.code).not.toBe(0)
      expect(seen).toEqual([])
      expect(out.stdout + out.stderr).not.toContain(goKey)
    } finally {
      relay.stop(true)
      await local.cleanup()
    }
  })

  test("a bad flag is a usage error naming it", async () => {
    const out = await runCli(["usage", "zen", "--cookie-flie", "x"], install.env)
    expect(out.code).toBe(2)
    expect(out.stderr).toContain("--cookie-flie")
  })
})
