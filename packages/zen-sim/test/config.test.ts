import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig, SimConfigError, startSimulator, type Simulator } from "../src/index.ts";
import { chat, startTestSim, statuses } from "./helpers.ts";

function configError(input: unknown): SimConfigError {
  try {
    parseConfig(input);
  } catch (error) {
    if (error instanceof SimConfigError) return error;
    throw error;
  }
  throw new Error("expected a SimConfigError");
}

describe("config validation", () => {
  test("defaults fill everything that is left out", () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      freeDailyLimit: 200,
      fallbackDailyLimit: 20,
      newClientBonus: true,
      clientHeaderValues: ["cli", "desktop", "tui", "app", "vscode"],
      paidRateLimitPerMinute: 500,
      requestCostUSD: 0.01,
      goRequestCostUSD: 0.05,
      defaultRegion: "US",
      goUsageResetFormat: "resetsAt",
      goLimitStatus: 429,
      workspaces: [],
      faults: [],
    });
  });

  test("errors name the field path and the type found", () => {
    const error = configError({ workspaces: [{ id: "wrk_a", members: [{ userID: "u1" }, { userID: "u2", keys: [42] }] }] });
    expect(error.field).toBe("workspaces[0].members[1].keys[0]");
    expect(error.message).toBe("workspaces[0].members[1].keys[0]: expected string, got number");
    expect(configError({ workspaces: [{ id: "w", members: [{ userID: "u", keys: "sk" }] }] }).message).toBe(
      "workspaces[0].members[0].keys: expected array, got string",
    );
  });

  test("unknown fields are rejected at any depth, so typos do not pass silently", () => {
    expect(configError({ freeDailyLimt: 3 }).message).toBe("freeDailyLimt: unknown field");
    expect(configError({ workspaces: [{ id: "w", balance: 3 }] }).field).toBe("workspaces[0].balance");
    expect(configError({ faults: [{ status: 500, cout: 2 }] }).field).toBe("faults[0].cout");
  });

  test("field names that are not identifiers are quoted", () => {
    const error = configError({ workspaces: [{ id: "w", members: [{ userID: "u", go: { limits: { "5 hour": -1 } } }] }] });
    expect(error.field).toBe('workspaces[0].members[0].go.limits["5 hour"]');
  });

  test("missing required fields and bad enum values", () => {
    expect(configError({ faults: [{}] }).message).toBe("faults[0].status: missing (expected number)");
    expect(configError({ goUsageResetFormat: "epoch" }).field).toBe("goUsageResetFormat");
    expect(configError({ freeDailyLimit: 1.5 }).field).toBe("freeDailyLimit");
    expect(configError({ faults: [{ status: 500, kind: "raw" }] }).field).toBe("faults[0].body");
    expect(configError([]).message).toBe("expected object, got array");
  });

  test("a key used twice, the reserved 'public' key, and a duplicate workspace are rejected without printing the key", () => {
    const secret = "sk-do-not-print-me";
    const twice = configError({
      workspaces: [
        { id: "w1", members: [{ userID: "u1", keys: [secret] }] },
        { id: "w2", members: [{ userID: "u2", keys: [secret] }] },
      ],
    });
    expect(twice.field).toBe("workspaces[1].members[0].keys[0]");
    expect(twice.message).not.toContain(secret);
    expect(configError({ workspaces: [{ id: "w", members: [{ userID: "u", keys: ["public"] }] }] }).field).toBe(
      "workspaces[0].members[0].keys[0]",
    );
    expect(configError({ workspaces: [{ id: "w" }, { id: "w" }] }).field).toBe("workspaces[1].id");
  });

  test("the fallback allowance is never larger than the normal one", () => {
    // Left out (or null): the default 20, capped at freeDailyLimit.
    expect(parseConfig({ freeDailyLimit: 2 }).fallbackDailyLimit).toBe(2);
    expect(parseConfig({ freeDailyLimit: 0 }).fallbackDailyLimit).toBe(0);
    expect(parseConfig({ freeDailyLimit: 50 }).fallbackDailyLimit).toBe(20);
    expect(parseConfig({ freeDailyLimit: 3, fallbackDailyLimit: null }).fallbackDailyLimit).toBe(3);
    expect(parseConfig({ freeDailyLimit: 3, fallbackDailyLimit: 3 }).fallbackDailyLimit).toBe(3);
    // Set above it: an error that names both fields.
    const error = configError({ freeDailyLimit: 5, fallbackDailyLimit: 6 });
    expect(error.field).toBe("fallbackDailyLimit");
    expect(error.message).toContain("fallbackDailyLimit: 6 is above");
    expect(error.message).toContain("freeDailyLimit (5)");
  });

  test("startSimulator throws SimConfigError for bad config", async () => {
    await expect(startSimulator({ config: { freeDailyLimit: -1 } })).rejects.toBeInstanceOf(SimConfigError);
  });
});

describe("POST /__sim/config and configure()", () => {
  let s: Simulator;
  beforeAll(async () => {
    s = await startTestSim({ config: { freeDailyLimit: 1, newClientBonus: false } });
  });
  afterAll(() => s.stop());

  const post = (body: string) => fetch(`${s.url}/__sim/config`, { method: "POST", body });

  test("a bad patch is a 400 naming the field, and changes nothing", async () => {
    const response = await post(JSON.stringify({ freeDailyLimit: 5, workspaces: [{ id: "w", members: [{ userID: 7 }] }] }));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { field: "workspaces[0].members[0].userID", message: "workspaces[0].members[0].userID: expected string, got number" },
    });
    expect(await Promise.all([0, 1].map(async () => (await chat(s.zenBaseURL, { model: "big-pickle" })).status))).toContain(429);
  });

  test("invalid JSON is a 400", async () => {
    const response = await post("{");
    expect(response.status).toBe(400);
  });

  test("a valid patch merges into the running config", async () => {
    s.reset();
    expect((await post(JSON.stringify({ freeDailyLimit: 3 }))).status).toBe(200);
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await chat(s.zenBaseURL, { model: "big-pickle" })).status);
    // newClientBonus: false from the start options is still in force.
    expect(results).toEqual([200, 200, 200, 429]);
  });

  test("a patch that lowers freeDailyLimit lowers a fallback that was left to its default", async () => {
    s.reset();
    expect((await post(JSON.stringify({ freeDailyLimit: 2 }))).status).toBe(200);
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: "big-pickle", client: null }))).toEqual([200, 200, 429]);
    const response = await post(JSON.stringify({ fallbackDailyLimit: 9 }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { field: string } }).error.field).toBe("fallbackDailyLimit");
  });

  test("configure() validates like the endpoint", () => {
    expect(() => s.configure({ paidRateLimitPerMinute: "many" } as never)).toThrow(SimConfigError);
  });
});
