import { afterEach, describe, expect, test } from "bun:test";
import type { SimOptions, Simulator } from "../src/index.ts";
import { chat, errorOf, startTestSim, statuses } from "./helpers.ts";

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function sim(options: SimOptions = {}, config: SimOptions["config"] = {}): Promise<Simulator> {
  const s = await startTestSim({ ...options, config: { newClientBonus: false, ...config } });
  running.push(s);
  return s;
}

const FREE = "big-pickle";
const KEYED = {
  workspaces: [{ id: "wrk_free", balanceUSD: 5, members: [{ userID: "usr_free", keys: ["sk-free-test"] }] }],
};

describe("free-model daily allowance", () => {
  test("429 FreeUsageLimitError with metadata {} and retry-after to the next UTC midnight", async () => {
    const s = await sim({}, { freeDailyLimit: 2 });
    s.clock.set("2026-11-20T10:02:57Z");
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200]);
    const { status, retryAfter, body } = await errorOf(await chat(s.zenBaseURL, { model: FREE }));
    expect(status).toBe(429);
    expect(retryAfter).toBe("50223");
    expect(body).toEqual({
      type: "error",
      error: { type: "FreeUsageLimitError", message: expect.any(String) },
      metadata: {},
    });
  });

  test("retry-after rounds a partial second up", async () => {
    const s = await sim({ now: "2026-11-20T23:59:58.500Z" }, { freeDailyLimit: 0 });
    expect((await chat(s.zenBaseURL, { model: FREE })).headers.get("retry-after")).toBe("2");
  });

  test("requests with a key count against the same per-IP allowance", async () => {
    const s = await sim({}, { freeDailyLimit: 2, ...KEYED });
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE, key: "sk-free-test" }))).toEqual([200]);
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200]);
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE, key: "sk-free-test" }))).toEqual([429]);
  });

  test("the literal key 'public' is anonymous", async () => {
    const s = await sim({}, { freeDailyLimit: 1 });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE, key: "public" }))).toEqual([200, 429]);
  });

  test("paid models do not use the free allowance", async () => {
    const s = await sim({}, { freeDailyLimit: 0, ...KEYED });
    expect((await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-free-test" })).status).toBe(200);
  });

  test("without an expected x-opencode-client the smaller fallback allowance applies", async () => {
    const s = await sim({}, { freeDailyLimit: 4, fallbackDailyLimit: 1 });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE, client: null }))).toEqual([200, 429]);
    // An unknown client name is no better than none.
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE, client: "curl" }))).toEqual([429]);
    // Same IP, same counter, larger allowance.
    expect(await statuses(4, () => chat(s.zenBaseURL, { model: FREE, client: "desktop" }))).toEqual([200, 200, 200, 429]);
  });

  test("clientHeaderValues decides which clients count as identified", async () => {
    const s = await sim({}, { freeDailyLimit: 3, fallbackDailyLimit: 1, clientHeaderValues: ["pawwork"] });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE, client: "cli" }))).toEqual([200, 429]);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE, client: "pawwork" }))).toEqual([200, 200]);
  });

  // Research: gateway-drift-2026.md, section 3, row 4.
  test("a new client gets double while its lifetime count is under 7 × the daily limit, not for 7 days", async () => {
    const s = await sim({}, { freeDailyLimit: 2, newClientBonus: true });
    // Three days of 4: a lifetime count of 12, under 14, so the fourth day still starts doubled ...
    for (let day = 0; day < 3; day++) {
      expect(await statuses(5, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 200, 200, 429]);
      s.clock.advance(86_400_000);
    }
    // ... until the 14th request: from then on the normal 2, already used today.
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 429]);
    // A week on, a client that used little is still "new"; one that used 14 is not.
    s.clock.advance(7 * 86_400_000);
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 429]);
  });

  test("a client used little in its first week is still doubled after it", async () => {
    const s = await sim({}, { freeDailyLimit: 2, newClientBonus: true });
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200]);
    s.clock.advance(10 * 86_400_000);
    expect(await statuses(5, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 200, 200, 429]);
  });

  test("the doubling is only for identified clients on models without their own limit", async () => {
    const s = await sim(
      {},
      {
        freeDailyLimit: 2,
        fallbackDailyLimit: 1,
        newClientBonus: true,
        models: { zen: [{ id: FREE, free: true }, { id: "own-limit-free", free: true, dailyLimit: 2 }] },
      },
    );
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE, client: null }))).toEqual([200, 429]);
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: "own-limit-free" }))).toEqual([200, 200, 429]);
  });

  // Research: gateway-drift-2026.md, section 3, row 3.
  test("every request that reached a provider counts, upstream errors included", async () => {
    const s = await sim(
      {},
      {
        freeDailyLimit: 3,
        faults: [
          { model: FREE, status: 500, count: 1 },
          { model: FREE, status: 429, count: 1, provider: "openai" },
        ],
      },
    );
    expect(await statuses(4, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([500, 429, 200, 429]);
    const last = await errorOf(await chat(s.zenBaseURL, { model: FREE }));
    expect(last.body.error.type).toBe("FreeUsageLimitError");
  });

  test("a stream the provider broke off counts too", async () => {
    const s = await sim({}, { freeDailyLimit: 1, faults: [{ model: FREE, status: 500, afterChunks: 1, midStream: "abort" }] });
    const broken = await chat(s.zenBaseURL, { model: FREE, stream: true });
    await broken.arrayBuffer().catch(() => undefined);
    expect((await errorOf(await chat(s.zenBaseURL, { model: FREE }))).body.error.type).toBe("FreeUsageLimitError");
  });

  test("a model with its own dailyLimit has its own bucket, with that allowance", async () => {
    const s = await sim(
      {},
      {
        freeDailyLimit: 3,
        fallbackDailyLimit: 1,
        models: {
          zen: [
            { id: FREE, free: true },
            { id: "limited-free", free: true, dailyLimit: 2 },
            { id: "other-limited-free", free: true, dailyLimit: 1 },
          ],
        },
      },
    );
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: "limited-free" }))).toEqual([200, 200, 429]);
    // The shared allowance and the other model's bucket are untouched ...
    expect(await statuses(4, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 200, 429]);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: "other-limited-free" }))).toEqual([200, 429]);
    // ... and an unidentified client gets the fallback allowance there too.
    s.clock.advance(86_400_000);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: "limited-free", client: null }))).toEqual([200, 429]);
  });

  test("the allowance comes back at 00:00 UTC of the simulated clock", async () => {
    const s = await sim({ now: "2026-11-20T23:59:00Z" }, { freeDailyLimit: 1 });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
    s.clock.advance(59_999);
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([429]);
    s.clock.advance(1);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
  });

  // Research: gateway-drift-2026.md, section 3, row 6.
  test("the message is RateLimitError's text, localised the same way: only the type differs", async () => {
    const s = await sim({}, { freeDailyLimit: 0, paidRateLimitPerMinute: 0, ...KEYED });
    const languages = ["en", "fr-FR,fr;q=0.9,en;q=0.5", "zh-CN"];
    const free = await Promise.all(
      languages.map(async (l) => (await errorOf(await chat(s.zenBaseURL, { model: FREE, headers: { "accept-language": l } }))).body),
    );
    const paid = await Promise.all(
      languages.map(async (l) =>
        (await errorOf(await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-free-test", headers: { "accept-language": l } }))).body,
      ),
    );
    expect(free[0]?.error.message).toBe("Rate limit exceeded. Please try again later.");
    expect(free.map((b) => b.error.type)).toEqual(Array(3).fill("FreeUsageLimitError"));
    expect(paid.map((b) => b.error.type)).toEqual(Array(3).fill("RateLimitError"));
    expect(free.map((b) => b.error.message)).toEqual(paid.map((b) => b.error.message));
    expect(new Set(free.map((b) => b.error.message)).size).toBe(3);
  });
});

