import { afterEach, describe, expect, test } from "bun:test";
import type { SimConfigInput, SimOptions, Simulator } from "../src/index.ts";
import { chat, errorOf, startTestSim, statuses } from "./helpers.ts";

/**
 * Who pays, which window is reported, and the words and bodies of the 401/403/429 answers, as the
 * gateway's source has them (gateway-drift-2026.md, section 3, rows 1, 2, 8, 9, 10, 11).
 */

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

// 2026-11-20 is a Friday; the simulated clock starts at 10:00 UTC.
const START = "2026-11-20T10:00:00.000Z";
// The Go endpoint wants an x-opencode-session in OpenCode's shape.
const SESSION = { "x-opencode-session": "ses_0123456789abABCDEFGHIJKLMN" };

type WorkspaceInput = NonNullable<SimConfigInput["workspaces"]>[number];
type MemberInput = NonNullable<WorkspaceInput["members"]>[number];

async function sim(members: MemberInput[], workspace: Partial<WorkspaceInput> = {}, config: SimConfigInput = {}, options: SimOptions = {}) {
  const s = await startTestSim({
    now: START,
    ...options,
    config: { requestCostUSD: 1, goRequestCostUSD: 1, workspaces: [{ id: "wrk_d", balanceUSD: 10, members, ...workspace }], ...config },
  });
  running.push(s);
  return s;
}

const go = (s: Simulator, key: string, model = "glm-5", headers: Record<string, string> = {}) =>
  chat(s.goBaseURL, { model, key, headers: { ...SESSION, ...headers } });
const zen = (s: Simulator, key: string, model = "claude-sonnet-4-5") => chat(s.zenBaseURL, { model, key });

describe("row 1: a key on the Go endpoint without a Go subscription pays from the balance", () => {
  test("served and charged to the workspace balance; 401 CreditsError once it is spent", async () => {
    const s = await sim([{ userID: "usr_zen", keys: ["sk-zen"] }], { balanceUSD: 2 });
    expect(await statuses(2, () => go(s, "sk-zen"))).toEqual([200, 200]);
    const { status, body } = await errorOf(await go(s, "sk-zen"));
    expect({ status, type: body.error.type, metadata: body.metadata }).toEqual({ status: 401, type: "CreditsError", metadata: undefined });
    expect(body.error.message).toBe("Insufficient balance. Manage your billing here: https://opencode.ai/workspace/wrk_d/billing");
  });

  test("the workspace and member monthly limits apply on the Go endpoint too", async () => {
    const monthly = await sim([{ userID: "usr_zen", keys: ["sk-zen"] }], { monthlyLimitUSD: 5, monthlyUsageUSD: 5 });
    expect((await errorOf(await go(monthly, "sk-zen"))).body.error.type).toBe("MonthlyLimitError");
    const member = await sim([{ userID: "usr_zen", keys: ["sk-zen"], spendLimitUSD: 1, spentUSD: 1 }]);
    expect((await errorOf(await go(member, "sk-zen"))).body.error.type).toBe("UserLimitError");
  });

  test("Go's use-balance setting: a spent Go window falls back to the balance", async () => {
    const s = await sim([{ userID: "usr_go", keys: ["sk-go"], go: { limits: { "5 hour": 1 }, useBalance: true } }], { balanceUSD: 1 });
    // One on the subscription, one on the balance, then the balance is empty.
    expect(await statuses(2, () => go(s, "sk-go"))).toEqual([200, 200]);
    expect((await errorOf(await go(s, "sk-go"))).body.error.type).toBe("CreditsError");
  });

  test("Black windows apply on the Go endpoint as well", async () => {
    const s = await sim([{ userID: "usr_b", keys: ["sk-b"], black: { plan: "20", limits: { rolling: 1, weekly: 10 } } }], { balanceUSD: 0 });
    // The subscription pays (no balance needed) until its window is spent.
    expect(await statuses(1, () => go(s, "sk-b"))).toEqual([200]);
    const { status, body } = await errorOf(await go(s, "sk-b"));
    expect({ status, type: body.error.type }).toEqual({ status: 429, type: "BlackUsageLimitError" });
  });
});

