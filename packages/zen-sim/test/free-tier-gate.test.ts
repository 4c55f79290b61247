import { afterEach, describe, expect, test } from "bun:test";
import { parseConfig, SimConfigError, type SimOptions, type Simulator } from "../src/index.ts";
import { canonicalSessionID, chat, errorOf, startTestSim, statuses } from "./helpers.ts";

// Research: gateway-drift-2026.md, section 1.

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(config: SimOptions["config"] = {}, options: SimOptions = {}): Promise<Simulator> {
  const s = await startTestSim({ ...options, config: { newClientBonus: false, ...config } });
  running.push(s);
  return s;
}

const FREE = "big-pickle";
const FREE_TIER_BODY = {
  type: "error",
  error: {
    type: "FreeTierError",
    message: "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode",
  },
};
const KEYED = {
  workspaces: [
    { id: "wrk_gate", balanceUSD: 5, members: [{ userID: "usr_gate", keys: ["sk-gate"] }] },
    { id: "wrk_gate_go", members: [{ userID: "usr_gate_go", keys: ["sk-gate-go"], go: {} }] },
  ],
};

describe("free-tier gate, default mode 'session'", () => {
  test("an anonymous free request without a canonical x-opencode-session is 403 FreeTierError, exactly", async () => {
    const s = await sim();
    const refused = [
      null,
      "",
      crypto.randomUUID(),
      `ses_${crypto.randomUUID()}`,
      `ses_${"a".repeat(24)}`,
      "ses_e2e",
      // Upper-case hex, one character short, one too many: all outside the shape.
      canonicalSessionID().replace(/^ses_[0-9a-f]/, "ses_A"),
      canonicalSessionID().slice(0, -1),
      `${canonicalSessionID()}x`,
    ];
    for (const session of refused) {
      const response = await chat(s.zenBaseURL, { model: FREE, session });
      expect({ session, status: response.status, body: await response.json() }).toEqual({ session, status: 403, body: FREE_TIER_BODY });
      expect(response.headers.get("retry-after")).toBeNull();
    }
    expect((await chat(s.zenBaseURL, { model: FREE })).status).toBe(200);
    expect((await chat(s.zenBaseURL, { model: FREE, key: "public" })).status).toBe(200);
    expect((await chat(s.zenBaseURL, { model: FREE, key: "public", session: "ses_e2e" })).status).toBe(403);
  });

  test("it runs before the free limiter: refused requests use none of the allowance", async () => {
    const s = await sim({ freeDailyLimit: 1 });
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: FREE, session: null }))).toEqual([403, 403, 403]);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
    // Once the allowance is spent, a bad session is still told it is the gate, not the limit.
    expect((await chat(s.zenBaseURL, { model: FREE, session: null })).status).toBe(403);
  });

  test("requests with a key are not gated, on free or paid models; an unknown model is still 401 ModelError", async () => {
    const s = await sim(KEYED);
    expect((await chat(s.zenBaseURL, { model: FREE, key: "sk-gate", session: null })).status).toBe(200);
    expect((await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-gate", session: null })).status).toBe(200);
    const unknown = await errorOf(await chat(s.zenBaseURL, { model: "no-such-model", session: null }));
    expect([unknown.status, unknown.body.error.type]).toEqual([401, "ModelError"]);
  });

  test("freeTierGate 'off' is the gateway before 2026-09-17; POST /__sim/config switches it", async () => {
    const s = await sim({ freeTierGate: "off" });
    expect((await chat(s.zenBaseURL, { model: FREE, session: null })).status).toBe(200);
    const post = (body: unknown) => fetch(`${s.url}/__sim/config`, { method: "POST", body: JSON.stringify(body) });
    expect((await post({ freeTierGate: "session" })).status).toBe(200);
    expect((await chat(s.zenBaseURL, { model: FREE, session: null })).status).toBe(403);
    const bad = await post({ freeTierGate: "strict" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("freeTierGate");
  });
});

describe("free-tier gate, mode 'session+ua' (unconfirmed)", () => {
  const withUA = (s: Simulator, ua: string | null, session?: string | null) =>
    chat(s.zenBaseURL, { model: FREE, session, headers: ua === null ? {} : { "user-agent": ua } });

  test("an OpenCode User-Agent at or above minClientVersion is served, in either written form", async () => {
    const s = await sim({ freeTierGate: "session+ua" });
    for (const ua of ["opencode/latest/1.17.0/cli", "opencode/1.17.0", "opencode/beta/1.18.2-beta.1/desktop", "opencode/2.0.0 (linux)"]) {
      expect({ ua, status: (await withUA(s, ua)).status }).toEqual({ ua, status: 200 });
    }
  });

  test("an OpenCode version below the minimum is 426 Upgrade Required", async () => {
    const s = await sim({ freeTierGate: "session+ua" });
    for (const ua of ["opencode/latest/1.16.9/cli", "opencode/1.17.0-beta.3", "opencode/pawwork/0.3.0/cli"]) {
      const { status, body } = await errorOf(await withUA(s, ua));
      expect({ ua, status, body }).toEqual({
        ua,
        status: 426,
        body: { type: "error", error: { type: "UpgradeRequiredError", message: "OpenCode 1.17.0 or newer is required to use the free tier" } },
      });
    }
  });

  test("a User-Agent that is not OpenCode's, or names no version, is the same 403 as a bad session", async () => {
    const s = await sim({ freeTierGate: "session+ua" });
    for (const ua of ["curl/8.5.0", "opencode", "opencode/latest", "OpenCodeX/1.18.0", `opencode/${"1".repeat(600)}.0.0`]) {
      const response = await withUA(s, ua);
      expect({ ua, status: response.status, body: await response.json() }).toEqual({ ua, status: 403, body: FREE_TIER_BODY });
    }
    // The session is checked first: a good User-Agent does not make up for a missing session.
    expect((await withUA(s, "opencode/latest/1.18.0/cli", null)).status).toBe(403);
  });

  test("minClientVersion moves the line", async () => {
    const s = await sim({ freeTierGate: "session+ua", minClientVersion: "1.18.0" });
    expect((await withUA(s, "opencode/latest/1.17.5/cli")).status).toBe(426);
    expect((await withUA(s, "opencode/latest/1.18.0/cli")).status).toBe(200);
  });

  test("mode 'session' ignores the User-Agent", async () => {
    const s = await sim();
    expect((await withUA(s, "curl/8.5.0")).status).toBe(200);
  });
});

describe("session id freshness (unconfirmed, off by default)", () => {
  const NOW = Date.parse("2026-11-20T10:00:00.000Z");
  const minted = (s: Simulator, offsetMs: number) => chat(s.zenBaseURL, { model: FREE, session: canonicalSessionID(NOW + offsetMs) });

  test("with freeTierSessionMaxAgeSec the id's time must be that close to the simulated clock", async () => {
    const s = await sim({ freeTierSessionMaxAgeSec: 600 });
    expect(await statuses(3, () => minted(s, 0))).toEqual([200, 200, 200]);
    expect((await minted(s, -600_000)).status).toBe(200);
    expect((await minted(s, -601_000)).status).toBe(403);
    expect((await minted(s, 601_000)).status).toBe(403);
    // The clock moves on: the same minting time is now too old.
    s.clock.advance(3_600_000);
    expect((await minted(s, 0)).status).toBe(403);
  });

  test("by default an old id in the canonical shape is served", async () => {
    const s = await sim();
    expect((await minted(s, -400 * 86_400_000)).status).toBe(200);
  });
});

describe("free-tier gate 'closed' (unconfirmed: canonical ids refused again, opencode2api #29)", () => {
  test("every anonymous free request is 403 FreeTierError, the runtime's canonical ids and OpenCode's User-Agent included; keyed requests are served", async () => {
    const s = await sim({ ...KEYED, freeTierGate: "closed" });
    for (const session of [canonicalSessionID(), null]) {
      const response = await chat(s.zenBaseURL, { model: FREE, session, headers: { "user-agent": "opencode/latest/1.18.3/cli" } });
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 403, body: FREE_TIER_BODY });
    }
    expect((await chat(s.zenBaseURL, { model: FREE, key: "sk-gate" })).status).toBe(200);
    expect(parseConfig({ freeTierGate: "closed" }).freeTierGate).toBe("closed");
  });
});