describe("client identity", () => {
  const fromIP = (s: Simulator, ip: string) => () => chat(s.zenBaseURL, { model: FREE, headers: { "x-real-ip": ip } });

  test("with trustProxy each x-real-ip has its own allowance", async () => {
    const s = await sim({ trustProxy: true }, { freeDailyLimit: 1 });
    expect(await statuses(2, fromIP(s, "203.0.113.1"))).toEqual([200, 429]);
    expect(await statuses(1, fromIP(s, "203.0.113.2"))).toEqual([200]);
    expect(s.requests().map((r) => r.clientIP)).toEqual(["203.0.113.1", "203.0.113.1", "203.0.113.2"]);
  });

  // Research: gateway-drift-2026.md, section 3, row 5.
  test("with trustProxy every request without x-real-ip shares the one bucket 'unknown'", async () => {
    const s = await sim({ trustProxy: true }, { freeDailyLimit: 1 });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
    expect(s.requests()[0]?.clientIP).toBe("unknown");
    // The socket address is not used: the same machine with an x-real-ip is a fresh client.
    expect(await statuses(1, fromIP(s, "127.0.0.1"))).toEqual([200]);
  });

  test("without trustProxy x-real-ip is ignored", async () => {
    const s = await sim({}, { freeDailyLimit: 1 });
    expect(await statuses(1, fromIP(s, "203.0.113.1"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "203.0.113.2"))).toEqual([429]);
    expect(s.requests().map((r) => r.clientIP)).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  test("IPv6 is counted per first four written fields; IPv4-mapped as written", async () => {
    const s = await sim({ trustProxy: true }, { freeDailyLimit: 1 });
    expect(await statuses(1, fromIP(s, "2001:db8:7:8:1:2:3:4"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "2001:db8:7:8:ffff::2"))).toEqual([429]);
    // Compressed: "2001:db8::1" is its own key, so its neighbour ::2 is another client ...
    expect(await statuses(1, fromIP(s, "2001:db8::1"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "2001:db8::2"))).toEqual([200]);
    // ... while "2a02:1234:5678::1" and "::ffff" are both "2a02:1234:5678:".
    expect(await statuses(1, fromIP(s, "2a02:1234:5678::1"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "2a02:1234:5678::ffff"))).toEqual([429]);
    expect(await statuses(1, fromIP(s, "198.51.100.9"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "::ffff:198.51.100.9"))).toEqual([200]);
    expect(s.requests().map((r) => r.clientIP)).toEqual([
      "2001:db8:7:8",
      "2001:db8:7:8",
      "2001:db8::1",
      "2001:db8::2",
      "2a02:1234:5678:",
      "2a02:1234:5678:",
      "198.51.100.9",
      "::ffff:198.51.100.9",
    ]);
  });

  test("quotaKey install: two installs behind one IP have separate allowances", async () => {
    const s = await sim({ quotaKey: "install" }, { freeDailyLimit: 1 });
    const install = (token: string) => () => chat(s.zenBaseURL, { model: FREE, headers: { "x-pawwork-install": token } });
    expect(await statuses(2, install("inst-a"))).toEqual([200, 429]);
    expect(await statuses(2, install("inst-b"))).toEqual([200, 429]);
    // Without the header the IP is the identity, and it has not been used yet.
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
  });

  test("quotaKey ip: the install header makes no difference", async () => {
    const s = await sim({}, { freeDailyLimit: 1 });
    const install = (token: string) => () => chat(s.zenBaseURL, { model: FREE, headers: { "x-pawwork-install": token } });
    expect(await statuses(1, install("inst-a"))).toEqual([200]);
    expect(await statuses(1, install("inst-b"))).toEqual([429]);
  });
});
