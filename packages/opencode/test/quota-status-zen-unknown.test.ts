import { afterAll, beforeAll, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import { StatusReport } from "../src/quota/status-schema"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"

/**
 * A console read that succeeds without a balance or 30-day spend (an old `auth` cookie reaches only
 * the legacy billing page of a Black workspace) shows them as not known, never as $0.00.
 */

const WORKSPACE = "wrk_01HZZZZZZZZZZZZZZZZZZZZZZZ"
const COOKIE = plantedSecret("auth-cookie")
let sim: Simulator
let made: TestInstall

beforeAll(async () => {
  sim = await startSimulator({
    config: { workspaces: [{ id: WORKSPACE, balanceUSD: 42, members: [{ userID: "usr_black", role: "admin", cookie: COOKIE, black: { plan: "20" } }] }] },
  })
  made = await makeInstall()
})
afterAll(async () => {
  await sim.stop()
  await made.cleanup()
})

test("figures the console did not give are 'not known', with what to give instead", async () => {
  const cookieFile = path.join(made.root, "cookie")
  await fs.writeFile(cookieFile, `auth=${COOKIE}`, { mode: 0o600 })
  await made.writeConfig({ pawwork: { quota: { console: { cookieFile, baseURL: sim.url, org: WORKSPACE } } } })
  const json = await runCli(["status", "--json"], made.env)
  expect(json.code).toBe(0)
  const zen = StatusReport.parse(JSON.parse(json.stdout)).zen
  expect(zen).toMatchObject({ configured: true, error: null, balanceUSD: null, spend30dUSD: null })
  expect(zen.fetchedAt).not.toBeNull()
  const text = await runCli(["status"], made.env)
  const section = text.stdout.slice(text.stdout.indexOf("Zen balance (console)")).replace(/\s+/g, " ")
  expect(section).not.toContain("$0.00")
  expect(section).toContain("Balance not known · 30-day spend not known")
  expect(section).toContain("__Host-console_session")
  expect(leakedFragments(json.stdout + text.stdout + text.stderr, { cookie: COOKIE })).toEqual([])
}, 30_000)
