import { afterAll, beforeAll, expect, test } from "bun:test"
import { runCli, makeInstall, plantedSecret, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"

/**
 * A provider (a relay, a captive portal in front of a plain-http baseURL, a compromised proxy) that
 * answers a chat request with a redirect to another host. fetch follows it by default: it drops
 * Authorization on the way, but sends the install token, every configured header (a relay key) and
 * the prompt to the new host. The runtime never follows: the turn ends, saying where it was sent.
 * The simulator models the gateway's answers, not redirects; these loopback servers do only that.
 */

const header = plantedSecret("relaykey")
const key = plantedSecret("zenkey")
const seen: string[] = []
let elsewhere: ReturnType<typeof Bun.serve>
let provider: ReturnType<typeof Bun.serve>
let install: TestInstall

beforeAll(async () => {
  elsewhere = Bun.serve({
    hostname: "127.0.0.2",
    port: 0,
    async fetch(req) {
      seen.push(`${[...req.headers].map(([n, v]) => `${n}: ${v}`).join("\n")}\n${await req.text()}`)
      return new Response("{}", { status: 401 })
    },
  })
  provider = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(null, { status: 307, headers: { location: `http://127.0.0.2:${elsewhere.port}/v1/chat/completions?from=redirect` } }),
  })
  install = await makeInstall({ OPENCODE_API_KEY: key })
  await install.writeConfig({ provider: { opencode: { options: { baseURL: `http://127.0.0.1:${provider.port}/zen/v1`, headers: { "X-Relay-Key": header } } } } })
})
afterAll(async () => {
  provider.stop(true)
  elsewhere.stop(true)
  await install.cleanup()
})

test("a redirect to another host is not followed: nothing reaches it, and the turn says where it was sent", async () => {
  const out = await runCli(["run", "--json", "tell nobody PROMPT-PLANTED"], install.env)
  expect(out.code).toBe(1)
  expect(seen).toEqual([])
  const error = JSON.parse(out.stdout).error
  expect(error.statusCode).toBe(307)
  expect(error.retryable).toBe(false)
  expect(out.stderr).toContain(`redirected the request to http://127.0.0.2:${elsewhere.port}/v1/chat/completions`)
  expect(out.stderr).toContain("baseURL")
  expect(leakedFragments(out.stdout + out.stderr, { header, key })).toEqual([])
})
