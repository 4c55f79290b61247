import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { tokenOf } from "./fixture/sim-install"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"
import { fingerprint } from "../src/util/fingerprint"

// A gateway (or a relay in front of it) that echoes back every secret a request carried, in every
// shape an echo takes: as received (HTTP trimmed it), percent-encoded, JSON-escaped in a body over
// the 64 KiB scan limit, HTML-escaped, cut short, split over error.type / error.code / metadata, in
// an over-long retry-after, and with a zero-width character or a line break inserted. Every output
// channel (stdout with --json, stderr with --debug, provider.jsonl, diagnose, the support bundle,
// request --dry-run, usage) is scanned for any 8-character piece of any secret.

/** A planted secret with characters that change under percent- and JSON-encoding. */
function wireSecret(prefix: string) {
  const [a, b, c, d, e] = plantedSecret(prefix).split(".")
  return `${a}/${b}+${c}=${d}:${e}`
}

const pct = (s: string) => [...s].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0").toUpperCase()).join("")
const uEscaped = (s: string) => [...s].map((c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")).join("")
const html = (s: string) => [...s].map((c) => (/[A-Za-z]/.test(c) ? c : `&#${c.charCodeAt(0)};`)).join("")
const zeroWidth = (s: string) => `${s.slice(0, 9)}\u200b${s.slice(9, 20)}\u2060${s.slice(20)}`
const lineBreak = (s: string) => `${s.slice(0, 11)}\r\n${s.slice(11)}`

interface Echo {
  key: string
  header: string
  token: string
  /** The query as it went over the wire: percent-encoded. */
  rawQuery: string
  query: string
}

type Reply = (echo: Echo) => Response
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })
const authError = (message: string) => ({ type: "error", error: { type: "AuthError", message } })

// Every reply ends the turn at once (401/403): no retry, so no real backoff waits in this test.
const MODES: Record<string, Reply> = {
  received: (e) => json(401, authError(`key ${e.key} header ${e.header} query ${e.query} token ${e.token}`)),
  "percent-encoded": (e) => json(401, authError(`query ${e.rawQuery} key ${pct(e.key)} header ${encodeURIComponent(e.header)} token ${pct(e.token)}`)),
  "json-escaped-over-scan-limit": (e) =>
    new Response(
      `{"type":"error","error":{"type":"AuthError","message":"key ${e.key.replaceAll("/", "\\/")} header ${uEscaped(e.header)} token ${uEscaped(e.token)}"},"pad":"${"x".repeat(70_000)}"}`,
      { status: 401, headers: { "content-type": "application/json" } },
    ),
  "cut-short": (e) => json(401, authError(`key ${e.key.slice(0, 14)} header ${e.header.slice(-12)} token ${e.token.slice(3, 19)} query ${e.query.slice(5, 18)}`)),
  "split-over-fields": (e) => {
    const half = e.key.length >> 1
    return json(
      401,
      { type: "error", error: { type: e.key.slice(0, half), code: e.key.slice(half), message: "denied" }, metadata: { workspace: e.token.slice(0, 30), limitName: e.header.slice(0, 20) } },
      { "retry-after": `${"9".repeat(50)} ${e.key}`, "retry-after-ms": e.token },
    )
  },
  "provider-name": (e) => json(401, authError(`Error from provider (${e.header.slice(0, 20)}): key ${e.key.slice(-14)}`)),
  invisible: (e) => json(401, authError(`key ${zeroWidth(e.key)} header ${lineBreak(e.header)} token ${zeroWidth(e.token)}`)),
  "html-page": (e) => new Response(`<html><head><title>Forbidden for ${html(e.key)} ${html(e.token)}</title></head></html>`, { status: 403, headers: { "content-type": "text/html" } }),
  "mid-stream": (e) =>
    new Response(`data: ${JSON.stringify({ error: { type: "AuthError", message: `key ${lineBreak(e.key)} token ${e.token.slice(0, 20)}` } })}\n\n`, {
      status: 200,
      headers: { "content-type": "text/event-stream" },
    }),
}

