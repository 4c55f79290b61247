import { afterEach, describe, expect, test } from "bun:test";
import type { SimConfigInput, Simulator } from "../src/index.ts";
import { chat, errorOf, startTestSim } from "./helpers.ts";

/**
 * The messages and responses endpoints, one model by id, and the ModelError and AuthError
 * variants (gateway-drift-2026.md, section 3, row 16).
 */

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(config: SimConfigInput = {}): Promise<Simulator> {
  const s = await startTestSim({
    now: "2026-11-20T10:00:00Z",
    config: { workspaces: [{ id: "wrk_e", balanceUSD: 10, members: [{ userID: "usr_e", keys: ["sk-e"] }] }], ...config },
  });
  running.push(s);
  return s;
}

const SESSION = "ses_0123456789abABCDEFGHIJKLMN";

function post(s: Simulator, path: string, body: object, key?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", "x-opencode-client": "cli", "x-opencode-session": SESSION };
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  return fetch(`${s.zenBaseURL}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
}

/** Named SSE events as [event, data] pairs. */
function events(text: string): [string, Record<string, unknown>][] {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
      return [event, JSON.parse(data) as Record<string, unknown>];
    });
}

const TEXT = "Hello from claude-sonnet-4-5 via zen-sim.";

describe("POST /zen/v1/messages (Anthropic shape)", () => {
  const request = { model: "claude-sonnet-4-5", max_tokens: 100, system: "x".repeat(8), messages: [{ role: "user", content: [{ type: "text", text: "yyyy" }] }] };

  test("not streamed: one message with one text block", async () => {
    const s = await sim();
    const response = await post(s, "/messages", request, "sk-e");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: TEXT }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 3, output_tokens: 11 },
    });
  });

  test("streamed: message_start, the text block's events, message_delta, message_stop", async () => {
    const s = await sim();
    const stream = await post(s, "/messages", { ...request, stream: true }, "sk-e");
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    const list = events(await stream.text());
    for (const [name, data] of list) expect(data.type).toBe(name);
    const names = list.map(([name]) => name);
    expect(names.slice(0, 2)).toEqual(["message_start", "content_block_start"]);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    const text = list.filter(([name]) => name === "content_block_delta").map(([, d]) => (d.delta as { text: string }).text);
    expect(text.join("")).toBe(TEXT);
    expect(list.at(-2)?.[1]).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 11 } });
  });

  test("the same admission pipeline: a paid model without a key is 401 AuthError, a provider's error passes through", async () => {
    const s = await sim({ faults: [{ status: 529 }] });
    const { status, body } = await errorOf(await post(s, "/messages", request));
    expect({ status, type: body.error.type }).toEqual({ status: 401, type: "AuthError" });
    expect((await errorOf(await post(s, "/messages", request, "sk-e"))).status).toBe(529);
  });
});

describe("POST /zen/v1/responses (OpenAI Responses shape)", () => {
  const request = { model: "claude-sonnet-4-5", instructions: "x".repeat(8), input: [{ role: "user", content: [{ type: "input_text", text: "yyyy" }] }] };

  test("not streamed: a completed response with one output_text", async () => {
    const s = await sim();
    const body = (await (await post(s, "/responses", request, "sk-e")).json()) as Record<string, unknown>;
    expect(body).toEqual({
      id: expect.stringMatching(/^resp_/),
      object: "response",
      created_at: 1795168800,
      status: "completed",
      model: "claude-sonnet-4-5",
      output: [
        { type: "message", id: expect.stringMatching(/^msg_/), status: "completed", role: "assistant", content: [{ type: "output_text", text: TEXT, annotations: [] }] },
      ],
      usage: { input_tokens: 3, output_tokens: 11, total_tokens: 14 },
    });
  });

  test("streamed: response.created, text deltas, response.completed, numbered in order", async () => {
    const s = await sim();
    const list = events(await (await post(s, "/responses", { ...request, input: "yyyy", stream: true }, "sk-e")).text());
    expect(list.map(([, d]) => d.sequence_number)).toEqual(list.map((_, i) => i));
    for (const [name, data] of list) expect(data.type).toBe(name);
    expect(list[0]?.[0]).toBe("response.created");
    expect(list.at(-1)?.[0]).toBe("response.completed");
    const deltas = list.filter(([name]) => name === "response.output_text.delta").map(([, d]) => d.delta);
    expect(deltas.join("")).toBe(TEXT);
    expect((list.at(-1)?.[1].response as { status: string }).status).toBe("completed");
  });

  test("free models are gated and counted as on chat completions", async () => {
    const s = await sim({ freeDailyLimit: 1, newClientBonus: false });
    const anonymous = (session: string | null) =>
      fetch(`${s.zenBaseURL}/responses`, {
        method: "POST",
        headers: { "x-opencode-client": "cli", ...(session === null ? {} : { "x-opencode-session": session }) },
        body: JSON.stringify({ model: "big-pickle", input: "hi" }),
      });
    expect((await anonymous(null)).status).toBe(403);
    expect((await anonymous(SESSION)).status).toBe(200);
    expect((await errorOf(await anonymous(SESSION))).body.error.type).toBe("FreeUsageLimitError");
  });
});

describe("GET /zen/v1/models/:model", () => {
  test("one model object; an id the endpoint does not offer is 404", async () => {
    const s = await sim();
    expect(await (await fetch(`${s.zenBaseURL}/models/gpt-5.1`)).json()).toEqual({
      id: "gpt-5.1",
      object: "model",
      created: expect.any(Number),
      owned_by: "opencode",
    });
    const missing = await fetch(`${s.zenBaseURL}/models/glm-5`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe("NotFoundError");
    expect((await fetch(`${s.goBaseURL}/models/glm-5`)).status).toBe(200);
  });
});

describe("ModelError variants and blocked workspaces: all 401", () => {
  test("not supported, not supported for format, trial ended, disabled, no provider", async () => {
    const s = await sim({
      models: {
        zen: [
          { id: "chat-only", formats: ["oa-compat"] },
          { id: "trial-model", free: true, trialEndsAt: "2026-11-20T09:00:00Z" },
          { id: "disabled-model" },
          { id: "no-provider", providerAvailable: false },
        ],
      },
      workspaces: [{ id: "wrk_e", balanceUSD: 10, disabledModels: ["disabled-model"], members: [{ userID: "usr_e", keys: ["sk-e"] }] }],
    });
    const answers = [
      await post(s, "/chat/completions", { model: "nope" }, "sk-e"),
      await post(s, "/messages", { model: "chat-only", messages: [] }, "sk-e"),
      await post(s, "/chat/completions", { model: "trial-model", messages: [] }),
      await post(s, "/chat/completions", { model: "disabled-model", messages: [] }, "sk-e"),
      await post(s, "/chat/completions", { model: "no-provider", messages: [] }, "sk-e"),
    ];
    const seen: unknown[] = await Promise.all(answers.map(async (r) => ({ status: r.status, ...((await r.json()) as object) })));
    expect(seen).toEqual([
      { status: 401, type: "error", error: { type: "ModelError", message: "Model nope not supported" } },
      { status: 401, type: "error", error: { type: "ModelError", message: "Model chat-only not supported for format anthropic" } },
      { status: 401, type: "error", error: { type: "ModelError", message: "Model trial-model trial has ended" } },
      { status: 401, type: "error", error: { type: "ModelError", message: "Model is disabled" } },
      { status: 401, type: "error", error: { type: "ModelError", message: "No provider available" } },
    ]);
    // The chat-only model is served on chat completions.
    expect((await post(s, "/chat/completions", { model: "chat-only", messages: [] }, "sk-e")).status).toBe(200);
  });

  test("a blocked (flagged) workspace: 401 AuthError 'Request blocked by upstream provider.'", async () => {
    const s = await sim({ workspaces: [{ id: "wrk_b", blocked: true, balanceUSD: 10, members: [{ userID: "usr_b", keys: ["sk-b"] }] }] });
    const { status, body } = await errorOf(await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-b" }));
    expect({ status, body }).toEqual({
      status: 401,
      body: { type: "error", error: { type: "AuthError", message: "Request blocked by upstream provider." } },
    });
  });
});