describe("row 2: window check order", () => {
  test("Go: weekly, then monthly, then the rolling 5 hours", async () => {
    const s = await sim([{ userID: "usr_go", keys: ["sk-go"], go: { limits: { "5 hour": 1, weekly: 1, monthly: 1 } } }]);
    await go(s, "sk-go");
    expect((await errorOf(await go(s, "sk-go"))).body.metadata?.limitName).toBe("weekly");
    const monthlyAnd5h = await sim([{ userID: "usr_go", keys: ["sk-go"], go: { limits: { "5 hour": 1, weekly: 9, monthly: 1 } } }]);
    await go(monthlyAnd5h, "sk-go");
    expect((await errorOf(await go(monthlyAnd5h, "sk-go"))).body.metadata?.limitName).toBe("monthly");
  });

  test("Black: weekly before rolling", async () => {
    const s = await sim([{ userID: "usr_b", keys: ["sk-b"], black: { plan: "20", limits: { rolling: 1, weekly: 1 } } }]);
    await zen(s, "sk-b");
    const { retryAfter } = await errorOf(await zen(s, "sk-b"));
    // The week ends Monday 00:00 UTC, 2 days 14 hours away; the rolling window would say 5 hours.
    expect(retryAfter).toBe(String((2 * 24 + 14) * 3600));
  });
});

describe("row 8: monthly limits count the UTC calendar month", () => {
  test("the workspace's monthly limit counts the current UTC month and resets with it", async () => {
    const s = await sim([{ userID: "usr_a", keys: ["sk-a"] }], { monthlyLimitUSD: 2, monthlyUsageUSD: 1 });
    expect(await statuses(2, () => zen(s, "sk-a"))).toEqual([200, 401]);
    const { body } = await errorOf(await zen(s, "sk-a"));
    // A 401 body has no metadata.
    expect(body).toEqual({
      type: "error",
      error: {
        type: "MonthlyLimitError",
        message: "Your workspace has reached its monthly spending limit of $2. Manage your limits here: https://opencode.ai/workspace/wrk_d/billing",
      },
    });
    s.clock.set("2026-11-30T23:59:59.999Z");
    expect(await statuses(1, () => zen(s, "sk-a"))).toEqual([401]);
    s.clock.set("2026-12-01T00:00:00.000Z");
    expect(await statuses(3, () => zen(s, "sk-a"))).toEqual([200, 200, 401]);
  });

  test("the member's spend limit counts the current UTC month and resets with it", async () => {
    const s = await sim([{ userID: "usr_a", keys: ["sk-a"], spendLimitUSD: 1 }]);
    expect(await statuses(2, () => zen(s, "sk-a"))).toEqual([200, 401]);
    const { body } = await errorOf(await zen(s, "sk-a"));
    expect(body.error).toEqual({
      type: "UserLimitError",
      message: "You have reached your monthly spending limit of $1. Manage your limits here: https://opencode.ai/workspace/wrk_d/members",
    });
    s.clock.set("2026-12-01T00:00:00.000Z");
    expect(await statuses(2, () => zen(s, "sk-a"))).toEqual([200, 401]);
  });
});