// A 200 answer whose text is the secrets, split over the stream's chunks (mid-secret cuts included).
function answer(e: Echo) {
  const text = `Sure: ${e.key} and ${e.header}, token ${zeroWidth(e.token)}, query ${encodeURIComponent(e.query)}. Done.`
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  let body = ""
  for (let at = 0; at < text.length; at += 5) body += chunk({ content: text.slice(at, at + 5) }, null)
  body += chunk({}, "stop") + "data: [DONE]\n\n"
  return new Response(body, { headers: { "content-type": "text/event-stream" } })
}

let server: ReturnType<typeof Bun.serve>

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url)
      const mode = url.pathname.split("/")[1] ?? ""
      const echo: Echo = {
        key: (req.headers.get("authorization") ?? "").replace(/^Bearer /, ""),
        header: req.headers.get("x-relay-key") ?? "",
        token: req.headers.get("x-pawwork-install") ?? "",
        rawQuery: url.search,
        query: url.searchParams.get("tok") ?? "",
      }
      if (mode === "answer") return answer(echo)
      if (url.pathname.endsWith("/usage")) return json(401, authError(`key ${echo.key.slice(2, 16)} and ${zeroWidth(echo.key)}`))
      if (url.pathname.endsWith("/workspace")) {
        const cookie = req.headers.get("cookie") ?? ""
        return new Response(`<p>bad session ${cookie.slice(0, 22)} / ${encodeURIComponent(cookie.slice(-20))}</p>`, { status: 500 })
      }
      return (MODES[mode] ?? MODES.received!)(echo)
    },
  })
})
afterAll(() => server.stop(true))

interface Case {
  name: string
  /** How the key reaches the runtime: its source and the raw value there (whitespace included). */
  setup(install: TestInstall, key: string): Promise<Record<string, string>>
  /** The key, or a configured header value, as written in its source. */
  asWritten(value: string): string
  /** The echo shapes to try (default: all). */
  modes?: string[]
}

const CASES: Case[] = [
  {
    name: "a saved key and a header value without surrounding whitespace",
    asWritten: (value) => value,
    async setup(install, key) {
      await fs.mkdir(install.dataDir, { recursive: true })
      await fs.writeFile(path.join(install.dataDir, "auth.json"), JSON.stringify({ opencode: { type: "api", key } }))
      return {}
    },
  },
  {
    name: "an opencode.json {env:VAR} key and a header value with a leading space and a trailing CRLF",
    asWritten: (value) => ` ${value}\r\n`,
    async setup(_install, key) {
      return { PAW_KEY: ` ${key}\r\n` }
    },
  },
  {
    name: "a saved key and a header value with a trailing newline",
    asWritten: (value) => `${value}\n`,
    // The shapes are the same as above: what differs is where the key was read and trimmed.
    modes: ["received", "cut-short", "invisible"],
    async setup(install, key) {
      await fs.mkdir(install.dataDir, { recursive: true })
      await fs.writeFile(path.join(install.dataDir, "auth.json"), JSON.stringify({ opencode: { type: "api", key: `${key}\n` } }))
      return {}
    },
  },
]

