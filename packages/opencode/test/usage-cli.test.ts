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
let sim: Simulator
let install: TestInstall

beforeAll(async () => {
  sim = await startSimulator({
    config: {
      workspaces: [
        {
          id: "wrk_01K6XGM22R6FM8JVABE9XDQXGH",
          balanceUSD: 22,
          members: [{ userID: "usr_1", role: "admin", keys: [goKey], cookie, go: { limits: { "5 hour": 12 } } }],
        },
      ],
    },
  })
  install = await makeInstall({ ZEN_COOKIE: `auth=${cookie}` })
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

  test("zen against the simulator's billing page, with the cookie from an env var", async () => {
    const out = await runCli(["usage", "zen", "--cookie-env", "ZEN_COOKIE", "--base-url", sim.url, "--json"], install.env)
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toMatchObject({ workspaceID: "wrk_01K6XGM22R6FM8JVABE9XDQXGH", balanceUSD: 22 })
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

  test("a bad flag is a usage error naming it", async () => {
    const out = await runCli(["usage", "zen", "--cookie-flie", "x"], install.env)
    expect(out.code).toBe(2)
    expect(out.stderr).toContain("--cookie-flie")
  })
})
