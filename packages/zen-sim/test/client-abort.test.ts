import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../src/index.ts";
import { startTestSim } from "./helpers.ts";

/** A client that goes away is logged as 499 (gateway-drift-2026.md, section 3, row 13). */

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

const SESSION = "ses_0123456789abABCDEFGHIJKLMN";

/** Polls the captured log until `done`, at most `attempts` times, yielding to the server in between. */
async function logged(s: Simulator, done: (status: number | undefined) => boolean, attempts = 200): Promise<number | undefined> {
  for (let i = 0; i < attempts; i++) {
    const status = s.requests().at(-1)?.status;
    if (done(status)) return status;
    await Bun.sleep(5);
  }
  return s.requests().at(-1)?.status;
}

describe("client abort", () => {
  test("a client that leaves in the middle of a stream is logged as 499", async () => {
    // A long answer, so the stream is still going when the client leaves.
    const s = await startTestSim({ config: { reply: "word ".repeat(50_000) } });
    running.push(s);
    const controller = new AbortController();
    const response = await fetch(`${s.zenBaseURL}/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", "x-opencode-client": "cli", "x-opencode-session": SESSION },
      body: JSON.stringify({ model: "big-pickle", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    expect(await logged(s, (status) => status === 499)).toBe(499);
  });

  test("a client that leaves before its body has arrived is logged as 499", async () => {
    const s = await startTestSim();
    running.push(s);
    const controller = new AbortController();
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        // Half a body, then nothing: the server waits for the rest until the client leaves.
        if (!sent) c.enqueue(new TextEncoder().encode('{"model":"big-pickle",'));
        sent = true;
      },
    });
    const pending = fetch(`${s.zenBaseURL}/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit).catch(() => undefined);
    expect(await logged(s, (status) => status === undefined && s.requests().length === 1)).toBeUndefined();
    controller.abort();
    await pending;
    expect(await logged(s, (status) => status === 499)).toBe(499);
  });
});
