import { afterEach, beforeEach, expect, test } from "bun:test"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"

// request --dry-run prints the exact request; credentials that live outside the Authorization
// header (in the base URL, in opencode.json headers) must come out as fingerprints too.
let install: TestInstall
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(() => install.cleanup())

test("userinfo, query values and configured header values are not printed", async () => {
  const password = plantedSecret("urlpass")
  const query = plantedSecret("querykey")
  const header = plantedSecret("hdrkey")
  await install.writeConfig({
    provider: {
      mine: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: `http://user:${password}@127.0.0.1:9/v1?api-key=${query}`, headers: { "X-Api-Key": header } },
        models: { m: {} },
      },
    },
  })
  const out = await runCli(["request", "--dry-run", "--model", "mine/m", "--json"], install.env)
  expect(out.code).toBe(0)
  const report = JSON.parse(out.stdout)
  expect(report.headers["x-api-key"]).toMatch(/^fp_[0-9a-f]{12}$/)
  expect(report.url).toContain("api-key=fp_")
  for (const secret of [password, query, header]) expect(out.stdout + out.stderr).not.toContain(secret)
  const text = await runCli(["request", "--dry-run", "--model", "mine/m"], install.env)
  for (const secret of [password, query, header]) expect(text.stdout + text.stderr).not.toContain(secret)
})

test("a header value that shares 8 characters with a header name or the model id is fingerprinted, and the dry run still prints", async () => {
  // Every unknown header value counts as a secret; "acme-OpenCode" shares "opencode" with the
  // x-opencode-* header names, which the last check counted as a leak and refused the whole dry run.
  await install.writeConfig({ provider: { opencode: { options: { baseURL: "http://127.0.0.1:9/zen/v1", headers: { "X-Org": "acme-OpenCode", "X-Team": "big-pickle-team" } } } } })
  const out = await runCli(["request", "--dry-run", "--json"], install.env)
  expect(out.stderr).toBe("")
  expect(out.code).toBe(0)
  const report = JSON.parse(out.stdout)
  expect(report.headers["x-org"]).toMatch(/^fp_[0-9a-f]{12}$/)
  expect(report.headers["x-opencode-session"]).toMatch(/^ses_/)
  expect(report.headers["x-team"]).toMatch(/^fp_[0-9a-f]{12}$/)
  expect(report.modelID).toBe("big-pickle")
})
