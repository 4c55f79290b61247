import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { fingerprint as simFingerprint, startSimulator, type Simulator } from "@pawwork/zen-sim"
import fs from "node:fs/promises"
import path from "node:path"
import * as Identifier from "../src/id/id"
import { FetchLayer, FetchLayerSettings, GatewayHosts } from "../src/integration"
import * as LedgerFeed from "../src/integration/ledger-feed"
import * as IntegrationEntry from "@pawwork/opencode/integration"
import type { Entry, Failure } from "../src/session/diagnostics"
import { fingerprint } from "../src/util/fingerprint"
import * as DiagnosticsFindings from "../src/session/diagnostics-findings"
import { makeInstall, type TestInstall } from "./fixture/install"
import { START } from "./fixture/gateway-accounts"

/**
 * wrapFetch in process, around the real fetch, against the simulator: what it watches and what it
 * leaves alone, the identity switch, and its promises to the host (no throw fetch would not throw,
 * one stderr line at most, no wait on a stalled body, the whole of a long error body delivered).
 */

const PAID = `sk-flu-paid-${crypto.randomUUID()}`

let sim: Simulator
const installs: TestInstall[] = []

beforeAll(async () => {
  sim = await startSimulator({
    now: START,
    frozenClock: true,
    config: {
      newClientBonus: false,
      workspaces: [{ id: "wrk_flu", balanceUSD: 10, members: [{ userID: "usr_flu", keys: [PAID] }] }],
      faults: [
        { endpoint: "zen", model: "gpt-5.1", status: 429, type: "FreeUsageLimitError", stall: "silence", count: -1 },
        { endpoint: "zen", model: "qwen3-coder", status: 502, source: "edge", kind: "raw", body: "<html>" + "x".repeat(1024 * 1024) + "</html>", count: -1 },
        { endpoint: "zen", model: "claude-sonnet-4-5", status: 200, stall: "silence", count: -1 },
        { endpoint: "zen", model: "minimax-m2.5-free", status: 200, stall: "no-answer", count: -1 },
      ],
    },
  })
})
afterAll(async () => {
  await sim.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})

async function install(env: Record<string, string> = {}) {
  const made = await makeInstall(env)
  installs.push(made)
  return made
}

/** A layer writing into an array, so each test sees exactly its own records. */
function layer(made: TestInstall, options: FetchLayer.Options = {}) {
  const written: Entry[] = []
  const warnings: string[] = []
  const layered = FetchLayer.wrapFetch(fetch, {
    env: made.env,
    hosts: `127.0.0.1:${new URL(sim.url).port}`,
    log: { append: (e) => void written.push(e as Entry), flush: async () => {} },
    warn: (line) => void warnings.push(line),
    ...options,
  })
  return { layered, written, warnings }
}

const chat = (model: string, headers: Record<string, string> = {}, url = `${sim.zenBaseURL}/chat/completions`) =>
  [
    url,
    {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer public", "x-opencode-session": Identifier.create("session"), ...headers },
      body: JSON.stringify({ model, stream: false, messages: [{ role: "user", content: "hi" }] }),
    },
  ] as const

test("the layer is an entry point of the package: @pawwork/opencode/integration", () => {
  expect(IntegrationEntry.FetchLayer.wrapFetch).toBe(FetchLayer.wrapFetch)
})

