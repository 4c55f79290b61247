import { afterEach, describe, expect, test } from "bun:test";
import type { Simulator } from "../src/index.ts";
import { usagePercent } from "../src/go-usage.ts";
import { chat, errorOf, startTestSim } from "./helpers.ts";

/** `GET /zen/go/v1/usage` as the gateway's source has it (gateway-drift-2026.md, section 3, row 15). */

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(): Promise<Simulator> {
  const s = await startTestSim({
    config: {
      goRequestCostUSD: 2,
      workspaces: [
        { id: "wrk_go", members: [{ userID: "usr_go", keys: ["sk-go"], go: { limits: { "5 hour": 3, weekly: 30, monthly: 60 } } }] },
        { id: "wrk_zen", balanceUSD: 10, members: [{ userID: "usr_zen", keys: ["sk-zen"] }] },
      ],
    },
  });
  running.push(s);
  return s;
}

const usage = (s: Simulator, authorization?: string) =>
  fetch(`${s.goBaseURL}/usage`, { headers: authorization === undefined ? {} : { authorization } });

describe("Go usage endpoint", () => {
  test("percent is rounded down: $2 of $3 is 66, not 67", async () => {
    const s = await sim();
    expect((await chat(s.goBaseURL, { model: "glm-5", key: "sk-go" })).status).toBe(200);
    const body = (await (await usage(s, "Bearer sk-go")).json()) as { usage: Record<string, { percent: number }> };
    expect([body.usage.rolling?.percent, body.usage.weekly?.percent, body.usage.monthly?.percent]).toEqual([66, 6, 3]);
  });

  test("floor(min(100, usage / limit × 100))", () => {
    expect([usagePercent(0, 12), usagePercent(11.99, 12), usagePercent(12, 12), usagePercent(30, 12), usagePercent(1, 0)]).toEqual([0, 99, 100, 100, 100]);
  });

  test("the key must be exactly 'Bearer <key>'; public is 401 Unauthorized", async () => {
    const s = await sim();
    for (const header of [undefined, "bearer sk-go", "Bearer  sk-go", "Bearer sk-go extra", "Basic sk-go"]) {
      const { status, body } = await errorOf(await usage(s, header));
      expect({ header, status, message: body.error.message }).toEqual({ header, status: 401, message: "Missing API key." });
    }
    const anonymous = await errorOf(await usage(s, "Bearer public"));
    expect([anonymous.status, anonymous.body.error.message]).toEqual([401, "Unauthorized"]);
  });

  test("a key without Go: 403 EntitlementError 'OpenCode Go subscription required.'", async () => {
    const s = await sim();
    const { status, body } = await errorOf(await usage(s, "Bearer sk-zen"));
    expect({ status, body }).toEqual({
      status: 403,
      body: { type: "error", error: { type: "EntitlementError", message: "OpenCode Go subscription required." } },
    });
  });
});
