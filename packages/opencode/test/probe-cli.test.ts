import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { runCli } from "./fixture/install"
import { startSimProcess, type SimProcess } from "./fixture/sim-process"

// Spawns `bun run sim` and the CLI; generous for a loaded machine.
setDefaultTimeout(60_000)

const QUICK = ["--port", "0", "--trust-proxy", "--free-daily-limit", "3", "--no-new-client-bonus"]
const sims: SimProcess[] = []
afterAll(() => Promise.all(sims.map((s) => s.stop())))

// The CLI gets an environment of its own: the probe must not need (or touch) anything of the user's.
async function cliEnv(extra: Record<string, string> = {}) {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-probe-cli-"))
  return { env: { PATH: process.env.PATH, HOME: home, ...extra }, cleanup: () => fs.rm(home, { recursive: true, force: true }) }
}

describe("bun run cli probe against bun run sim", () => {
  for (const [mode, extra, expected] of [
    ["per IP", [], "ip"],
    ["per install", ["--quota-key", "install"], "install"],
  ] as const)
    test(`free quota ${mode}: concludes ${expected}`, async () => {
      const sim = await startSimProcess([...QUICK, ...extra])
      sims.push(sim)
      const { env, cleanup } = await cliEnv()
      try {
        const out = await runCli(["probe", "--base-url", sim.url, "--json"], env)
        expect(out.code).toBe(0)
        const report = JSON.parse(out.stdout)
        expect(report.conclusion.anonymousFreeQuota).toBe(expected)
        expect(report.budget.used).toBeLessThanOrEqual(50)
        expect(report.cases.map((c: { name: string }) => c.name)).toEqual(["different-networks", "same-network", "saved-key-vs-anonymous", "env-key-vs-saved-key", "go-windows"])
        // One progress line per request on stderr.
        expect(out.stderr).toMatch(/^probe: same-network A \(public, net-\d+ 198\.1[89]\.\d+\.\d+\) request 1: ok · \d+\/50 requests used$/m)
      } finally {
        await cleanup()
      }
    })

  test("the table output names the method, the verdicts and the conclusion; the keyed cases use --key-env", async () => {
    const key = `sk-probe-cli-${crypto.randomUUID()}`
    const sim = await startSimProcess([...QUICK, "--key", key])
    sims.push(sim)
    const { env, cleanup } = await cliEnv({ PROBE_KEY: key })
    try {
      const out = await runCli(["probe", "--base-url", sim.url, "--key-env", "PROBE_KEY", "--max-requests", "40"], env)
      expect(out.code).toBe(0)
      expect(out.stdout).toContain("networks simulated with x-real-ip (honoured by the gateway)")
      expect(out.stdout).toMatch(/^saved-key-vs-anonymous +public @[\d.]+: 3 ok, then 429 free_usage_limit +auth @[\d.]+: 429 free_usage_limit +shared$/m)
      expect(out.stdout).toMatch(/^Conclusion: ip — /m)
      expect(out.stdout + out.stderr).not.toContain(key)
    } finally {
      await cleanup()
    }
  })
})

describe("the free-tier check through the CLI", () => {
  test("a gateway that wants OpenCode 1.17.0 or newer (session+ua) gets this runtime's own version and answers outdated", async () => {
    const sim = await startSimProcess([...QUICK, "--free-tier-gate", "session+ua", "--min-client-version", "1.17.0"])
    sims.push(sim)
    const { env, cleanup } = await cliEnv()
    try {
      const json = await runCli(["probe", "--base-url", sim.url, "--json"], env)
      expect(json.code).toBe(0)
      const report = JSON.parse(json.stdout)
      expect(report.conclusion.anonymousFreeTier).toBe("outdated")
      expect(report.freeTier).toMatchObject({ status: "ran", requestsSent: 1, answer: "outdated" })
      expect(report.cases.filter((c: { status: string }) => c.status === "ran")).toEqual([])
      expect(json.stderr).toMatch(/^probe: free-tier check \(public, net-\d+ [\d.]+\) request 1: client_outdated 426 · 1\/50 requests used$/m)
      const text = await runCli(["probe", "--base-url", sim.url], env)
      expect(text.stdout).toMatch(/^Free-tier check: public @[\d.]+: 426 client_outdated\.$/m)
      expect(text.stdout).toMatch(/^Anonymous free tier: outdated — The gateway answered 426 Upgrade Required: .*User-Agent \(opencode\/pawwork\/[^)]+\/cli\)/m)
    } finally {
      await cleanup()
    }
  })
})

describe("refusals", () => {
  // 192.0.2.0/24 is TEST-NET-1: never routed, so even a broken refusal could not reach anyone.
  test("a non-loopback --base-url without the flag exits 2 at once, saying nothing was sent", async () => {
    const { env, cleanup } = await cliEnv()
    try {
      const out = await runCli(["probe", "--base-url", "http://192.0.2.1:4096", "--json"], env)
      expect(out.code).toBe(2)
      expect(out.stderr).toContain("Refusing to probe http://192.0.2.1:4096")
      expect(out.stderr).toContain("Nothing was sent")
      expect(out.stderr).not.toContain("probe: ")
      expect(JSON.parse(out.stdout)).toMatchObject({ error: { code: "probe_refused" } })
    } finally {
      await cleanup()
    }
  })

  test("bad flags exit 2", async () => {
    const { env, cleanup } = await cliEnv()
    try {
      for (const args of [["--max-requests", "-1"], ["--model", "opencode/claude-sonnet-4-5"], ["--key-env", "sk-not-a-name"], ["--base-url", "not a url"]]) {
        const out = await runCli(["probe", "--base-url", "http://127.0.0.1:9", ...args], env)
        expect(out.code).toBe(2)
      }
    } finally {
      await cleanup()
    }
  })
})