describe("which requests are watched", () => {
  test("the host list: host names on any port, host:port on that port, bad entries named and ignored", () => {
    const hosts = GatewayHosts.parse(" OpenCode.ai , 127.0.0.1:4096, https://evil.example, [::1]:80, a b ")
    expect([...hosts.names]).toEqual(["opencode.ai"])
    expect([...hosts.hostPorts]).toEqual(["127.0.0.1:4096", "[::1]:80"])
    expect(hosts.rejected).toEqual(["https://evil.example", "a b"])
    expect(GatewayHosts.match(hosts, new URL("https://opencode.ai/zen/go/v1/chat/completions"))).toEqual({ providerID: "opencode-go", baseURL: "https://opencode.ai/zen/go/v1" })
    expect(GatewayHosts.match(hosts, new URL("https://opencode.ai:8443/zen/v1/messages"))).toEqual({ providerID: "opencode", baseURL: "https://opencode.ai:8443/zen/v1" })
    expect(GatewayHosts.match(hosts, new URL("http://127.0.0.1:4096/zen/v1/models"))?.providerID).toBe("opencode")
    // Another port, the console's pages, a look-alike host: none of the layer's business.
    expect(GatewayHosts.match(hosts, new URL("http://127.0.0.1:4097/zen/v1/models"))).toBeNull()
    expect(GatewayHosts.match(hosts, new URL("https://opencode.ai/workspace/wrk_1/billing"))).toBeNull()
    expect(GatewayHosts.match(hosts, new URL("https://opencode.ai.evil.example/zen/v1/models"))).toBeNull()
    // A URL with credentials in it is named without them.
    expect(GatewayHosts.parse("https://user:s3cr3t-pass@opencode.ai/zen?key=abc123secret").rejected).toEqual(["https://opencode.ai/zen"])
    expect(GatewayHosts.parse("user:s3cr3t-p@ss@opencode.ai:4096, tok3n-s3cr3t-value@127.0.0.1").rejected).toEqual(["opencode.ai:4096", "127.0.0.1"])
    expect(GatewayHosts.parse("a,".repeat(100_000)).names.size).toBe(1)
    expect([...GatewayHosts.parse(undefined).names]).toEqual(["opencode.ai"])
    expect([...GatewayHosts.parse("  ").names]).toEqual(["opencode.ai"])
  })

  test("settings from the environment: off switch, hosts, quota marker", () => {
    expect(FetchLayerSettings.enabled({})).toBe(true)
    expect(FetchLayerSettings.enabled({ PAWWORK_FETCH_LAYER: "Off" })).toBe(false)
    expect(FetchLayerSettings.fromEnv({ PAWWORK_MARK_QUOTA_REFUSALS: "yes", PAWWORK_GATEWAY_HOSTS: "x.example" })).toMatchObject({ markQuotaRefusals: true, hosts: "x.example" })
    expect(FetchLayerSettings.fromEnv({}).markQuotaRefusals).toBe(false)
  })

  test("a bad host list costs one warning line, at creation", async () => {
    const made = await install()
    const { warnings } = layer(made, { hosts: "https://opencode.ai/zen, opencode.ai" })
    expect(warnings).toEqual([
      'PawWork fetch layer: PAWWORK_GATEWAY_HOSTS entries "https://opencode.ai/zen" are not a host name or host:port and are ignored; requests go on unchanged.',
    ])
  })

  test("a host that is not listed gets neither the install header nor a record", async () => {
    const made = await install()
    const { layered, written } = layer(made, { hosts: "opencode.ai" })
    sim.reset()
    const response = await layered(...chat("gpt-5-nano", { authorization: "Bearer sk-unknown-key-123456" }))
    expect(response.status).toBe(401)
    await response.text()
    await layered.flush()
    expect(written).toEqual([])
    expect(sim.requests()[0]!.headers["x-pawwork-install"]).toBeUndefined()
  })
})

describe("the install header", () => {
  test("sent where the identity is on; the host's own value is kept", async () => {
    const made = await install()
    const { layered } = layer(made)
    sim.reset()
    await (await layered(...chat("big-pickle"))).text()
    await (await layered(...chat("big-pickle", { "x-pawwork-install": "pwi_hosts_own_token_value_0123456789" }))).text()
    const token = JSON.parse(await fs.readFile(path.join(made.dataDir, "install.json"), "utf8")).token as string
    expect(sim.requests().map((r) => r.headers["x-pawwork-install"])).toEqual([simFingerprint(token), simFingerprint("pwi_hosts_own_token_value_0123456789")])
  })

  test("a Request object, a URL object and a Headers instance get it too, with body and method intact", async () => {
    const made = await install()
    const { layered } = layer(made)
    sim.reset()
    const [url, init] = chat("big-pickle")
    const asRequest = await layered(new Request(url, init))
    const asURL = await layered(new URL(url), { ...init, headers: new Headers(init.headers) })
    for (const response of [asRequest, asURL]) {
      expect(response.status).toBe(200)
      expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("Hello from big-pickle via zen-sim.")
    }
    const token = JSON.parse(await fs.readFile(path.join(made.dataDir, "install.json"), "utf8")).token as string
    expect(sim.requests().map((r) => [r.method, r.headers["x-pawwork-install"], r.headers["x-opencode-session"]])).toEqual([
      ["POST", simFingerprint(token), init.headers["x-opencode-session"]],
      ["POST", simFingerprint(token), init.headers["x-opencode-session"]],
    ])
  })

  test("options fetch reads from a prototype (a class's getters) reach the gateway as the host made them, without the header", async () => {
    const made = await install()
    const { layered } = layer(made)
    sim.reset()
    const [url, init] = chat("big-pickle")
    class Options {
      get method() {
        return init.method
      }
      get headers() {
        return init.headers
      }
      get body() {
        return init.body
      }
    }
    const response = await layered(url, new Options() as RequestInit)
    expect(response.status).toBe(200)
    await response.text()
    expect(sim.requests().map((r) => [r.method, r.headers["x-pawwork-install"]])).toEqual([["POST", undefined]])
  })

  for (const [name, setup] of [
    ["PAWWORK_INSTALL_IDENTITY=0", async () => install({ PAWWORK_INSTALL_IDENTITY: "0" })],
    [
      "opencode.json pawwork.installIdentity false",
      async () => {
        const made = await install()
        await made.writeConfig({ pawwork: { installIdentity: false } })
        return made
      },
    ],
  ] as const) {
    test(`opted out (${name}): no header, no install file, records say so`, async () => {
      const made = await setup()
      const { layered, written } = layer(made)
      sim.reset()
      await (await layered(...chat("gpt-5-nano", { authorization: "Bearer sk-unknown-key-123456" }))).text()
      await layered.flush()
      expect(sim.requests()[0]!.headers["x-pawwork-install"]).toBeUndefined()
      expect(await fs.stat(path.join(made.dataDir, "install.json")).catch(() => null)).toBeNull()
      expect(written).toHaveLength(1)
      expect(written[0]).toMatchObject({ kind: "auth", installHeaderSent: false })
      expect((written[0] as Failure).installFingerprint).toBeUndefined()
    })
  }

  test("an opencode.json that cannot be read: no header (the opt-out may be in it), one warning", async () => {
    const made = await install()
    await made.writeConfig("{ not json")
    const { layered, warnings } = layer(made)
    sim.reset()
    await (await layered(...chat("big-pickle"))).text()
    await (await layered(...chat("big-pickle"))).text()
    expect(sim.requests().map((r) => r.headers["x-pawwork-install"])).toEqual([undefined, undefined])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("opencode.json could not be read (config_invalid)")
  })
})

