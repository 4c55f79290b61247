import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { fingerprint as simFingerprint, startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import net from "node:net"
import path from "node:path"
import { randomBytes } from "node:crypto"
import * as Identifier from "../src/id/id"
import { QuotaLedger } from "../src/quota"
import * as DiagnosticsRead from "../src/session/diagnostics-read"
import type { Failure } from "../src/session/diagnostics"
import { fingerprint } from "../src/util/fingerprint"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"
import { START } from "./fixture/gateway-accounts"

/**
 * The fetch layer as a host loads it: `bun run build:fetch-layer`, then a program that knows
 * nothing of this project (the `ai` SDK with its defaults, or plain `fetch`) started with
 * `node --import dist/register.mjs` or `bun --preload dist/register.mjs`, against the simulator.
 * Each runtime gets the same checks: failure records with the right kind and auth source,
 * `diagnose` reading them, success traffic byte-identical with and without the layer, the quota
 * marker only when asked, and no trace of any secret in anything the layer wrote.
 */

const REPO = path.join(import.meta.dir, "..", "..", "..")
const DIST = path.join(REPO, "packages", "opencode", "dist", "register.mjs")
const AI_HOST = path.join(import.meta.dir, "fixture", "fetch-host", "ai-host.mjs")
const FETCH_HOST = path.join(import.meta.dir, "fixture", "fetch-host", "fetch-host.mjs")

const PAID = `sk-fl-paid-${crypto.randomUUID()}`
const GO = `sk-fl-go-${crypto.randomUUID()}`
/** A key the gateway knows, whose requests reach a fault that echoes it back. */
const ECHOED = plantedSecret("sk-fl-echo")
const INSTALL_TOKEN = "pwi_" + randomBytes(32).toString("base64url")
const COOKIE = plantedSecret("cookie")

const CONFIG: SimConfigInput = {
  freeDailyLimit: 200,
  fallbackDailyLimit: 200,
  newClientBonus: false,
  models: {
    zen: [
      { id: "big-pickle", free: true },
      { id: "tiny-free", free: true, dailyLimit: 1 },
      { id: "gpt-5.1" },
      { id: "qwen3-coder" },
    ],
    go: [{ id: "glm-5" }],
  },
  workspaces: [
    { id: "wrk_fl", balanceUSD: 10, members: [{ userID: "usr_fl", keys: [PAID, ECHOED] }] },
    { id: "wrk_flgo", balanceUSD: 10, members: [{ userID: "usr_flgo", keys: [GO], go: { limits: {} } }] },
  ],
  faults: [
    // A transient refusal the SDK retries on its own; retry-after-ms keeps its waits to a millisecond.
    { endpoint: "zen", model: "gpt-5.1", status: 429, type: "RateLimitError", message: "Rate limit exceeded. Please try again later.", headers: { "retry-after-ms": "1" }, count: -1 },
    // An upstream that echoes what it was sent: key, install token and cookie.
    {
      endpoint: "zen",
      model: "qwen3-coder",
      status: 400,
      provider: "openai",
      body: JSON.stringify({
        error: { message: `Incorrect API key provided: ${ECHOED}; install ${INSTALL_TOKEN}; cookie ${COOKIE}`, type: "invalid_request_error", code: "invalid_api_key" },
      }),
      count: -1,
    },
    // The Go endpoint's quota refusal with a success status (third-party reports).
    { endpoint: "go", model: "glm-5", status: 200, type: "GoUsageLimitError", count: -1 },
  ],
}

let sim: Simulator
let closedPort: number
const installs: TestInstall[] = []

beforeAll(async () => {
  const build = Bun.spawn(["bun", "run", "build:fetch-layer"], { cwd: REPO, stdout: "pipe", stderr: "pipe" })
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited])
  if (code !== 0) throw new Error(`build:fetch-layer failed: ${out}${err}`)
  sim = await startSimulator({ now: START, frozenClock: true, config: CONFIG })
  closedPort = await freePort()
}, 60_000)

