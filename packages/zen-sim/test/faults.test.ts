import { afterEach, describe, expect, test } from "bun:test";
import type { SimConfigInput, Simulator } from "../src/index.ts";
import { chat, startTestSim, statuses } from "./helpers.ts";

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(faults: SimConfigInput["faults"], config: SimConfigInput = {}): Promise<Simulator> {
  const s = await startTestSim({
    config: {
      faults,
      workspaces: [
        { id: "wrk_f", balanceUSD: 10, members: [{ userID: "usr_f", keys: ["sk-f"] }] },
        { id: "wrk_g", members: [{ userID: "usr_g", keys: ["sk-g"], go: {} }] },
      ],
      ...config,
    },
  });
  running.push(s);
  return s;
}

const PAID = "claude-sonnet-4-5";
const paid = (s: Simulator, stream = false) => chat(s.zenBaseURL, { model: PAID, key: "sk-f", stream });

describe("upstream faults passed through", () => {
  test("529 twice, then success; the provider body keeps its shape, the message gets the gateway prefix", async () => {
    const s = await sim([{ status: 529, count: 2, provider: "anthropic" }]);
    const first = await paid(s);
    expect(first.status).toBe(529);
    expect(first.headers.get("retry-after")).toBeNull();
    expect(await first.json()).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "Error from provider (anthropic): Overloaded" },
    });
    expect(await statuses(2, () => paid(s))).toEqual([529, 200]);
  });

  test("a provider 429 arrives without retry-after: upstream headers other than content-type/cache-control are dropped", async () => {
    const s = await sim([
      { status: 429, provider: "openai", headers: { "retry-after": "30", "x-ratelimit-remaining": "0", "cache-control": "no-store" } },
    ]);
    const response = await paid(s);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBeNull();
    expect(response.headers.get("x-ratelimit-remaining")).toBeNull();
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({
      error: { message: "Error from provider (openai): Rate limit exceeded", type: "requests", code: "rate_limit_exceeded" },
    });
  });

  test("OpenRouter shape, custom message", async () => {
    const s = await sim([{ status: 503, provider: "openrouter", message: "No endpoints available" }]);
    const response = await paid(s);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: {
        message: "Error from provider (openrouter): No endpoints available",
        code: 503,
        metadata: { provider_name: "simulated-upstream" },
      },
    });
  });

  test("a JSON body given verbatim gets its error.message prefixed", async () => {
    const s = await sim([{ status: 500, provider: "acme", body: JSON.stringify({ error: { message: "boom", extra: 1 } }) }]);
    expect(await (await paid(s)).json()).toEqual({ error: { message: "Error from provider (acme): boom", extra: 1 } });
  });

  test("an upstream html, empty or raw body is the gateway's generic 500", async () => {
    const s = await sim([
      { status: 502, kind: "html" },
      { status: 503, kind: "empty" },
      { status: 429, kind: "raw", body: "upstream says no" },
    ]);
    for (let i = 0; i < 3; i++) {
      const response = await paid(s);
      expect([response.status, await response.json()]).toEqual([500, { type: "error", error: { type: "error", message: "Internal server error" } }]);
    }
  });

  test("source edge: html, empty and raw bodies from in front of the gateway arrive as they are", async () => {
    const s = await sim([
      { status: 502, kind: "html", source: "edge" },
      { status: 500, kind: "empty", source: "edge" },
      { status: 500, kind: "raw", source: "edge", body: "upstream says no", headers: { "content-type": "text/plain; charset=utf-8" } },
    ]);
    const html = await paid(s);
    expect([html.status, html.headers.get("content-type")]).toEqual([502, "text/html; charset=utf-8"]);
    expect(await html.text()).toContain("<html>");
    const empty = await paid(s);
    expect([empty.status, await empty.text()]).toEqual([500, ""]);
    const raw = await paid(s);
    expect([raw.status, await raw.text()]).toEqual([500, "upstream says no"]);
  });

  test("faults match on endpoint and model and apply in order; count -1 is forever", async () => {
    const s = await sim([
      { endpoint: "go", status: 500, count: -1 },
      { model: "gpt-5.1", status: 503, count: 1 },
      { status: 529, count: 1 },
    ]);
    expect(await statuses(3, () => chat(s.goBaseURL, { model: "glm-5", key: "sk-g" }))).toEqual([500, 500, 500]);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-f" }))).toEqual([503, 529]);
    expect(await statuses(1, () => paid(s))).toEqual([200]);
  });

  test("failed requests are not charged; reset restores fault counts", async () => {
    const s = await sim([{ status: 500, count: 3 }], { requestCostUSD: 5 });
    expect(await statuses(5, () => paid(s))).toEqual([500, 500, 500, 200, 200]);
    expect(await statuses(1, () => paid(s))).toEqual([401]); // $10 spent by the two successes
    s.reset();
    expect(await statuses(4, () => paid(s))).toEqual([500, 500, 500, 200]);
  });

  test("limit checks run before the upstream: a gateway refusal does not use up a fault", async () => {
    const s = await sim([{ status: 529 }]);
    expect((await chat(s.zenBaseURL, { model: PAID })).status).toBe(401);
    expect((await paid(s)).status).toBe(529);
  });
});