describe("what the host gets", () => {
  test("a network failure is recorded and the very same error reaches the host", async () => {
    const made = await install()
    const { layered, written } = layer(made, { hosts: "127.0.0.1:9" })
    const bare = await fetch("http://127.0.0.1:9/zen/v1/chat/completions").catch((e) => e)
    const seen = await layered("http://127.0.0.1:9/zen/v1/chat/completions").catch((e) => e)
    expect(seen).toBeInstanceOf(Error)
    expect(seen.constructor).toBe(bare.constructor)
    expect(seen.code).toBe(bare.code)
    await layered.flush()
    expect(written.map((e) => (e as Failure).kind)).toEqual(["network"])
  })

  test("a request fetch itself refuses is refused the same way, and nothing is recorded", async () => {
    const made = await install()
    const { layered, written, warnings } = layer(made)
    const [url, init] = chat("big-pickle")
    const used = async () => {
      const request = new Request(url, init)
      await request.text()
      return [request, undefined] as const
    }
    // A bad header value, a GET with a body, a Request whose body was already read: the host's mistakes, nothing sent.
    const refused: (readonly [string | Request, RequestInit | undefined])[] = [chat("big-pickle", { "x-bad": "a\nb" }), [url, { ...init, method: "GET" }], await used()]
    for (const args of refused) {
      const bare = await fetch(...args).catch((e) => e)
      const seen = await layered(...args).catch((e) => e)
      expect(bare).toBeInstanceOf(Error)
      expect(seen.constructor).toBe(bare.constructor)
      expect(seen.message).toBe(bare.message)
    }
    await layered.flush()
    expect(warnings).toEqual([])
    expect(written).toEqual([])
  })

  test("the host's own cancel is not a failure", async () => {
    const made = await install()
    const { layered, written } = layer(made)
    const controller = new AbortController()
    controller.abort()
    const [url, init] = chat("big-pickle")
    await layered(url, { ...init, signal: controller.signal }).catch(() => {})
    await layered.flush()
    expect(written).toEqual([])
  })

  test("a host's own deadline (an abort with a TimeoutError reason) is a failure, recorded", async () => {
    const made = await install()
    const { layered, written } = layer(made)
    const [url, init] = chat("minimax-m2.5-free")
    // The simulator never answers; the host gives up after 20 ms.
    const seen = await layered(url, { ...init, signal: AbortSignal.timeout(20) }).catch((e) => e)
    expect(seen.name).toBe("TimeoutError")
    await layered.flush()
    expect(written.map((e) => [(e as Failure).kind, e.authSource])).toEqual([["network", "public"]])
  })

  test("a fault inside the layer: the answer is untouched and stderr gets one line for any number of them", async () => {
    const made = await install()
    const warnings: string[] = []
    const layered = FetchLayer.wrapFetch(fetch, {
      env: made.env,
      hosts: `127.0.0.1:${new URL(sim.url).port}`,
      log: {
        append: () => {
          throw new Error("disk on fire: sk-should-never-print-0123456789")
        },
        flush: async () => {},
      },
      warn: (line) => void warnings.push(line),
    })
    for (let i = 0; i < 3; i++) {
      const response = await layered(...chat("gpt-5-nano", { authorization: "Bearer sk-unknown-key-123456" }))
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe("AuthError")
    }
    await layered.flush()
    expect(warnings).toEqual(["PawWork fetch layer: recording a failure failed (Error); requests go on unchanged."])
  })

  test("a failed answer the layer cannot even clone reaches the host as it came, with one warning", async () => {
    const made = await install()
    const warnings: string[] = []
    // A body already read cannot be cloned: the layer's first step fails.
    const used = new Response(JSON.stringify({ type: "error", error: { type: "AuthError", message: "Invalid API key." } }), { status: 401 })
    await used.text()
    const layered = FetchLayer.wrapFetch((async () => used) as unknown as typeof fetch, {
      env: made.env,
      hosts: "opencode.ai",
      log: { append: () => {}, flush: async () => {} },
      markQuotaRefusals: true,
      warn: (line) => void warnings.push(line),
    })
    expect(await layered("https://opencode.ai/zen/v1/chat/completions", { method: "POST", body: "{}" })).toBe(used)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^PawWork fetch layer: reading a failed answer failed \(\w+\); requests go on unchanged\.$/)
  })

  test("an error body far over the cap reaches the host whole; the record reads only the start", async () => {
    const made = await install()
    const { layered, written } = layer(made)
    const [url, init] = chat("qwen3-coder", { authorization: `Bearer ${PAID}` })
    const response = await layered(url, init)
    const text = await response.text()
    expect(response.status).toBe(502)
    expect(text.length).toBe("<html></html>".length + 1024 * 1024)
    await layered.flush()
    expect(written.map((e) => (e as Failure).kind)).toEqual(["server_error"])
  })

  test("marking waits for a failed answer's body only as long as markWaitMs", async () => {
    const made = await install()
    const { layered } = layer(made, { markQuotaRefusals: true, markWaitMs: 20 })
    const controller = new AbortController()
    const [url, init] = chat("gpt-5.1", { authorization: `Bearer ${PAID}` })
    // The simulator sends the 429's status and headers, then never the body.
    const response = await layered(url, { ...init, signal: controller.signal })
    expect(response.status).toBe(429)
    expect(response.headers.get("x-should-retry")).toBeNull()
    controller.abort()
    await response.body?.cancel().catch(() => {})
  })

  test("a host that cancels its body is not held by the layer's copy: let go after bodyWaitMs, the refusal still recorded", async () => {
    const made = await install()
    const { layered, written, warnings } = layer(made, { bodyWaitMs: 20 })
    // The simulator sends the status and headers (a 429, a JSON 200), then never the body.
    for (const model of ["gpt-5.1", "claude-sonnet-4-5"]) {
      const response = await layered(...chat(model, { authorization: `Bearer ${PAID}` }))
      // A tee lets go of its source once both halves are cancelled: this waits for the layer's copy.
      await response.body!.cancel()
    }
    await layered.flush()
    expect(written.map((e) => [(e as Failure).kind, (e as Failure).statusCode])).toEqual([["rate_limit", 429]])
    expect(warnings).toEqual([])
  }, 10_000)
})

