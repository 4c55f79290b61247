import { afterAll, beforeAll, expect, test } from "bun:test"
import { tokenOf } from "./fixture/sim-install"
import { makeInstall, plantedSecret, runCli, type TestInstall } from "./fixture/install"
import { leakedFragments } from "./fixture/leaks"

// A successful answer whose usage object (and id and model) echoes the key and the install token.
// The SDK hands the gateway's usage object on verbatim as `usage.raw`; run --json printed it whole.
// Only the token counts the SDK parsed are printed. A loopback server: the simulator is faithful to
// the gateway, which does not echo.

const key = plantedSecret("zenkey")
let server: ReturnType<typeof Bun.serve>
let install: TestInstall

beforeAll(async () => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const bearer = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "")
      const token = req.headers.get("x-pawwork-install") ?? ""
      const event = (body: object) => `data: ${JSON.stringify({ id: bearer, object: "chat.completion.chunk", created: 0, model: `m-${bearer}`, ...body })}\n\n`
      const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, note: bearer, prompt_tokens_details: { cached_tokens: 0, echo: token } }
      const body = event({ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }] }) + event({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage }) + "data: [DONE]\n\n"
      return new Response(body, { headers: { "content-type": "text/event-stream" } })
    },
  })
  install = await makeInstall({ OPENCODE_API_KEY: key })
  await install.writeConfig({ provider: { opencode: { options: { baseURL: `http://127.0.0.1:${server.port}/zen/v1` } } } })
})
afterAll(async () => {
  server.stop(true)
  await install.cleanup()
})

test("run --json prints the token counts, never the gateway's raw usage object", async () => {
  const out = await runCli(["run", "--json", "hi"], install.env)
  expect(out.code).toBe(0)
  const result = JSON.parse(out.stdout)
  expect(result.text).toBe("hi")
  expect(result.usage).toMatchObject({ inputTokens: 1, outputTokens: 2, totalTokens: 3 })
  expect(result.usage.raw).toBeUndefined()
  expect(leakedFragments(out.stdout + out.stderr, { key, token: await tokenOf(install) })).toEqual([])
})
