import { afterEach, describe, expect, test } from "bun:test";
import type { SimConfigInput, SimOptions, Simulator } from "../src/index.ts";
import { chat, errorOf, startTestSim, statuses } from "./helpers.ts";

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

// 2026-11-20 is a Friday; the simulated clock starts at 10:00 UTC.
const START = "2026-11-20T10:00:00.000Z";

type GoInput = { limits?: { "5 hour"?: number; weekly?: number; monthly?: number }; subscribedAt?: string };

async function sim(go: GoInput | null, config: SimConfigInput = {}, options: SimOptions = {}): Promise<Simulator> {
  const s = await startTestSim({
    now: START,
    ...options,
    config: {
      goRequestCostUSD: 1,
      workspaces: [
        { id: "wrk_go", members: [{ userID: "usr_go", keys: ["sk-go"], go }] },
        { id: "wrk_zen", balanceUSD: 10, members: [{ userID: "usr_zen", keys: ["sk-zen"] }] },
      ],
      ...config,
    },
  });
  running.push(s);
  return s;
}

const goChat = (s: Simulator, key = "sk-go", model = "glm-5", headers: Record<string, string> = {}) =>
  chat(s.goBaseURL, { model, key, headers });

describe("Go endpoint access", () => {
  test("a Go key is served on the Go endpoint", async () => {
    const s = await sim({});
    const response = await goChat(s);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { model: string }).model).toBe("glm-5");
  });

  test("no key and an unknown key are 401 AuthError; a key without Go pays from its balance", async () => {
    const s = await sim({});
    for (const key of [undefined, "sk-nobody"]) {
      const { status, body } = await errorOf(await chat(s.goBaseURL, { model: "glm-5", key }));
      expect({ key, status, type: body.error.type }).toEqual({ key, status: 401, type: "AuthError" });
    }
    expect((await chat(s.goBaseURL, { model: "glm-5", key: "sk-zen" })).status).toBe(200);
  });

  test("Zen models are not offered on the Go endpoint", async () => {
    const s = await sim({});
    const { status, body } = await errorOf(await goChat(s, "sk-go", "gpt-5.1"));
    expect({ status, type: body.error.type }).toEqual({ status: 401, type: "ModelError" });
  });
});

describe("Go usage windows", () => {
  test("5 hour: 429 GoUsageLimitError with workspace/limitName metadata and retry-after to the window's end", async () => {
    const s = await sim({ limits: { "5 hour": 2 } });
    expect(await statuses(1, () => goChat(s))).toEqual([200]);
    s.clock.advance(30 * 60_000);
    expect(await statuses(1, () => goChat(s))).toEqual([200]);
    s.clock.advance(30 * 60_000);
    const { status, retryAfter, body } = await errorOf(await goChat(s));
    expect(status).toBe(429);
    expect(body.error.type).toBe("GoUsageLimitError");
    expect(body.metadata).toEqual({ workspace: "wrk_go", limitName: "5 hour" });
    // The window opened at the first spend (10:00) and it is now 11:00.
    expect(retryAfter).toBe(String(4 * 3600));
    expect(body.error.message).toBe(
      "5-hour usage limit reached. Resets in 4hr 0min. To continue using this model now, enable usage from your available balance: https://opencode.ai/workspace/wrk_go/go",
    );
    s.clock.advance(4 * 3_600_000 - 1);
    expect(await statuses(1, () => goChat(s))).toEqual([429]);
    s.clock.advance(1);
    expect(await statuses(1, () => goChat(s))).toEqual([200]);
  });

  test("weekly: resets at Monday 00:00 UTC", async () => {
    const s = await sim({ limits: { weekly: 1 } });
    expect(await statuses(1, () => goChat(s))).toEqual([200]);
    const { retryAfter, body } = await errorOf(await goChat(s));
    expect(body.metadata).toEqual({ workspace: "wrk_go", limitName: "weekly" });
    expect(retryAfter).toBe(String((2 * 24 + 14) * 3600));
    s.clock.set("2026-11-23T00:00:00Z");
    expect(await statuses(1, () => goChat(s))).toEqual([200]);
  });

  test("monthly: resets a month after the subscription's anchor", async () => {
    const s = await sim({ limits: { monthly: 1 }, subscribedAt: "2026-10-31T12:00:00Z" });
    expect(await statuses(1, () => goChat(s))).toEqual([200]);
    const { retryAfter, body } = await errorOf(await goChat(s));
    expect(body.metadata).toEqual({ workspace: "wrk_go", limitName: "monthly" });
    // Anchored on the 31st: November's cycle ends on 30 November at 12:00.
    expect(retryAfter).toBe(String(Date.parse("2026-11-30T12:00:00Z") / 1000 - Date.parse(START) / 1000));
  });

  test("the first exhausted window in weekly, monthly, 5 hour order is reported", async () => {
    const s = await sim({ limits: { "5 hour": 1, weekly: 1, monthly: 1 } });
    await goChat(s);
    expect((await errorOf(await goChat(s))).body.metadata?.limitName).toBe("weekly");
  });

  test("goLimitStatus sends the limit error with another status (200 seen in the wild)", async () => {
    const s = await sim({ limits: { "5 hour": 0 } }, { goLimitStatus: 200 });
    const { status, body, retryAfter } = await errorOf(await goChat(s));
    expect({ status, type: body.error.type }).toEqual({ status: 200, type: "GoUsageLimitError" });
    expect(retryAfter).toBe(String(5 * 3600));
  });

  test("localised Go message keeps the type", async () => {
    const s = await sim({ limits: { "5 hour": 0 } });
    const { body } = await errorOf(await goChat(s, "sk-go", "glm-5", { "accept-language": "fr" }));
    expect(body.error.type).toBe("GoUsageLimitError");
    expect(body.error.message).toContain("Réinitialisation");
  });
});

