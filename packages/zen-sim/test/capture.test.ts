import { afterEach, describe, expect, test } from "bun:test";
import { RequestLog } from "../src/capture.ts";
import { fingerprint, type Simulator } from "../src/index.ts";
import { chat, randomSecret, startTestSim } from "./helpers.ts";

const running: Simulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

describe("captured requests", () => {
  test("keys, cookies and install tokens are reduced to fingerprints and appear nowhere", async () => {
    const key = randomSecret("sk-planted-");
    const cookie = randomSecret("Fe26.2**planted");
    const install = randomSecret("inst-planted-");
    const s = await startTestSim({
      config: { workspaces: [{ id: "wrk_cap", balanceUSD: 1, members: [{ userID: "usr_cap", role: "admin", keys: [key], cookie }] }] },
    });
    running.push(s);
    await chat(s.zenBaseURL, { model: "gpt-5.1", key, headers: { "x-pawwork-install": install, "x-api-key": key } });
    // manual: a migrated workspace's page redirects to the console sign-in, which would be captured too.
    await fetch(`${s.url}/workspace/wrk_cap/billing`, { headers: { cookie: `theme=dark; auth=${cookie}` }, redirect: "manual" });
    await fetch(`${s.goBaseURL}/usage`, { headers: { authorization: `Bearer ${key}`, "proxy-authorization": `Basic ${key}` } });

    const [chatRequest, billingRequest, usageRequest] = s.requests();
    expect(chatRequest?.headers.authorization).toBe(`Bearer ${fingerprint(key)}`);
    expect(chatRequest?.headers.authorization).toMatch(/^Bearer fp:[0-9a-f]{8}$/);
    expect(chatRequest?.headers["x-api-key"]).toBe(fingerprint(key));
    expect(chatRequest?.headers["x-pawwork-install"]).toBe(fingerprint(install));
    expect(chatRequest?.headers["x-opencode-client"]).toBe("cli");
    expect(chatRequest?.status).toBe(200);
    expect(billingRequest?.headers.cookie).toBe(fingerprint(`theme=dark; auth=${cookie}`));
    expect(usageRequest?.headers["proxy-authorization"]).toBe(`Basic ${fingerprint(key)}`);

    const served = await (await fetch(`${s.url}/__sim/requests`)).text();
    for (const secret of [key, cookie, install]) {
      expect(served).not.toContain(secret);
      expect(JSON.stringify(s.requests())).not.toContain(secret);
    }
  });

  test("entries record time, method, path, client IP and response status", async () => {
    const s = await startTestSim({ now: "2026-11-20T10:00:00Z" });
    running.push(s);
    await fetch(`${s.url}/nope?token=abc`);
    expect(s.requests()).toEqual([
      {
        time: "2026-11-20T10:00:00.000Z",
        method: "GET",
        path: "/nope",
        clientIP: "127.0.0.1",
        headers: expect.any(Object),
        status: 404,
      },
    ]);
  });

  test("requests() returns copies: callers cannot edit the log", async () => {
    const s = await startTestSim();
    running.push(s);
    await fetch(`${s.url}/nope`);
    const first = s.requests()[0]!;
    first.headers.host = "tampered";
    first.path = "/tampered";
    expect(s.requests()[0]?.path).toBe("/nope");
    expect(s.requests()[0]?.headers.host).not.toBe("tampered");
  });

  test("the log keeps only the most recent entries", () => {
    const log = new RequestLog(3);
    for (let i = 0; i < 5; i++) log.record(new Request(`http://sim/r${i}`), `/r${i}`, "127.0.0.1", new Date(0));
    expect(log.list().map((e) => e.path)).toEqual(["/r2", "/r3", "/r4"]);
  });
});