describe("what support reads", () => {
  test("a key of the host's own is named as such, never sent to opencode.json or auth set", async () => {
    const made = await install()
    const { layered, written } = layer(made)
    const key = `sk-flu-hosts-own-${crypto.randomUUID()}`
    await (await layered(...chat("gpt-5-nano", { authorization: `Bearer ${key}` }))).text()
    await layered.flush()
    expect(written.map((e) => [(e as Failure).kind, e.authSource])).toEqual([["auth", "host"]])
    const findings = DiagnosticsFindings.findings(DiagnosticsFindings.group(written)).join("\n")
    expect(findings).toContain(`Key sent by the host program (${fingerprint(key)}) rejected (HTTP 401 AuthError): fix the key in that program's settings.`)
    expect(findings).not.toContain("opencode.json")
    expect(findings).not.toContain("auth set")
  })
})

describe("the model a request names, for the quota ledger", () => {
  const hint = LedgerFeed.modelHint
  test("read from the start of the body without parsing the prompt", () => {
    expect(hint(JSON.stringify({ model: "big-pickle", stream: true, messages: [{ role: "user", content: "x".repeat(1_000_000) }] }))).toBe("big-pickle")
    expect(hint('{ "model" : "opencode/glm-5" }')).toBe("opencode/glm-5")
  })

  test("a model named only past the first 4 KiB, a quoted one inside a message, or none at all is unknown", () => {
    expect(hint(JSON.stringify({ messages: [{ role: "user", content: "x".repeat(5000) }], model: "late" }))).toBe("unknown")
    expect(hint(JSON.stringify({ messages: [{ role: "user", content: '"model":"evil"' }] }))).toBe("unknown")
    expect(hint(JSON.stringify({ model: "with space" }))).toBe("unknown")
    expect(hint(undefined)).toBe("unknown")
    expect(hint("")).toBe("unknown")
  })
})
