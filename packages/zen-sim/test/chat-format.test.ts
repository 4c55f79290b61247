import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../src/index.ts";
import { canonicalSessionID, chat, startTestSim } from "./helpers.ts";

let s: Simulator;
beforeAll(async () => {
  s = await startTestSim({ now: "2026-11-20T10:00:00Z" });
});
afterAll(() => s.stop());
beforeEach(() => {
  s.configure({ reply: null });
  s.reset();
});

function parseEvents(text: string): string[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
}

describe("chat completions", () => {
  test("streamed: OpenAI chunks, usage on the final chunk, then [DONE] and the gateway's cost trailer", async () => {
    const response = await chat(s.zenBaseURL, { model: "big-pickle", stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const events = parseEvents(await response.text());
    expect(events.slice(-2)).toEqual(["[DONE]", '{"choices":[],"cost":"0"}']);
    const chunks = events.slice(0, -2).map((e) => JSON.parse(e));
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", model: "big-pickle", created: 1795168800 });
      expect(chunk.id).toBe(chunks[0].id);
      expect(chunk.choices).toHaveLength(1);
      expect(chunk.choices[0].index).toBe(0);
    }
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe("Hello from big-pickle via zen-sim.");
    expect(chunks.filter((c) => (c.choices[0].delta.content ?? "") !== "").length).toBeGreaterThan(2);
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe("stop");
    expect(last.usage).toEqual({ prompt_tokens: 1, completion_tokens: 9, total_tokens: 10 });
    expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null && c.usage === undefined)).toBe(true);
  });

  test("not streamed: one chat.completion object", async () => {
    const response = await chat(s.zenBaseURL, { model: "gpt-5-nano" });
    expect(await response.json()).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: "chat.completion",
      created: 1795168800,
      model: "gpt-5-nano",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello from gpt-5-nano via zen-sim." }, finish_reason: "stop" }],
      usage: { prompt_tokens: 1, completion_tokens: 9, total_tokens: 10 },
    });
  });

  test("prompt tokens are about a quarter of the prompt's characters, text parts included", async () => {
    const response = await fetch(`${s.zenBaseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-opencode-client": "cli", "x-opencode-session": canonicalSessionID() },
      body: JSON.stringify({
        model: "big-pickle",
        messages: [
          { role: "system", content: "x".repeat(40) },
          { role: "user", content: [{ type: "text", text: "y".repeat(20) }, { type: "image_url", image_url: { url: "data:" } }] },
        ],
      }),
    });
    expect(((await response.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(15);
  });

  test("config reply replaces the answer text", async () => {
    s.configure({ reply: "Fixed answer for the demo." });
    const body = (await (await chat(s.zenBaseURL, { model: "big-pickle" })).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(body.choices[0]?.message.content).toBe("Fixed answer for the demo.");
  });

  test("a malformed body is the gateway's generic 500", async () => {
    for (const body of ["not json", "[1,2]", "null", '{"model":'] as const) {
      const response = await fetch(`${s.zenBaseURL}/chat/completions`, { method: "POST", body });
      expect({ body, status: response.status }).toEqual({ body, status: 500 });
      expect(await response.json()).toEqual({ type: "error", error: { type: "error", message: "Internal server error" } });
    }
  });

  test("a missing model is a 401 ModelError", async () => {
    const response = await fetch(`${s.zenBaseURL}/chat/completions`, { method: "POST", body: JSON.stringify({ messages: [] }) });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("ModelError");
  });
});

describe("models and routing", () => {
  test("GET /models lists each endpoint's catalogue", async () => {
    type Model = { id: string; object: string; created: number; owned_by: string };
    const zen = (await (await fetch(`${s.zenBaseURL}/models`)).json()) as { object: string; data: Model[] };
    expect(zen.object).toBe("list");
    expect(zen.data.map((m) => m.id)).toEqual(["big-pickle", "gpt-5-nano", "minimax-m2.5-free", "claude-sonnet-4-5", "gpt-5.1", "qwen3-coder"]);
    expect(zen.data[0]).toEqual({ id: "big-pickle", object: "model", created: expect.any(Number), owned_by: "opencode" });
    const go = (await (await fetch(`${s.goBaseURL}/models`)).json()) as { data: { id: string }[] };
    expect(go.data.map((m) => m.id)).toEqual(["glm-5", "kimi-k2.5", "minimax-m2.5"]);
  });

  test("config models replaces the catalogue", async () => {
    s.configure({ models: { zen: [{ id: "only-free", free: true }] } });
    try {
      const zen = (await (await fetch(`${s.zenBaseURL}/models`)).json()) as { data: { id: string }[] };
      expect(zen.data.map((m) => m.id)).toEqual(["only-free"]);
      expect((await chat(s.zenBaseURL, { model: "only-free" })).status).toBe(200);
      expect((await chat(s.zenBaseURL, { model: "big-pickle" })).status).toBe(401);
    } finally {
      s.configure({ models: {} });
    }
  });

  test("unknown paths and methods are a 404 JSON error", async () => {
    for (const [method, path] of [["GET", "/nope"], ["GET", "/zen/v1/chat/completions"], ["GET", "/zen/v1/usage"], ["POST", "/zen/v1/models"]] as const) {
      const response = await fetch(`${s.url}${path}`, { method });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(((await response.json()) as { type: string }).type).toBe("error");
    }
  });
});

describe("admin API", () => {
  test("clock can be read, set and advanced", async () => {
    const get = async () => ((await (await fetch(`${s.url}/__sim/clock`)).json()) as { now: string }).now;
    expect(await get()).toBe("2026-11-20T10:00:00.000Z");
    const post = (body: unknown) => fetch(`${s.url}/__sim/clock`, { method: "POST", body: JSON.stringify(body) });
    expect(await (await post({ set: "2026-12-01T00:00:00Z", advanceMs: 1500 })).json()).toEqual({ now: "2026-12-01T00:00:01.500Z" });
    expect(s.clock.now().toISOString()).toBe("2026-12-01T00:00:01.500Z");
    const bad = await post({ advanceMs: "soon" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { field: "advanceMs", message: "expected a finite number" } });
    s.clock.set("2026-11-20T10:00:00Z");
  });

  test("reset forgets usage; /__sim requests are never captured", async () => {
    s.configure({ freeDailyLimit: 1, newClientBonus: false });
    try {
      expect((await chat(s.zenBaseURL, { model: "big-pickle" })).status).toBe(200);
      expect((await chat(s.zenBaseURL, { model: "big-pickle" })).status).toBe(429);
      expect((await fetch(`${s.url}/__sim/reset`, { method: "POST" })).status).toBe(200);
      expect((await chat(s.zenBaseURL, { model: "big-pickle" })).status).toBe(200);
      const captured = (await (await fetch(`${s.url}/__sim/requests`)).json()) as { path: string; status: number }[];
      expect(captured.map((r) => [r.path, r.status])).toEqual([["/zen/v1/chat/completions", 200]]);
    } finally {
      s.configure({ freeDailyLimit: 200, newClientBonus: true });
    }
  });
});
