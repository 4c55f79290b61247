import { afterEach, describe, expect, test } from "bun:test";
import type { SimConfigInput, Simulator } from "../src/index.ts";
import { chat, errorOf, startTestSim, statuses } from "./helpers.ts";

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(config: SimConfigInput): Promise<Simulator> {
  const s = await startTestSim({ config: { newClientBonus: false, ...config } });
  running.push(s);
  return s;
}

type WorkspaceInput = NonNullable<SimConfigInput["workspaces"]>[number];

function workspace(overrides: Partial<WorkspaceInput> = {}, member: Record<string, unknown> = {}): WorkspaceInput {
  return { id: "wrk_paid", balanceUSD: 10, members: [{ userID: "usr_paid", keys: ["sk-paid"], ...member }], ...overrides };
}

const PAID = "claude-sonnet-4-5";

async function expectError(response: Promise<Response>, status: number, type: string) {
  const { status: actual, body, retryAfter } = await errorOf(await response);
  expect({ status: actual, type: body.error.type }).toEqual({ status, type });
  expect(body.type).toBe("error");
  return { body, retryAfter };
}

describe("paid-model rate limit", () => {
  test("per key per model per minute: 429 RateLimitError with retry-after 60", async () => {
    const s = await sim({ paidRateLimitPerMinute: 2, workspaces: [workspace()] });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }))).toEqual([200, 200]);
    const { body, retryAfter } = await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 429, "RateLimitError");
    expect(retryAfter).toBe("60");
    expect(body.metadata).toEqual({});
    // Another model has its own counter; the next minute starts afresh.
    expect((await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-paid" })).status).toBe(200);
    s.clock.advance(60_000);
    expect((await chat(s.zenBaseURL, { model: PAID, key: "sk-paid" })).status).toBe(200);
  });
});

describe("authentication and billing", () => {
  test("paid model without a key: 401 AuthError 'Missing API key.'", async () => {
    const s = await sim({});
    const { body } = await expectError(chat(s.zenBaseURL, { model: PAID }), 401, "AuthError");
    expect(body.error.message).toBe("Missing API key.");
    expect(body.metadata).toBeUndefined();
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "public" }), 401, "AuthError");
  });

  test("unknown key: 401 AuthError, on paid and on free models", async () => {
    const s = await sim({ workspaces: [workspace()] });
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-nobody" }), 401, "AuthError");
    await expectError(chat(s.zenBaseURL, { model: "big-pickle", key: "sk-nobody" }), 401, "AuthError");
  });

  test("blocked workspace: 401 AuthError", async () => {
    const s = await sim({ workspaces: [workspace({ blocked: true })] });
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 401, "AuthError");
  });

  test("model not offered: 401 ModelError", async () => {
    const s = await sim({ workspaces: [workspace()] });
    await expectError(chat(s.zenBaseURL, { model: "no-such-model", key: "sk-paid" }), 401, "ModelError");
    // Go models are not offered on the Zen endpoint.
    await expectError(chat(s.zenBaseURL, { model: "glm-5", key: "sk-paid" }), 401, "ModelError");
  });

  test("no balance: 401 CreditsError", async () => {
    const s = await sim({ workspaces: [workspace({ balanceUSD: 0 })] });
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 401, "CreditsError");
  });

  test("each request is charged until the balance runs out", async () => {
    const s = await sim({ requestCostUSD: 0.5, workspaces: [workspace({ balanceUSD: 1 })] });
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }))).toEqual([200, 200, 401]);
    s.reset();
    expect((await chat(s.zenBaseURL, { model: PAID, key: "sk-paid" })).status).toBe(200);
  });

  test("workspace monthly limit: 401 MonthlyLimitError", async () => {
    const s = await sim({ requestCostUSD: 1, workspaces: [workspace({ monthlyLimitUSD: 5, monthlyUsageUSD: 4 })] });
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }))).toEqual([200]);
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 401, "MonthlyLimitError");
  });

  test("member spend limit: 401 UserLimitError", async () => {
    const s = await sim({ requestCostUSD: 1, workspaces: [workspace({}, { spendLimitUSD: 2 })] });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }))).toEqual([200, 200]);
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 401, "UserLimitError");
  });

  test("free models are not charged to a keyed workspace", async () => {
    const s = await sim({ requestCostUSD: 1, workspaces: [workspace({ balanceUSD: 1 })] });
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: "gpt-5-nano", key: "sk-paid" }))).toEqual([200, 200, 200]);
    expect((await chat(s.zenBaseURL, { model: PAID, key: "sk-paid" })).status).toBe(200);
  });

  // Research: gateway-drift-2026.md, section 3, row 7.
  test("the minute limit counts only requests that reached a provider, whatever it answered", async () => {
    const s = await sim({
      paidRateLimitPerMinute: 1,
      workspaces: [workspace(), workspace({ id: "wrk_broke", balanceUSD: 0, members: [{ userID: "usr_broke", keys: ["sk-broke"] }] })],
      faults: [{ model: PAID, status: 500, count: 1 }],
    });
    // Refused by the gateway: nothing reached a provider, nothing is counted.
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-unknown" }), 401, "AuthError");
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-unknown" }), 401, "AuthError");
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-broke" }), 401, "CreditsError");
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-broke" }), 401, "CreditsError");
    // The provider's own 500 still used the minute's one request.
    expect((await chat(s.zenBaseURL, { model: PAID, key: "sk-paid" })).status).toBe(500);
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 429, "RateLimitError");
  });
});

describe("Black subscription", () => {
  const black = (useBalance: boolean) => ({ black: { plan: "20" as const, useBalance, limits: { rolling: 1, weekly: 3 } } });

  test("the subscription pays (no balance needed) until a window is used up: 429 BlackUsageLimitError", async () => {
    const s = await sim({ requestCostUSD: 0.5, workspaces: [workspace({ balanceUSD: 0 }, black(false))] });
    s.clock.set("2026-11-20T10:00:00Z");
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }))).toEqual([200, 200]);
    s.clock.advance(3_600_000);
    const { body, retryAfter } = await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 429, "BlackUsageLimitError");
    expect(body.metadata).toEqual({});
    // The 5-hour window opened at 10:00 at the first spend; it is 11:00.
    expect(retryAfter).toBe(String(4 * 3600));
    s.clock.advance(4 * 3_600_000);
    expect((await chat(s.zenBaseURL, { model: PAID, key: "sk-paid" })).status).toBe(200);
  });

  test("with useBalance an exhausted subscription falls back to the balance", async () => {
    const s = await sim({ requestCostUSD: 1, workspaces: [workspace({ balanceUSD: 1 }, black(true))] });
    // 1 on the subscription, 1 on the balance, then the balance is empty.
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }))).toEqual([200, 200]);
    await expectError(chat(s.zenBaseURL, { model: PAID, key: "sk-paid" }), 401, "CreditsError");
  });
});