describe("GET /zen/go/v1/usage", () => {
  const usage = (s: Simulator, key?: string) =>
    fetch(`${s.goBaseURL}/usage`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

  test("reports each window's status, percent and reset time", async () => {
    const s = await sim({ limits: { "5 hour": 2, weekly: 4, monthly: 8 }, subscribedAt: "2026-11-01T00:00:00Z" });
    await goChat(s);
    await goChat(s);
    const response = await usage(s, "sk-go");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      workspaceID: "wrk_go",
      userID: "usr_go",
      usage: {
        rolling: { status: "rate-limited", percent: 100, resetsAt: "2026-11-20T15:00:00.000Z" },
        weekly: { status: "ok", percent: 50, resetsAt: "2026-11-23T00:00:00.000Z" },
        monthly: { status: "ok", percent: 25, resetsAt: "2026-12-01T00:00:00.000Z" },
      },
    });
  });

  test("goUsageResetFormat resetInSec reports seconds instead", async () => {
    const s = await sim({}, { goUsageResetFormat: "resetInSec" });
    await goChat(s); // $1 of the default $12 five-hour limit
    const body = (await (await usage(s, "sk-go")).json()) as { usage: { rolling: Record<string, unknown> } };
    expect(body.usage.rolling).toEqual({ status: "ok", percent: 8, resetInSec: 5 * 3600 });
  });

  test("no key 401 'Missing API key.', unknown key 401 'Unauthorized', no Go 403 EntitlementError", async () => {
    const s = await sim({});
    const none = await errorOf(await usage(s));
    expect([none.status, none.body.error.type, none.body.error.message]).toEqual([401, "AuthError", "Missing API key."]);
    const unknown = await errorOf(await usage(s, "sk-nobody"));
    expect([unknown.status, unknown.body.error.type, unknown.body.error.message]).toEqual([401, "AuthError", "Unauthorized"]);
    const zen = await errorOf(await usage(s, "sk-zen"));
    expect([zen.status, zen.body.error.type]).toEqual([403, "EntitlementError"]);
  });
});

describe("region allow-list", () => {
  const restricted = (s: Simulator, country?: string) =>
    goChat(s, "sk-go", "minimax-m2.5", country === undefined ? {} : { "cf-ipcountry": country });

  test("behind a trusted proxy cf-ipcountry outside the list is 403 RegionError", async () => {
    const s = await sim({}, {}, { trustProxy: true });
    const { status, body } = await errorOf(await restricted(s, "BR"));
    expect({ status, type: body.error.type }).toEqual({ status: 403, type: "RegionError" });
    expect((await restricted(s, "DE")).status).toBe(200);
    // Unrestricted models are served anywhere.
    expect((await goChat(s, "sk-go", "glm-5", { "cf-ipcountry": "BR" })).status).toBe(200);
  });

  test("without trustProxy cf-ipcountry is ignored and defaultRegion decides", async () => {
    const s = await sim({}, {});
    expect((await restricted(s, "BR")).status).toBe(200);
    s.configure({ defaultRegion: "BR" });
    expect((await restricted(s)).status).toBe(403);
  });
});
