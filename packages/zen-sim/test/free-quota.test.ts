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

  test("a client first seen less than 7 days ago gets double, then the normal allowance", async () => {
    const s = await sim({}, { freeDailyLimit: 2, newClientBonus: true });
    expect(await statuses(5, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 200, 200, 429]);
    s.clock.advance(6 * 86_400_000);
    expect(await statuses(5, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 200, 200, 429]);
    s.clock.advance(86_400_000);
    expect(await statuses(3, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 200, 429]);
  });

  test("the allowance comes back at 00:00 UTC of the simulated clock", async () => {
    const s = await sim({ now: "2026-11-20T23:59:00Z" }, { freeDailyLimit: 1 });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
    s.clock.advance(59_999);
    expect(await statuses(1, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([429]);
    s.clock.advance(1);
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
  });

  test("messages are localised from accept-language but the type is not", async () => {
    const s = await sim({}, { freeDailyLimit: 0 });
    const en = await errorOf(await chat(s.zenBaseURL, { model: FREE }));
    const fr = await errorOf(await chat(s.zenBaseURL, { model: FREE, headers: { "accept-language": "fr-FR,fr;q=0.9,en;q=0.5" } }));
    const zh = await errorOf(await chat(s.zenBaseURL, { model: FREE, headers: { "accept-language": "zh-CN" } }));
    expect([en.body.error.type, fr.body.error.type, zh.body.error.type]).toEqual(Array(3).fill("FreeUsageLimitError"));
    expect(new Set([en.body.error.message, fr.body.error.message, zh.body.error.message]).size).toBe(3);
    expect(fr.body.error.message).toContain("gratuite");
    expect(zh.body.error.message).toContain("免费");
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

  test("with trustProxy a request without x-real-ip counts against the socket address", async () => {
    const s = await sim({ trustProxy: true }, { freeDailyLimit: 1 });
    expect(await statuses(2, () => chat(s.zenBaseURL, { model: FREE }))).toEqual([200, 429]);
    expect(s.requests()[0]?.clientIP).toBe("127.0.0.1");
  });

  test("without trustProxy x-real-ip is ignored", async () => {
    const s = await sim({}, { freeDailyLimit: 1 });
    expect(await statuses(1, fromIP(s, "203.0.113.1"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "203.0.113.2"))).toEqual([429]);
    expect(s.requests().map((r) => r.clientIP)).toEqual(["127.0.0.1", "127.0.0.1"]);
  });

  test("one IPv6 /64 is one client; the IPv4-mapped form is the IPv4 client", async () => {
    const s = await sim({ trustProxy: true }, { freeDailyLimit: 1 });
    expect(await statuses(1, fromIP(s, "2001:db8:7:8::1"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "2001:db8:7:8:ffff::2"))).toEqual([429]);
    expect(await statuses(1, fromIP(s, "2001:db8:7:9::1"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "198.51.100.9"))).toEqual([200]);
    expect(await statuses(1, fromIP(s, "::ffff:198.51.100.9"))).toEqual([429]);
    expect(s.requests()[1]?.clientIP).toBe("2001:db8:7:8::/64");
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