describe("Go endpoint session requirement", () => {
  const MISSING = {
    type: "error",
    error: {
      type: "MissingSessionID",
      message:
        "Error from provider (Console Go): Request is missing x-opencode-session and cannot be routed efficiently. " +
        "Please see https://opencode.ai/docs/go/#where-can-i-use-it",
    },
  };

  test("a Go request without x-opencode-session is 400 MissingSessionID; any value passes", async () => {
    const s = await sim(KEYED);
    for (const session of [null, ""]) {
      const response = await chat(s.goBaseURL, { model: "glm-5", key: "sk-gate-go", session });
      expect({ status: response.status, body: await response.json() }).toEqual({ status: 400, body: MISSING });
    }
    expect((await chat(s.goBaseURL, { model: "glm-5", key: "sk-gate-go", session: "conversation-42" })).status).toBe(200);
    // The Zen endpoint's paid models do not need it.
    expect((await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-gate", session: null })).status).toBe(200);
  });

  test("refused before the limiters, so it uses nothing; goSessionGate 'off' lifts it", async () => {
    const s = await sim({ ...KEYED, paidRateLimitPerMinute: 1 });
    expect(await statuses(2, () => chat(s.goBaseURL, { model: "glm-5", key: "sk-gate-go", session: null }))).toEqual([400, 400]);
    expect(await statuses(2, () => chat(s.goBaseURL, { model: "glm-5", key: "sk-gate-go" }))).toEqual([200, 429]);
    s.configure({ goSessionGate: "off" });
    s.clock.advance(60_000);
    expect((await chat(s.goBaseURL, { model: "glm-5", key: "sk-gate-go", session: null })).status).toBe(200);
  });

  test("/messages and /responses on the Go endpoint need it too", async () => {
    const s = await sim(KEYED);
    const shapes = [
      { path: "messages", body: { model: "glm-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] } },
      { path: "responses", body: { model: "glm-5", input: "hi" } },
    ];
    for (const { path, body } of shapes) {
      const send = (session?: string) =>
        fetch(`${s.goBaseURL}/${path}`, {
          method: "POST",
          headers: { authorization: "Bearer sk-gate-go", "content-type": "application/json", ...(session ? { "x-opencode-session": session } : {}) },
          body: JSON.stringify(body),
        });
      const refused = await send();
      expect({ status: refused.status, body: await refused.json() }).toEqual({ status: 400, body: MISSING });
      expect((await send("conversation-42")).status).toBe(200);
    }
  });

  test("the usage endpoint does not need it", async () => {
    const s = await sim(KEYED);
    const response = await fetch(`${s.goBaseURL}/usage`, { headers: { authorization: "Bearer sk-gate-go" } });
    expect(response.status).toBe(200);
  });
});

describe("gate configuration", () => {
  test("defaults: the session gate on, the User-Agent and freshness rules off, the Go session required", () => {
    expect(parseConfig({})).toMatchObject({
      freeTierGate: "session",
      minClientVersion: "1.17.0",
      freeTierSessionMaxAgeSec: null,
      goSessionGate: "required",
    });
  });

  test("bad values are errors naming the field", () => {
    for (const [input, field] of [
      [{ freeTierGate: "strict" }, "freeTierGate"],
      [{ minClientVersion: "1.17" }, "minClientVersion"],
      [{ minClientVersion: "1.17.0-beta.1" }, "minClientVersion"],
      [{ freeTierSessionMaxAgeSec: 0 }, "freeTierSessionMaxAgeSec"],
      [{ goSessionGate: "maybe" }, "goSessionGate"],
      [{ models: { zen: [{ id: "m", free: true, dailyLimit: -1 }] } }, "models.zen[0].dailyLimit"],
    ] as const) {
      let error: unknown;
      try {
        parseConfig(input);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SimConfigError);
      expect((error as SimConfigError).field).toBe(field);
    }
  });
});
