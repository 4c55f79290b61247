import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SimConfigError, parseConfig, type SimConfigInput, type Simulator } from "../src/index.ts";
import { canonicalSessionID, startTestSim } from "./helpers.ts";

// The stall faults on the wire: what a client with no deadlines of its own would wait on forever.

const FREE = "big-pickle";
let sim: Simulator;
beforeAll(async () => {
  sim = await startTestSim({ config: { reply: "one two three" } });
});
afterAll(() => sim.stop());

function send(faults: SimConfigInput["faults"], stream = true, signal?: AbortSignal): Promise<Response> {
  sim.configure({ faults });
  sim.reset();
  return fetch(`${sim.zenBaseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-opencode-client": "cli", "x-opencode-session": canonicalSessionID() },
    body: JSON.stringify({ model: FREE, stream, messages: [{ role: "user", content: "hi" }] }),
    ...(signal ? { signal } : {}),
  });
}

/** Reads until `enough` says stop, then lets go of the body. */
async function readUntil(response: Response, enough: (text: string) => boolean): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!enough(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe("stall faults", () => {
  test("no-answer: no status line until the client gives up, logged as 499", async () => {
    const controller = new AbortController();
    const pending = send([{ status: 200, stall: "no-answer" }], true, controller.signal);
    // Nothing arrives: the request stays pending until the client aborts it.
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toThrow();
    for (let i = 0; i < 500 && sim.requests()[0]?.status !== 499; i++) await Bun.sleep(10);
    expect(sim.requests()[0]?.status).toBe(499);
  });

  test("silence: the status and headers, then no event", async () => {
    const response = await send([{ status: 200, stall: "silence" }]);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    // Only the blank line Bun needs to finish the header block: no event, no comment.
    expect(await readUntil(response, (text) => text.length > 0)).toBe("\n");
  });

  test("silence after afterChunks events", async () => {
    const response = await send([{ status: 200, stall: "silence", afterChunks: 2 }]);
    const text = await readUntil(response, (t) => (t.match(/^data: /gm) ?? []).length >= 2);
    expect(text).toContain('"role":"assistant"');
    expect(text).toContain('"content":"one ');
  });

  test("keep-alive: SSE comments at once and every intervalMs, never an event", async () => {
    const response = await send([{ status: 200, stall: "keep-alive", intervalMs: 10 }]);
    const text = await readUntil(response, (t) => (t.match(/^: keep-alive$/gm) ?? []).length >= 3);
    expect(text).not.toContain("data:");
    expect(text.startsWith(": keep-alive\n\n")).toBe(true);
  });

  test("trickle: the whole answer, one event per interval, then the end", async () => {
    const normal = await (await send([])).text();
    const trickled = await (await send([{ status: 200, stall: "trickle", intervalMs: 5 }])).text();
    const contents = (body: string) => [...body.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]).join("");
    expect(contents(trickled)).toBe("one two three");
    expect(contents(trickled)).toBe(contents(normal));
    expect(trickled).toContain("data: [DONE]");
  });

  test("a stall is not charged: the free allowance is untouched", async () => {
    sim.configure({ freeDailyLimit: 1, faults: [{ status: 200, stall: "silence", count: 1 }] });
    sim.reset();
    const stalled = await send([{ status: 200, stall: "silence", count: 1 }]);
    await readUntil(stalled, (t) => t.length > 0);
    sim.configure({ faults: [] });
    const after = await fetch(`${sim.zenBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-opencode-client": "cli", "x-opencode-session": canonicalSessionID() },
      body: JSON.stringify({ model: FREE, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(after.status).toBe(200);
    sim.configure({ freeDailyLimit: 200 });
  });
});

describe("stall config", () => {
  test("an unknown stall or an interval out of range is refused, naming the field", () => {
    const field = (fault: object) => {
      try {
        parseConfig({ faults: [fault] });
      } catch (error) {
        expect(error).toBeInstanceOf(SimConfigError);
        return (error as SimConfigError).field;
      }
      throw new Error("expected a config error");
    };
    expect(field({ status: 200, stall: "forever" })).toBe("faults[0].stall");
    expect(field({ status: 200, stall: "keep-alive", intervalMs: 0 })).toBe("faults[0].intervalMs");
    expect(field({ status: 200, stall: "trickle", intervalMs: 600_000 })).toBe("faults[0].intervalMs");
  });
});