afterAll(async () => {
  await sim?.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

type Runtime = "node" | "bun"

interface HostRun {
  results: any[]
  stderr: string
  install: TestInstall
}

/** Runs a host program in a fresh install, with or without the layer, and returns what it printed. */
async function host(runtime: Runtime, program: string, plan: unknown[], options: { layer?: boolean; env?: Record<string, string>; install?: TestInstall } = {}): Promise<HostRun> {
  const install = options.install ?? (await makeInstall())
  if (!options.install) installs.push(install)
  const layer = options.layer ?? true
  const hosts = `127.0.0.1:${new URL(sim.url).port},127.0.0.1:${closedPort}`
  const preload = layer ? [runtime === "node" ? "--import" : "--preload", DIST] : []
  const child = Bun.spawn([runtime, ...preload, program], {
    env: { ...install.env, PAWWORK_GATEWAY_HOSTS: hosts, HOST_PLAN: JSON.stringify(plan), ...options.env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (code !== 0) throw new Error(`${runtime} ${path.basename(program)} exited ${code}: ${stderr}`)
  return { results: JSON.parse(stdout), stderr, install }
}

async function records(install: TestInstall): Promise<Failure[]> {
  const files = await DiagnosticsRead.logFiles(path.join(install.dataDir, "log"))
  const read = await DiagnosticsRead.read(files)
  expect(read.skipped).toBe(0)
  return read.entries.filter((e): e is Failure => e.event === "provider.failure")
}

async function installToken(install: TestInstall): Promise<string> {
  return JSON.parse(await fs.readFile(path.join(install.dataDir, "install.json"), "utf8")).token
}

const session = () => ({ "x-opencode-session": Identifier.create("session"), "x-opencode-client": "cli" })
const chatBody = (model: string, stream: boolean) => JSON.stringify({ model, stream, messages: [{ role: "user", content: "Say hello." }] })

for (const runtime of ["node", "bun"] as const) {
  describe(`fetch layer under ${runtime}`, () => {
    test("the ai SDK with its own retries: each refused attempt is recorded with its kind and auth source, diagnose reads them", async () => {
      sim.reset()
      const envKey = plantedSecret("sk-fl-env")
      const calls = [
        { baseURL: sim.zenBaseURL, apiKey: "public", model: "big-pickle", headers: session() },
        // No x-opencode-session: the free tier's client gate. The layer never adds one.
        { baseURL: sim.zenBaseURL, apiKey: "public", model: "big-pickle" },
        { baseURL: sim.zenBaseURL, keyEnv: "OPENCODE_API_KEY", model: "big-pickle", headers: session() },
        { baseURL: sim.zenBaseURL, apiKey: PAID, model: "gpt-5.1", headers: session() },
      ]
      const run = await host(runtime, AI_HOST, calls, { env: { OPENCODE_API_KEY: envKey } })
      expect(run.results[0]).toEqual({ text: "Hello from big-pickle via zen-sim." })
      expect(run.results.slice(1).map((r) => r.statusCode)).toEqual([403, 401, 429])
      // The SDK's defaults: two retries of the 429, none of the 403 and 401.
      expect(run.results[3].attempts).toBe(3)
      expect(run.stderr).toBe("")

      const found = await records(run.install)
      expect(found.map((r) => [r.kind, r.authSource, r.statusCode, r.attempt])).toEqual([
        ["free_tier_gated", "public", 403, 1],
        ["auth", "env", 401, 1],
        ["rate_limit", "host", 429, 1],
        ["rate_limit", "host", 429, 2],
        ["rate_limit", "host", 429, 3],
      ])
      const [gated, auth, ...limited] = found
      expect(gated!.sessionID).toBe("none")
      expect(gated!.modelID).toBe("big-pickle")
      expect(gated!.origin).toBe("gateway")
      expect(auth!.authEnvVar).toBe("OPENCODE_API_KEY")
      expect(auth!.keyFingerprint).toBe(fingerprint(envKey))
      expect(new Set(limited.map((r) => r.requestID)).size).toBe(1)
      expect(limited[0]!.keyFingerprint).toBe(fingerprint(PAID))
      for (const r of found) {
        expect(r).toMatchObject({ providerID: "opencode", baseURL: sim.zenBaseURL, action: "stop", stopReason: "returned_to_host", installHeaderSent: true })
        expect(r.installFingerprint).toBe(fingerprint(await installToken(run.install)))
      }
      // Every request to the gateway carried this install's token, and only the layer could have added it.
      const token = await installToken(run.install)
      const sent = sim.requests().filter((r) => r.path.startsWith("/zen/"))
      expect(sent.length).toBe(6)
      for (const r of sent) expect(r.headers["x-pawwork-install"]).toBe(simFingerprint(token))

      // The quota ledger counts every answer and refusal, written before the host ended on its own.
      const { ledger, damaged } = await QuotaLedger.read(QuotaLedger.filePath(run.install.env))
      expect(damaged).toBeUndefined()
      const rows = Object.values(ledger.days).flatMap((day) => Object.values(day))
      const byRow = Object.fromEntries(rows.map((r) => [`${r.providerID}/${r.modelID} ${r.authSource}`, { sent: r.sent, answered: r.answered, failed: r.failed }]))
      expect(byRow).toEqual({
        "opencode/big-pickle public": { sent: 2, answered: 1, failed: { free_tier_gated: 1 } },
        "opencode/big-pickle env": { sent: 1, answered: 0, failed: { auth: 1 } },
        // The host's own key is counted as a configured one: the ledger knows the runtime's sources.
        "opencode/gpt-5.1 config": { sent: 3, answered: 0, failed: { rate_limit: 3 } },
      })
      expect(Object.values(ledger.lastRefusals).map((r) => [r.kind, r.authSource])).toEqual([["free_tier_gated", "public"]])

      const diagnose = await runCli(["diagnose", "--json"], run.install.env)
      expect(diagnose.code).toBe(0)
      const report = JSON.parse(diagnose.stdout)
      expect(report.failures.map((f: Failure) => f.kind)).toEqual(["free_tier_gated", "auth", "rate_limit", "rate_limit", "rate_limit"])
      const findings = report.findings.join("\n")
      expect(findings).toContain("3 attempts seen at the fetch level")
      expect(findings).toContain("OPENCODE_API_KEY")
      const text = await runCli(["diagnose"], run.install.env)
      expect(text.code).toBe(0)
      expect(text.stdout).toContain("free_tier_gated")
      expect(text.stdout).toContain("stop (returned_to_host)")
    }, 60_000)

    test("plain fetch: a quota refusal, an error body on a 200 and a network failure are recorded; x-should-retry only when asked", async () => {
      const plan = [
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: "Bearer public", "content-type": "application/json", ...session() }, body: chatBody("tiny-free", false) },
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: "Bearer public", "content-type": "application/json", ...session() }, body: chatBody("tiny-free", false) },
        { url: `${sim.goBaseURL}/chat/completions`, method: "POST", headers: { authorization: `Bearer ${GO}`, "content-type": "application/json", ...session() }, body: chatBody("glm-5", true) },
        { url: `http://127.0.0.1:${closedPort}/zen/v1/chat/completions`, method: "POST", headers: { "content-type": "application/json" }, body: chatBody("big-pickle", true) },
        // A GET with a body: fetch refuses to build it, nothing is sent, nothing about the gateway to record.
        { url: `${sim.zenBaseURL}/chat/completions`, method: "GET", headers: { authorization: "Bearer public", ...session() }, body: chatBody("big-pickle", false) },
        // A provider's rate limit: waiting helps, so it is never marked.
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: `Bearer ${PAID}`, "content-type": "application/json", ...session() }, body: chatBody("gpt-5.1", false) },
      ]
      sim.reset()
      const plain = await host(runtime, FETCH_HOST, plan)
      sim.reset()
      const marking = await host(runtime, FETCH_HOST, plan, { env: { PAWWORK_MARK_QUOTA_REFUSALS: "1" } })
      for (const run of [plain, marking]) {
        expect(run.results.map((r) => r.status ?? r.error)).toEqual([200, 429, 200, "TypeError", "TypeError", 429])
        expect(run.stderr).toBe("")
        // A 200 is read in the background, after the host has its answer: its record may come after the next request's.
        const found = (await records(run.install)).sort((a, b) => a.kind.localeCompare(b.kind))
        expect(found.map((r) => [r.kind, r.authSource, r.providerID, r.statusCode ?? null])).toEqual([
          ["free_usage_limit", "public", "opencode", 429],
          ["go_usage_limit", "host", "opencode-go", 200],
          ["network", "none", "opencode", null],
          ["rate_limit", "host", "opencode", 429],
        ])
        // The simulator's clock is 50,223 s before midnight; the host's record is dated by the host's own clock.
        expect(found[0]!.retryAfterRaw).toBe("50223")
        expect(Date.parse(found[0]!.resetAt!) - Date.parse(found[0]!.time)).toBe(50_223_000)
        expect(found[0]!.modelID).toBe("tiny-free")
        expect(found[2]!.origin).toBe("network")
        // The ledger: the answered 200, each refusal and the network failure; the GET fetch refused is no request.
        const { ledger } = await QuotaLedger.read(QuotaLedger.filePath(run.install.env))
        const rows = Object.values(ledger.days).flatMap((day) => Object.values(day))
        expect(Object.fromEntries(rows.map((r) => [`${r.providerID}/${r.modelID} ${r.authSource}`, [r.sent, r.answered, r.failed]]))).toEqual({
          "opencode/tiny-free public": [2, 1, { free_usage_limit: 1 }],
          "opencode-go/glm-5 config": [1, 0, { go_usage_limit: 1 }],
          "opencode/big-pickle none": [1, 0, { network: 1 }],
          "opencode/gpt-5.1 config": [1, 0, { rate_limit: 1 }],
        })
        expect(Object.values(ledger.lastRefusals).map((r) => r.kind).sort()).toEqual(["free_usage_limit", "go_usage_limit"])
      }
      // Only the refusal is marked, only when asked, and its body is the gateway's, byte for byte.
      expect(plain.results[1].headers["x-should-retry"]).toBeUndefined()
      expect(marking.results[1].headers["x-should-retry"]).toBe("false")
      expect(marking.results[1].body).toBe(plain.results[1].body)
      expect(marking.results[1].headers["retry-after"]).toBe(plain.results[1].headers["retry-after"])
      for (const i of [0, 2, 5]) expect(marking.results[i].headers["x-should-retry"]).toBeUndefined()
      // The 200 carrying an error is the host's to read, as it came.
      expect(JSON.parse(Buffer.from(plain.results[2].body, "base64").toString()).error.type).toBe("GoUsageLimitError")
    }, 60_000)

    test("success traffic is byte-identical with and without the layer", async () => {
      const plan = [
        { url: `${sim.zenBaseURL}/models`, headers: { authorization: "Bearer public" } },
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: "Bearer public", "content-type": "application/json", ...session() }, body: chatBody("big-pickle", false) },
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: `Bearer ${PAID}`, "content-type": "application/json", ...session() }, body: chatBody("gpt-5.1", false).replace("gpt-5.1", "qwen3-coder").replace("qwen3-coder", "big-pickle") },
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: "Bearer public", "content-type": "application/json", ...session() }, body: chatBody("big-pickle", true) },
      ]
      sim.reset()
      const bare = await host(runtime, FETCH_HOST, plan, { layer: false })
      const bareSent = sim.requests()
      sim.reset()
      const layered = await host(runtime, FETCH_HOST, plan)
      const layeredSent = sim.requests()
      // The simulator numbers its answers (`chatcmpl-sim-<n>`) across the process: that number is the only difference allowed.
      // So is the content-length, which counts its digits: it must match the body as received.
      const canonical = (r: any) => {
        const bytes = Buffer.from(r.body, "base64")
        if (r.headers["content-length"] !== undefined) expect(Number(r.headers["content-length"])).toBe(bytes.byteLength)
        const { "content-length": _, ...headers } = r.headers
        return { ...r, headers, body: bytes.toString("latin1").replace(/chatcmpl-sim-\d+/g, "chatcmpl-sim-#") }
      }
      expect(layered.results.map(canonical)).toEqual(bare.results.map(canonical))
      expect(layered.results.map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(await records(layered.install)).toEqual([])
      // Counted in the ledger: the three calls to a model, not the model listing.
      const { ledger } = await QuotaLedger.read(QuotaLedger.filePath(layered.install.env))
      const rows = Object.values(ledger.days).flatMap((day) => Object.values(day))
      expect(rows.map((r) => [r.modelID, r.authSource, r.sent, r.answered]).sort()).toEqual([
        ["big-pickle", "config", 1, 1],
        ["big-pickle", "public", 2, 2],
      ])
      // On the wire, the layer added the install header and nothing else.
      expect(layeredSent.length).toBe(bareSent.length)
      layeredSent.forEach((sent, i) => {
        const { "x-pawwork-install": added, ...rest } = sent.headers
        expect(added).toMatch(/^fp:[0-9a-f]{8}$/)
        expect(rest).toEqual(bareSent[i]!.headers)
      })
    }, 60_000)

    test("planted secrets: nothing the layer writes holds a fragment of the key, the install token or a cookie", async () => {
      sim.reset()
      const install = await makeInstall()
      installs.push(install)
      await fs.mkdir(install.dataDir, { recursive: true })
      await fs.writeFile(path.join(install.dataDir, "install.json"), JSON.stringify({ version: 1, token: INSTALL_TOKEN, createdAt: "2026-11-01T00:00:00.000Z" }), { mode: 0o600 })
      const envKey = plantedSecret("sk-fl-envleak")
      const plan = [
        { url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { authorization: `Bearer ${ECHOED}`, cookie: `auth=${COOKIE}`, "content-type": "application/json", ...session() }, body: chatBody("qwen3-coder", false) },
        { url: `${sim.zenBaseURL}/chat/completions?key=${encodeURIComponent(envKey)}`, method: "POST", headers: { authorization: `Bearer ${envKey}`, "content-type": "application/json", ...session() }, body: chatBody("big-pickle", false) },
      ]
      const run = await host(runtime, FETCH_HOST, plan, { install, env: { OPENCODE_API_KEY: envKey } })
      expect(run.results.map((r) => r.status)).toEqual([400, 401])
      const found = await records(install)
      expect(found.map((r) => [r.kind, r.authSource])).toEqual([
        ["auth", "host"],
        ["auth", "env"],
      ])
      expect(found[0]!.installFingerprint).toBe(fingerprint(INSTALL_TOKEN))
      expect(found[0]!.upstreamProvider).toBe("openai")

      const written: string[] = [run.stderr, JSON.stringify(run.results.map((r) => r.status))]
      for (const name of await fs.readdir(path.join(install.dataDir, "log"))) written.push(await fs.readFile(path.join(install.dataDir, "log", name), "utf8"))
      // The quota ledger the layer fed, and its pending batches, if any.
      const quota = await fs.readdir(path.join(install.dataDir, "quota"), { recursive: true, withFileTypes: true })
      const ledgerFiles = quota.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
      expect(ledgerFiles.length).toBeGreaterThan(0)
      for (const file of ledgerFiles) written.push(await fs.readFile(file, "utf8"))
      for (const args of [["diagnose"], ["diagnose", "--json"], ["status", "--json"]]) {
        const out = await runCli(args, install.env)
        expect(out.code).toBe(0)
        written.push(out.stdout, out.stderr)
      }
      const secrets = { echoed: ECHOED, env: envKey, token: INSTALL_TOKEN, cookie: COOKIE }
      expect(leakedFragments(written.join("\n"), secrets)).toEqual([])
      // The scan can see a leak: the upstream did echo all three in the body the host received.
      const echoed = Buffer.from(run.results[0].body, "base64").toString()
      expect(leakedFragments(echoed, { echoed: ECHOED, token: INSTALL_TOKEN, cookie: COOKIE }).length).toBeGreaterThan(0)
    }, 60_000)
  })
}

