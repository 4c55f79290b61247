import { afterEach, describe, expect, test } from "bun:test";
import type { SimConfigInput, Simulator } from "../src/index.ts";
import { chat, errorOf, startTestSim } from "./helpers.ts";

/**
 * What of the upstream provider's answer gets through the gateway, and what a stream can carry
 * (gateway-drift-2026.md, section 3, rows 12 and 14; typed faults for row 8).
 */

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(faults: SimConfigInput["faults"]): Promise<Simulator> {
  const s = await startTestSim({
    config: { faults, workspaces: [{ id: "wrk_p", balanceUSD: 10, members: [{ userID: "usr_p", keys: ["sk-p"] }] }] },
  });
  running.push(s);
  return s;
}

const ask = (s: Simulator, stream = false) => chat(s.zenBaseURL, { model: "claude-sonnet-4-5", key: "sk-p", stream });
const INTERNAL = { type: "error", error: { type: "error", message: "Internal server error" } };

function sseData(text: string): string[] {
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((event) => event.slice("data: ".length));
}

describe("row 12: provider passthrough", () => {
  test("an upstream 404 reaches the client as 400", async () => {
    const s = await sim([{ status: 404, provider: "openai", message: "Item with id 'msg_1' not found." }]);
    const response = await ask(s);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toBe(
      "Error from provider (openai): Item with id 'msg_1' not found.",
    );
  });

  test("the prefix names the provider's display name, and is left out when it has none", async () => {
    const s = await sim([
      { status: 529, provider: "anthropic", displayName: "Anthropic" },
      { status: 529, provider: "anthropic", displayName: null },
    ]);
    expect((await errorOf(await ask(s))).body.error.message).toBe("Error from provider (Anthropic): Overloaded");
    expect((await errorOf(await ask(s))).body.error.message).toBe("Overloaded");
  });

  test("on a streamed request only 400/404/429/529 are prefixed; without a stream every status is", async () => {
    const statuses = [400, 404, 429, 529, 500, 503];
    const s = await sim([...statuses.map((status) => ({ status, provider: "openai" })), { status: 503, provider: "openai" }]);
    const messages: Record<number, string> = {};
    for (const status of statuses) messages[status] = (await errorOf(await ask(s, true))).body.error.message;
    expect(messages).toEqual({
      400: "Error from provider (openai): Upstream error 400",
      404: "Error from provider (openai): Upstream error 404",
      429: "Error from provider (openai): Rate limit exceeded",
      529: "Error from provider (openai): Overloaded",
      500: "Internal server error",
      503: "Service unavailable",
    });
    expect((await errorOf(await ask(s))).body.error.message).toBe("Error from provider (openai): Service unavailable");
  });

  test("a non-JSON upstream body becomes the gateway's 500, whatever its status and content type", async () => {
    const s = await sim([
      { status: 429, kind: "raw", body: "<html>slow down</html>", headers: { "content-type": "text/html" } },
      { status: 400, body: "not json" },
      { status: 529, kind: "raw", body: JSON.stringify({ error: { message: "raw but JSON" } }) },
    ]);
    for (let i = 0; i < 2; i++) {
      const response = await ask(s);
      expect([response.status, response.headers.get("content-type"), await response.json()]).toEqual([500, "application/json", INTERNAL]);
    }
    // A raw body that is JSON is passed on like any JSON body.
    expect((await errorOf(await ask(s))).body.error.message).toBe("Error from provider (anthropic): raw but JSON");
  });
});

describe("row 14: what a 200 stream can carry", () => {
  test("a gateway error never appears inside a stream: a typed fault with afterChunks fails the request before it starts", async () => {
    const s = await sim([{ status: 429, type: "FreeUsageLimitError", afterChunks: 2 }]);
    const response = await ask(s, true);
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("FreeUsageLimitError");
  });

  test("a mid-stream error is the provider's own event, unprefixed, whatever its status", async () => {
    const s = await sim([{ status: 429, provider: "openai", afterChunks: 1 }]);
    const response = await ask(s, true);
    expect(response.status).toBe(200);
    const events = sseData(await response.text());
    expect(JSON.parse(events.at(-1)!)).toEqual({ error: { message: "Rate limit exceeded", type: "requests", code: "rate_limit_exceeded" } });
    expect(events).not.toContain("[DONE]");
  });

  test("after the upstream ends the gateway appends its cost trailer after [DONE]", async () => {
    const s = await sim([]);
    const events = sseData(await (await ask(s, true)).text());
    expect(events.slice(-2)).toEqual(["[DONE]", '{"choices":[],"cost":"0"}']);
  });
});

describe("row 8: typed faults", () => {
  test("a 401 type carries no metadata, nor does the older SubscriptionUsageLimitError", async () => {
    const s = await sim([
      { status: 401, type: "MonthlyLimitError" },
      { status: 401, type: "UserLimitError" },
      { status: 401, type: "CreditsError" },
      { status: 429, type: "SubscriptionUsageLimitError" },
    ]);
    for (let i = 0; i < 4; i++) expect(Object.keys((await errorOf(await ask(s))).body).sort()).toEqual(["error", "type"]);
  });
});