for (const c of CASES) {
  describe(c.name, () => {
    const key = wireSecret("zenkey")
    const header = wireSecret("hdr")
    const query = wireSecret("qry")
    const cookie = `auth=${wireSecret("cookie")}; theme=dark`
    let install: TestInstall
    let secrets: Record<string, string>
    let configKey: string | undefined

    const writeConfig = (mode: string) =>
      install.writeConfig({
        provider: {
          opencode: {
            options: {
              baseURL: `http://127.0.0.1:${server.port}/${mode}/zen/v1?tok=${encodeURIComponent(query)}`,
              headers: { "X-Relay-Key": c.asWritten(header) },
              ...(configKey ? { apiKey: configKey } : {}),
            },
          },
        },
      })

    const expectClean = (channel: string, text: string) => expect({ channel, leaked: leakedFragments(text, secrets) }).toEqual({ channel, leaked: [] })

    beforeAll(async () => {
      install = await makeInstall()
      Object.assign(install.env, await c.setup(install, key))
      configKey = install.env.PAW_KEY !== undefined ? "{env:PAW_KEY}" : undefined
      await writeConfig("received")
      secrets = { key, header, query, cookie: cookie.slice(5, -12) }
    })
    afterAll(() => install.cleanup())

    test("request --dry-run, human and --json, shows fingerprints only", async () => {
      const human = await runCli(["request", "--dry-run"], install.env)
      const asJson = await runCli(["request", "--dry-run", "--json"], install.env)
      expect(human.code).toBe(0)
      expect(asJson.code).toBe(0)
      secrets.token = await tokenOf(install)
      expectClean("dry run", human.stdout + human.stderr + asJson.stdout + asJson.stderr)
    })

    const modes = c.modes ?? Object.keys(MODES)
    for (const mode of modes)
      test(`echo ${mode}: run --json --debug`, async () => {
        await writeConfig(mode)
        const out = await runCli(["run", "--json", "--debug", "hi"], install.env)
        expect(out.code).toBe(1)
        expect(JSON.parse(out.stdout).error.code).toBe("provider_error")
        expectClean(`run (${mode})`, out.stdout + out.stderr)
      })

    test("a 200 answer made of the secrets, streamed in 5-character chunks: run and run --json", async () => {
      await writeConfig("answer")
      const streamed = await runCli(["run", "hi"], install.env)
      const asJson = await runCli(["run", "--json", "hi"], install.env)
      expect([streamed.code, asJson.code]).toEqual([0, 0])
      expect(streamed.stdout).toStartWith("Sure: [redacted]")
      expect(streamed.stdout).toEndWith(". Done.\n")
      expect(JSON.parse(asJson.stdout).text).toEndWith(". Done.")
      expectClean("run (answer)", streamed.stdout + streamed.stderr + asJson.stdout + asJson.stderr)
    })

    test("provider.jsonl, diagnose (human and --json) and the support bundle", async () => {
      const log = await fs.readFile(path.join(install.dataDir, "log", "provider.jsonl"), "utf8")
      expect(log.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(modes.length)
      expectClean("provider.jsonl", log)
      const human = await runCli(["diagnose"], install.env)
      const asJson = await runCli(["diagnose", "--json"], install.env)
      const file = path.join(install.root, "bundle.json")
      const bundled = await runCli(["diagnose", "--bundle", file], install.env)
      expect(bundled.code).toBe(0)
      expectClean("diagnose", human.stdout + human.stderr + asJson.stdout + asJson.stderr)
      const bundle = await fs.readFile(file, "utf8")
      expectClean("bundle", bundled.stdout + bundled.stderr + bundle)
      // A saved key is fingerprinted as the runtime sends it (trimmed), as in the records.
      for (const saved of JSON.parse(bundle).auth.providers) expect(saved.fingerprint).toBe(fingerprint(key))
    })

    test("usage go and usage zen against the echoing server", async () => {
      const env = { ...install.env, GO_KEY: c.asWritten(key), ZEN_COOKIE: c.asWritten(cookie) }
      const base = `http://127.0.0.1:${server.port}`
      for (const args of [
        ["usage", "go", "--api-key-env", "GO_KEY", "--base-url", `${base}/echo/zen/go/v1`],
        ["usage", "go", "--api-key-env", "GO_KEY", "--base-url", `${base}/echo/zen/go/v1`, "--json"],
        ["usage", "zen", "--cookie-env", "ZEN_COOKIE", "--base-url", base],
        ["usage", "zen", "--cookie-env", "ZEN_COOKIE", "--base-url", base, "--json"],
      ]) {
        const out = await runCli(args, env)
        expect(out.code).toBe(1)
        expectClean(args.join(" "), out.stdout + out.stderr)
      }
    })
  })
}
