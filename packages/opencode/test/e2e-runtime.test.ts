import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { startSimulator, type Simulator } from "@pawwork/zen-sim"
import { Provider } from "../src/provider"
import { SessionProcessor } from "../src/session"
import { VERSION } from "../src/installation/version"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import * as Identifier from "../src/id/id"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"

let sim: Simulator
let install: TestInstall
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false, reply: "The quick answer." } })
  install = await makeInstall()
  await install.writeConfig({
    provider: {
      opencode: { options: { baseURL: sim.zenBaseURL } },
      custom: { npm: "@ai-sdk/openai-compatible", options: { baseURL: sim.zenBaseURL }, models: { "big-pickle": {} } },
      "opencode-mine": { npm: "@ai-sdk/openai-compatible", options: { baseURL: sim.zenBaseURL }, models: { "big-pickle": {} } },
      withheaders: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: sim.zenBaseURL, headers: { "X-Team": "blue" } },
        models: { "big-pickle": {} },
      },
    },
  })
})
afterAll(async () => {
  await sim.stop()
  await install.cleanup()
})

const chat = () => sim.requests().filter((r) => r.path.endsWith("/chat/completions"))

describe("the request path over HTTP", () => {
  test("streams an answer through the runtime with OpenCode's headers", async () => {
    sim.reset()
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    const deltas: string[] = []
    const sessionID = Identifier.create("session")
    const result = await SessionProcessor.process({
      model,
      sessionID,
      requestID: "msg_e2e",
      projectID: "prj_e2e",
      client: "desktop",
      messages: [{ role: "user", content: "hi" }],
      onText: (d) => deltas.push(d),
    })
    expect(result.ok).toBe(true)
    expect(deltas.length).toBeGreaterThan(1)
    expect(deltas.join("")).toBe("The quick answer.")
    if (result.ok) expect(result.usage?.outputTokens).toBeGreaterThan(0)
    const [request] = chat()
    expect(request?.path).toBe("/zen/v1/chat/completions")
    expect(request?.headers).toMatchObject({
      "x-opencode-project": "prj_e2e",
      "x-opencode-session": sessionID,
      "x-opencode-request": "msg_e2e",
      "x-opencode-client": "desktop",
    })
    expect(request?.headers["user-agent"]).toStartWith(`opencode/pawwork/${VERSION}/desktop`)
    expect(request?.headers.authorization).toMatch(/^Bearer fp:[0-9a-f]{8}$/)
    expect(request?.headers["x-session-affinity"]).toBeUndefined()
  })

  // A custom provider is not OpenCode's client, so the gateway's free tier refuses it (403
  // FreeTierError): what these tests pin is what the runtime sent.
  test("a custom provider gets x-session-affinity and none of the x-opencode headers", async () => {
    sim.reset()
    const model = await Provider.getModel("custom", "big-pickle", install.env)
    const result = await SessionProcessor.process({ model, sessionID: "ses_custom", requestID: "msg_c", messages: [{ role: "user", content: "hi" }] })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.failure).toMatchObject({ statusCode: 403, upstreamType: "FreeTierError" })
    expect(chat().length).toBe(1)
    const headers = chat()[0]!.headers
    expect(headers["x-session-affinity"]).toBe("ses_custom")
    expect(Object.keys(headers).filter((h) => h.startsWith("x-opencode"))).toEqual([])
    expect(headers.authorization).toBeUndefined()
  })

  test("opencode.json options.headers are sent with the provider's requests", async () => {
    sim.reset()
    const model = await Provider.getModel("withheaders", "big-pickle", install.env)
    const result = await SessionProcessor.process({ model, sessionID: "ses_h", requestID: "msg_h", messages: [{ role: "user", content: "hi" }] })
    expect(result.ok).toBe(false) // the free tier's gate, as above
    expect(chat()[0]!.headers["x-team"]).toBe("blue")
  })

  test("a user-declared provider named opencode-… gets OpenCode's headers but neither the install token nor `public`", async () => {
    sim.reset()
    const model = await Provider.getModel("opencode-mine", "big-pickle", install.env)
    expect(model.provider).toMatchObject({ opencode: true, gateway: false, credential: { source: "none" } })
    expect(model.install.sent).toBe(false)
    const sessionID = Identifier.create("session")
    const result = await SessionProcessor.process({ model, sessionID, requestID: "msg_m", messages: [{ role: "user", content: "hi" }] })
    expect(result.ok).toBe(true)
    const headers = chat()[0]!.headers
    expect(headers["x-opencode-session"]).toBe(sessionID)
    expect(headers["x-pawwork-install"]).toBeUndefined()
    expect(headers.authorization).toBeUndefined()
  })

  test("a gateway error reaches the caller as the failed turn, with status and body kept", async () => {
    sim.reset()
    sim.configure({ faults: [{ status: 500, kind: "internal", count: 1 }] })
    const model = await Provider.getModel("opencode", "big-pickle", install.env)
    const result = await SessionProcessor.process({ model, sessionID: Identifier.create("session"), requestID: "msg_f", messages: [{ role: "user", content: "hi" }] })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.failure).toMatchObject({ statusCode: 500, upstreamType: "error" })
    expect(chat().length).toBe(1)
  })
})

