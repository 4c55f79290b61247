import { describe, expect, test } from "bun:test"
import { fetchGoUsage } from "../src/go.ts"
import { fetchZenBilling } from "../src/zen.ts"
import { SECRET_COOKIE, SECRET_KEY, WS, expectCodeAsync, serverPerTest } from "./helpers.ts"

// A server that answers with a 200 MB body: the reader must stop at its cap and cancel the rest,
// not buffer it whole. The stream counts what the server was asked for; the transport may read
// ahead of the client by its buffers, a few MiB, never the whole body.
const server = serverPerTest()
const MiB = 1024 * 1024
const BODY = 200 * MiB

function hugeBody(contentType: string, status = 200) {
  const sent = { bytes: 0 }
  const chunk = new Uint8Array(MiB).fill(0x61)
  const url = server(
    () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            if (sent.bytes >= BODY) return controller.close()
            sent.bytes += chunk.byteLength
            controller.enqueue(chunk.slice())
          },
        }),
        { status, headers: { "content-type": contentType } },
      ),
  )
  return { url, sent }
}

describe("bodies are read up to a cap, then cancelled", () => {
  test("a 200 MB answer to the Go usage request: parse_failed after at most the cap", async () => {
    const { url, sent } = hugeBody("application/json")
    const e = await expectCodeAsync(fetchGoUsage({ baseURL: url, apiKey: SECRET_KEY }), "parse_failed")
    expect(e.message).toContain("stopped reading it")
    expect(sent.bytes).toBeLessThan(32 * MiB)
  })

  test("a 200 MB error page: the excerpt reads only its start", async () => {
    const { url, sent } = hugeBody("text/html", 500)
    const e = await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "http_error")
    expect(e.message).toContain("500 from")
    expect(sent.bytes).toBeLessThan(32 * MiB)
  })

  test("a 200 MB billing page: refused past 64 MiB, the rest never read", async () => {
    const { url, sent } = hugeBody("text/html")
    const e = await expectCodeAsync(fetchZenBilling({ baseURL: url, cookie: SECRET_COOKIE, workspaceID: WS }), "parse_failed")
    expect(e.message).toContain("the billing page from")
    expect(e.message).toContain("larger than 64 MiB")
    expect(sent.bytes).toBeLessThan(100 * MiB)
  })
})