describe("faults with a gateway error type", () => {
  test("FreeUsageLimitError with an odd status", async () => {
    const s = await sim([{ status: 403, type: "FreeUsageLimitError", headers: { "retry-after": "120" } }]);
    const response = await chat(s.zenBaseURL, { model: "big-pickle" });
    expect(response.status).toBe(403);
    expect(response.headers.get("retry-after")).toBe("120");
    expect(await response.json()).toEqual({
      type: "error",
      error: { type: "FreeUsageLimitError", message: "Simulated FreeUsageLimitError" },
      metadata: {},
    });
  });

  test("GoUsageLimitError with status 200 carries the caller's workspace", async () => {
    const s = await sim([{ endpoint: "go", status: 200, type: "GoUsageLimitError", message: "Weekly usage limit reached. Resets in 19hr" }]);
    const response = await chat(s.goBaseURL, { model: "kimi-k2.5", key: "sk-g" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      type: "error",
      error: { type: "GoUsageLimitError", message: "Weekly usage limit reached. Resets in 19hr" },
      metadata: { workspace: "wrk_g", limitName: "5 hour" },
    });
  });
});

describe("mid-stream failures", () => {
  test("afterChunks sends that many chunks, then an error event and no [DONE]", async () => {
    const s = await sim([{ status: 529, afterChunks: 2 }]);
    const response = await paid(s, true);
    expect(response.status).toBe(200);
    const events = (await response.text()).split("\n\n").filter(Boolean);
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[1]!.slice("data: ".length)).choices[0].delta.content).toBe("Hello ");
    // The provider's own event, without the gateway's prefix.
    expect(JSON.parse(events[2]!.slice("data: ".length))).toEqual({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    expect(await statuses(1, () => paid(s, true))).toEqual([200]);
  });

  test("midStream abort cuts the connection", async () => {
    const s = await sim([{ status: 500, afterChunks: 1, midStream: "abort" }]);
    const response = await paid(s, true);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  test("a non-streamed request with an afterChunks fault fails as a whole", async () => {
    const s = await sim([{ status: 503, afterChunks: 2 }]);
    expect((await paid(s)).status).toBe(503);
  });
});

describe("internal errors", () => {
  test("500 with a fixed body that leaks nothing", async () => {
    const s = await sim([{ status: 500, kind: "internal" }]);
    const response = await paid(s);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ type: "error", error: { type: "error", message: "Internal server error" } });
    expect(text).not.toContain("at ");
    expect(s.requests().at(-1)?.status).toBe(500);
  });
});
