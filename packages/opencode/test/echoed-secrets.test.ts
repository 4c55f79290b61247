import { afterAll, beforeAll, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import * as Auth from "../src/auth"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { fragments } from "./fixture/leaks"

// A gateway (or a relay in front of it) that echoes back every credential the request carried,
// placed so the echo straddles the 300-character cut of the upstream message. None of it, and no
// fragment of it, may reach stdout, stderr or the diagnostics log. Every other shape of echo
// (encoded, escaped, split, trimmed) is in hostile-echo.test.ts.
let server: ReturnType<typeof Bun.serve>
let install: TestInstall
const key = plantedSecret("zenkey")
const header = plantedSecret("hdr")
const query = plantedSecret("qry")

beforeAll(async () => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url)
      const bearer = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "")
      // Header and query values early (whole), the key straddling the cut at 300.
      const start = `path ${url.pathname} header ${req.headers.get("x-relay-key")} query ${url.searchParams.get("tok")} `
      const echoed = `${start}${"x".repeat(280 - start.length)} key ${bearer} and more text after it`
      return Response.json({ type: "error", error: { type: "AuthError", message: echoed } }, { status: 401 })
    },
  })
  install = await makeInstall()
  await install.writeConfig({
    provider: { opencode: { options: { baseURL: `http://127.0.0.1:${server.port}/zen/v1?tok=${query}`, headers: { "X-Relay-Key": header } } } },
  })
  await Auth.set("opencode", { type: "api", key }, install.env)
})
afterAll(async () => {
  server.stop(true)
  await install.cleanup()
})

test("echoed key, header value and URL query value are removed before the message is cut", async () => {
  const out = await runCli(["run", "--json", "hi"], install.env)
  expect(out.code).toBe(1)
  const error = JSON.parse(out.stdout).error
  expect(error).toMatchObject({ kind: "auth", statusCode: 401 })
  // The query stays a query: the path was not swallowed into it.
  expect(error.upstreamMessage).toContain("[redacted]")
  const log = await fs.readFile(path.join(install.dataDir, "log", "provider.jsonl"), "utf8")
  for (const secret of [key, header, query])
    for (const piece of fragments(secret)) expect(out.stdout + out.stderr + log).not.toContain(piece)
})

test("--debug adds the stack, and still none of the echoed secrets", async () => {
  const out = await runCli(["run", "--debug", "hi"], install.env)
  expect(out.code).toBe(1)
  expect(out.stderr).toMatch(/\n\s+at /)
  for (const secret of [key, header, query]) for (const piece of fragments(secret)) expect(out.stdout + out.stderr).not.toContain(piece)
})

test("the base URL's query goes to the server as a query, with the path intact", async () => {
  const out = await runCli(["run", "--json", "hi"], install.env)
  expect(JSON.parse(out.stdout).error.upstreamMessage).toContain("path /zen/v1/chat/completions")
})