describe("cli run against `bun run sim`", () => {
  test("streams the answer; the simulator saw the x-opencode headers", async () => {
    const key = "sk-run-json-" + crypto.randomUUID()
    const proc = Bun.spawn(["bun", `${import.meta.dir}/../../zen-sim/src/main.ts`, "--port", "0", "--no-new-client-bonus", "--key", key], {
      stdout: "pipe",
      stderr: "pipe",
    })
    try {
      const reader = proc.stdout.getReader()
      let banner = ""
      while (!/http:\/\/127\.0\.0\.1:\d+/.test(banner)) {
        const chunk = await reader.read()
        if (chunk.done) throw new Error(`simulator exited: ${banner}`)
        banner += new TextDecoder().decode(chunk.value)
      }
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(banner)![0]
      const local = await makeInstall()
      try {
        await local.writeConfig({ provider: { opencode: { options: { baseURL: `${url}/zen/v1` } } } })
        const sessionID = Identifier.create("session")
        const out = await runCli(["run", "--session", sessionID, "Say hello"], local.env)
        expect(out.stderr).toBe("")
        expect(out.code).toBe(0)
        expect(out.stdout).toBe("Hello from big-pickle via zen-sim.\n")
        const json = await runCli(["run", "--json", "Say hello"], local.env)
        expect(JSON.parse(json.stdout)).toMatchObject({
          model: "opencode/big-pickle",
          text: "Hello from big-pickle via zen-sim.",
          authSource: "public",
          install: { fingerprint: expect.stringMatching(/^fp_[0-9a-f]{12}$/), sent: true },
        })
        const keyed = await runCli(["run", "--json", "Say hello"], { ...local.env, OPENCODE_API_KEY: key })
        expect(JSON.parse(keyed.stdout)).toMatchObject({ authSource: "env", authEnvVar: "OPENCODE_API_KEY", keyFingerprint: expect.stringMatching(/^fp_/) })
        expect(keyed.stdout + keyed.stderr).not.toContain(key)
        const captured = (await (await fetch(`${url}/__sim/requests`)).json()) as { headers: Record<string, string> }[]
        expect(captured[0]!.headers).toMatchObject({ "x-opencode-session": sessionID, "x-opencode-client": "cli", "x-opencode-project": "global" })
        expect(captured[0]!.headers["x-opencode-request"]).toStartWith("msg_")
      } finally {
        await local.cleanup()
      }
    } finally {
      proc.kill("SIGTERM")
      expect(await proc.exited).toBe(0)
    }
  })

  test("a key the gateway echoes back in its error text is removed from every output and log", async () => {
    const local = await makeInstall()
    try {
      await local.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL } } } })
      // Shaped like nothing a generic scrubber recognises: short, no prefix, no digits.
      const letters = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => String.fromCharCode(97 + (b % 26))).join("")
      const key = `zenEcho${letters}`
      await Auth.set("opencode", { type: "api", key }, local.env)
      sim.reset()
      sim.configure({
        workspaces: [{ id: "wrk_echo", balanceUSD: 5, members: [{ userID: "usr_echo", keys: [key] }] }],
        faults: [{ status: 401, type: "AuthError", message: `Invalid API key ${key} for this workspace`, count: 1 }],
      })
      const out = await runCli(["run", "--json", "hi"], local.env)
      expect(out.code).toBe(1)
      expect(JSON.parse(out.stdout).error).toMatchObject({ kind: "auth", action: "stop", upstreamMessage: expect.stringContaining("[redacted]") })
      expect(out.stdout + out.stderr).not.toContain(key)
      const logs = path.join(local.dataDir, "log")
      for (const file of await fs.readdir(logs)) expect(await fs.readFile(path.join(logs, file), "utf8")).not.toContain(key)
    } finally {
      await local.cleanup()
    }
  })

  test("a rejected key is explained by where it came from", async () => {
    const local = await makeInstall()
    try {
      await local.writeConfig({ provider: { opencode: { options: { baseURL: sim.zenBaseURL } } } })
      sim.reset()
      sim.configure({ faults: [] })
      const env = await runCli(["run", "hi"], { ...local.env, OPENCODE_API_KEY: "sk-unknown-to-the-gateway" })
      expect(env.code).toBe(1)
      expect(env.stderr).toContain("The key from OPENCODE_API_KEY was rejected")
      await Auth.set("opencode", { type: "api", key: "sk-saved-unknown" }, local.env)
      const saved = await runCli(["run", "hi"], local.env)
      expect(saved.stderr).toContain("The saved key was rejected: re-enter it with `auth set opencode`")
    } finally {
      await local.cleanup()
    }
  })

  test("a run that fails prints one paragraph on stderr, no stack unless --debug", async () => {
    sim.reset()
    sim.configure({ faults: [{ status: 401, type: "AuthError", message: "Invalid API key.", count: 2 }] })
    const out = await runCli(["run", "hi"], install.env)
    expect(out.code).toBe(1)
    expect(out.stdout).toBe("")
    expect(out.stderr.trim().split("\n").length).toBe(1)
    expect(out.stderr).not.toMatch(/\n\s+at /)
    const debug = await runCli(["run", "--debug", "hi"], install.env)
    expect(debug.code).toBe(1)
    expect(debug.stderr).toMatch(/\n\s+at /)
  })
})