test("loaded twice (two copies of register.mjs), the layer wraps fetch once: one failure, one record", async () => {
  const install = await makeInstall()
  installs.push(install)
  const copy = path.join(install.root, "register-copy.mjs")
  await fs.copyFile(DIST, copy)
  sim.reset()
  const plan = [{ url: `${sim.zenBaseURL}/chat/completions`, method: "POST", headers: { "content-type": "application/json" }, body: chatBody("big-pickle", false) }]
  const child = Bun.spawn(["node", "--import", DIST, "--import", copy, FETCH_HOST], {
    env: { ...install.env, PAWWORK_GATEWAY_HOSTS: `127.0.0.1:${new URL(sim.url).port}`, HOST_PLAN: JSON.stringify(plan) } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" })
  expect(JSON.parse(stdout)[0].status).toBe(403)
  expect((await records(install)).map((r) => r.kind)).toEqual(["free_tier_gated"])
}, 60_000)

test("register.mjs is one self-contained file: Node built-ins only, none of the CLI, demo or SDK", async () => {
  const text = await fs.readFile(DIST, "utf8")
  const imports = [...new Set([...text.matchAll(/(?:from|import)\s*["']([^"']+)["']/g)].map((m) => m[1]!))]
  expect(imports.length).toBeGreaterThan(0)
  for (const name of imports) expect(name).toStartWith("node:")
  // Runs under Node as it is: nothing of Bun's own API (a contended lock called Bun.sleep: "Bun is not defined").
  expect(text.match(/\bBun\.\w+/g) ?? []).toEqual([])
  // Strings that minifying keeps and that only the CLI, the demo, the simulator or the SDK's request code hold.
  for (const marker of ["Usage: cli", "Support bundle written", "PawWork OpenCode runtime demo", "/__sim/", "streamText"]) expect(text).not.toContain(marker)
  // Today about 215 KiB (zod, the classifier, the diagnostics writer): a jump means a new dependency came along.
  expect(text.length).toBeLessThan(400 * 1024)
})
