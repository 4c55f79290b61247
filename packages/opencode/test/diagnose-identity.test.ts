import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import * as Identity from "../src/auth/identity"
import * as Identifier from "../src/id/id"
import { plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { simInstall, tokenOf } from "./fixture/sim-install"

/**
 * identity.log (written by auth/identity.ts) read back for support, in child processes: a request,
 * a rotation, another request; then `diagnose` names the replacement that falls between them, and
 * the bundle carries the log's validated lines (fingerprints only) and drops hostile ones.
 */

let sim: Simulator
let install: TestInstall
let before: string
let after: string
const tokens: string[] = []
const outputs: string[] = []

async function cli(args: string[]) {
  const result = await runCli(args, install.env)
  outputs.push(result.stdout, result.stderr)
  return result
}

// Canonical ids: the simulator's free tier refuses anything else, as the gateway does.
const SESSION = { before: Identifier.create("session"), after: Identifier.create("session") }

const fp = async () => (JSON.parse((await cli(["identity", "--json"])).stdout) as { fingerprint: string }).fingerprint

beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false } })
  install = await simInstall(sim)
  expect((await cli(["run", "--model", "opencode/big-pickle", "--session", SESSION.before, "hello"])).code).toBe(0)
  before = await fp()
  tokens.push(await tokenOf(install))
  expect((await cli(["identity", "--rotate"])).code).toBe(0)
  after = await fp()
  tokens.push(await tokenOf(install))
  expect((await cli(["run", "--model", "opencode/big-pickle", "--session", SESSION.after, "hello"])).code).toBe(0)
}, 120_000)

afterAll(async () => {
  await sim.stop()
  await install.cleanup()
})

type Json = { failures: unknown[]; findings: string[]; skipped: number }

describe("diagnose and the identity log", () => {
  test("a replacement between the reported requests is a finding, with both fingerprints", async () => {
    expect(before).not.toBe(after)
    const json = JSON.parse((await cli(["diagnose", "--json"])).stdout) as Json
    expect(json.findings).toHaveLength(1)
    expect(json.findings[0]).toMatch(
      new RegExp(
        `^Install identity replaced at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\(rotated\\): requests before and after carry different install fingerprints \\(${before} → ${after}\\)\\.$`,
      ),
    )
    const human = await cli(["diagnose"])
    expect(human.stdout).toContain("No failures recorded.")
    expect(human.stdout).toContain(`- Install identity replaced at `)
  }, 60_000)

  test("a replacement outside the reported window is not", async () => {
    for (const session of [SESSION.before, SESSION.after]) {
      const json = JSON.parse((await cli(["diagnose", "--json", "--session", session])).stdout) as Json
      expect(json.findings).toEqual([])
    }
  }, 60_000)

  test("the bundle carries the validated identity log and drops every line that fails validation", async () => {
    const log = Identity.logPath(install.env)
    const planted = plantedSecret("reason")
    const rawToken = "pwi_" + "Q".repeat(20) + "9".repeat(23)
    const hostile = [
      "garbage",
      JSON.stringify({ time: new Date().toISOString(), event: "identity.replaced", reason: `corrupt (${rawToken})`, fingerprint: after }),
      JSON.stringify({ time: new Date().toISOString(), event: "identity.replaced", reason: `api_key=${planted}`, fingerprint: after }),
      JSON.stringify({ time: new Date().toISOString(), event: "identity.replaced", reason: "rotated\u001b[31m", fingerprint: after }),
      JSON.stringify({ time: new Date().toISOString(), event: "identity.created", fingerprint: rawToken }),
      JSON.stringify({ time: "yesterday", event: "identity.created", fingerprint: after }),
      JSON.stringify({ time: new Date().toISOString(), event: "identity.stolen", fingerprint: after }),
      "x".repeat(100_000),
      // Valid fields plus one the schema does not know: the line is kept, the unknown field is not.
      JSON.stringify({ time: new Date().toISOString(), event: "identity.created", fingerprint: after, token: rawToken }),
    ]
    await fs.appendFile(log, hostile.join("\n") + "\n")
    const out = path.join(install.root, "bundle.json")
    const { stdout, code } = await cli(["diagnose", "--bundle", out])
    expect(code).toBe(0)
    expect(stdout).toContain("3 identity log events.")
    const text = await fs.readFile(out, "utf8")
    const bundle = JSON.parse(text)
    expect(bundle.identityLog).toEqual({
      events: [
        { time: expect.any(String), event: "identity.created", fingerprint: before },
        { time: expect.any(String), event: "identity.replaced", reason: "rotated", previousFingerprint: before, fingerprint: after },
        { time: expect.any(String), event: "identity.created", fingerprint: after },
      ],
      skipped: 8,
    })
    expect(bundle.findings).toEqual([expect.stringContaining(`(${before} → ${after})`)])
    for (const secret of [...tokens, rawToken, planted]) {
      expect(text).not.toContain(secret)
      for (const output of outputs) expect(output).not.toContain(secret)
    }
    expect(text).not.toContain("\u001b")
  }, 60_000)
})
