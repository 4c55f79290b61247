import { afterEach, beforeEach, describe, expect, test } from "bun:test"
import { Provider } from "../src/provider"
import { SessionProcessor } from "../src/session"
import * as Identifier from "../src/id/id"
import { makeInstall, type TestInstall } from "./fixture/install"

/**
 * A server that answers a chat request with a 200 MB body, on a 200 (a JSON answer to a
 * streaming request) or on an error status: the runtime reads a bounded start of it, cancels the
 * rest and ends the turn with a classified failure. The simulator models the gateway's answers,
 * not a transport that floods; this loopback server does only that. The stream counts what it was
 * asked for: the transport may read ahead of the client by its buffers, never the whole body.
 */

const MiB = 1024 * 1024
const BODY = 200 * MiB

let install: TestInstall
let server: ReturnType<typeof Bun.serve> | undefined
beforeEach(async () => {
  install = await makeInstall()
})
afterEach(async () => {
  server?.stop(true)
  await install.cleanup()
})

async function hugeAnswer(status: number, contentType = "application/json") {
  const sent = { bytes: 0, requests: 0 }
  // A JSON error object whose message never ends: its start looks like an error body (and, as an
  // event stream, an event that never ends).
  const head = new TextEncoder().encode(contentType === "text/event-stream" ? 'data: {"choices":[{"delta":{"content":"' : '{"type":"error","error":{"type":"server_error","message":"')
  const chunk = new Uint8Array(MiB).fill(0x61)
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      sent.requests++
      let first = true
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (sent.bytes >= BODY) return controller.close()
            const next = first ? head : chunk.slice()
            first = false
            sent.bytes += next.byteLength
            controller.enqueue(next)
          },
        }),
        { status, headers: { "content-type": contentType } },
      )
    },
  })
  await install.writeConfig({
    provider: {
      flood: { npm: "@ai-sdk/openai-compatible", options: { baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: "k" }, models: { m: {} } },
    },
  })
  const model = await Provider.getModel("flood", "m", install.env)
  const result = await SessionProcessor.process({
    model,
    sessionID: Identifier.create("session"),
    requestID: Identifier.ascending("message"),
    // No retry policy: one attempt, so what is measured is how much of one answer is read.
    messages: [{ role: "user", content: "hi" }],
  })
  return { result, sent }
}

describe("a 200 MB answer is not read whole", () => {
  test("on a 200 to a streaming request: the turn fails after a bounded read", async () => {
    const { result, sent } = await hugeAnswer(200)
    expect(result.ok).toBe(false)
    expect(sent.requests).toBe(1)
    expect(sent.bytes).toBeLessThan(32 * MiB)
  })

  test("on a 200 event stream, one line that never ends: the turn fails after a bounded read, saying why", async () => {
    // The SDK's event parser keeps an unfinished line in memory: unbounded, it grew by gigabytes.
    const { result, sent } = await hugeAnswer(200, "text/event-stream")
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.failure.message).toContain("without a line break")
    expect(sent.requests).toBe(1)
    expect(sent.bytes).toBeLessThan(32 * MiB)
  })

  test("on a 500: the error body is cut, classified as the server's failure", async () => {
    const { result, sent } = await hugeAnswer(500)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.failure.statusCode).toBe(500)
    expect(sent.bytes).toBeLessThan(32 * MiB)
  })
})