describe("row 9: 403 types", () => {
  test("RegionError comes before the limiters and auth: an unknown key abroad gets 403, not 401", async () => {
    const s = await sim([], {}, {}, { trustProxy: true });
    const { status, body } = await errorOf(await go(s, "sk-nobody", "minimax-m2.5", { "cf-ipcountry": "BR" }));
    expect({ status, type: body.error.type }).toEqual({ status: 403, type: "RegionError" });
    expect(body.metadata).toBeUndefined();
  });

  test("regionCheck after-billing keeps the older order", async () => {
    const s = await sim([], {}, { regionCheck: "after-billing" }, { trustProxy: true });
    const { status, body } = await errorOf(await go(s, "sk-nobody", "minimax-m2.5", { "cf-ipcountry": "BR" }));
    expect({ status, type: body.error.type }).toEqual({ status: 401, type: "AuthError" });
  });

  test("RegionError comes before the free limiter: a spent allowance abroad is still a 403", async () => {
    const models = { zen: [{ id: "free-regional", free: true, regions: ["US"] }] };
    const s = await sim([], {}, { models, freeDailyLimit: 0 }, { trustProxy: true });
    const ask = (country: string) => chat(s.zenBaseURL, { model: "free-regional", headers: { ...SESSION, "cf-ipcountry": country } });
    expect(await statuses(2, () => ask("BR"))).toEqual([403, 403]);
    expect(await statuses(1, () => ask("US"))).toEqual([429]);
  });

  test("ModelAccessError: a model outside the workspace's allow-list", async () => {
    const s = await sim([{ userID: "usr_a", keys: ["sk-a"] }], { modelAllowList: ["gpt-5.1"] });
    expect((await zen(s, "sk-a", "gpt-5.1")).status).toBe(200);
    const { status, body } = await errorOf(await zen(s, "sk-a"));
    expect({ status, type: body.error.type, metadata: body.metadata }).toEqual({ status: 403, type: "ModelAccessError", metadata: undefined });
  });

  test("DataPolicyError: a model that needs the data-policy opt-in, until the workspace opts in", async () => {
    const models = { zen: [{ id: "policy-model", dataPolicyOptIn: true }] };
    const s = await sim([{ userID: "usr_a", keys: ["sk-a"] }], {}, { models });
    const { status, body } = await errorOf(await zen(s, "sk-a", "policy-model"));
    expect({ status, type: body.error.type }).toEqual({ status: 403, type: "DataPolicyError" });
    const optedIn = await sim([{ userID: "usr_a", keys: ["sk-a"] }], { dataPolicyOptIn: true }, { models });
    expect((await zen(optedIn, "sk-a", "policy-model")).status).toBe(200);
  });
});

describe("row 10: the Black limit error", () => {
  test("BlackUsageLimitError: 'Subscription quota exceeded. Retry in <time>.', metadata {}", async () => {
    const s = await sim([{ userID: "usr_b", keys: ["sk-b"], black: { plan: "20", limits: { rolling: 1 } } }]);
    await zen(s, "sk-b");
    s.clock.advance(3_600_000 + 30 * 60_000 + 30_000);
    const { status, body, retryAfter } = await errorOf(await zen(s, "sk-b"));
    expect(status).toBe(429);
    // 3 h 29 min 30 s left: minutes are rounded up.
    expect(retryAfter).toBe(String(3 * 3600 + 29 * 60 + 30));
    expect(body).toEqual({
      type: "error",
      error: { type: "BlackUsageLimitError", message: "Subscription quota exceeded. Retry in 3hr 30min." },
      metadata: {},
    });
  });

  test("blackLimitErrorName SubscriptionUsageLimitError: the older name, without metadata", async () => {
    const s = await sim([{ userID: "usr_b", keys: ["sk-b"], black: { plan: "20", limits: { weekly: 1 } } }], {}, { blackLimitErrorName: "SubscriptionUsageLimitError" });
    await zen(s, "sk-b");
    const { body } = await errorOf(await zen(s, "sk-b"));
    expect(body).toEqual({ type: "error", error: { type: "SubscriptionUsageLimitError", message: "Subscription quota exceeded. Retry in 2 days." } });
  });
});

describe("row 11: the Go limit message", () => {
  const member = (limits: Record<string, number>) => [{ userID: "usr_go", keys: ["sk-go"], go: { limits } }];
  const goPage = "To continue using this model now, enable usage from your available balance: https://opencode.ai/workspace/wrk_d/go";

  test("weekly: 'Weekly usage limit reached. Resets in 2 days. ...' with the workspace's Go page", async () => {
    const s = await sim(member({ weekly: 1 }));
    await go(s, "sk-go");
    expect((await errorOf(await go(s, "sk-go"))).body.error.message).toBe(`Weekly usage limit reached. Resets in 2 days. ${goPage}`);
  });

  test("5-hour: hours and minutes; one day reads '1 day'", async () => {
    const s = await sim(member({ "5 hour": 1 }));
    await go(s, "sk-go");
    s.clock.advance(59 * 60_000);
    expect((await errorOf(await go(s, "sk-go"))).body.error.message).toBe(`5-hour usage limit reached. Resets in 4hr 1min. ${goPage}`);
    const monthly = await sim([{ userID: "usr_go", keys: ["sk-go"], go: { limits: { monthly: 1 }, subscribedAt: "2026-10-21T12:00:00Z" } }]);
    await go(monthly, "sk-go");
    expect((await errorOf(await go(monthly, "sk-go"))).body.error.message).toBe(`Monthly usage limit reached. Resets in 1 day. ${goPage}`);
  });
});
