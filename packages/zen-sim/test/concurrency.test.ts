import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Simulator } from "../src/index.ts";
import { chat, startTestSim } from "./helpers.ts";

const CONCURRENT = 500;

let s: Simulator;
beforeAll(async () => {
  s = await startTestSim({
    config: {
      paidRateLimitPerMinute: CONCURRENT * 2,
      requestCostUSD: 0.01,
      workspaces: [{ id: "wrk_load", balanceUSD: 100, members: [{ userID: "usr_load", keys: ["sk-load"] }] }],
    },
  });
});
afterAll(() => s.stop());

test(`${CONCURRENT} concurrent streamed requests from loopback all complete`, async () => {
  const bodies = await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      const response = await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-load", stream: true });
      return { status: response.status, text: await response.text() };
    }),
  );
  expect(bodies.filter((b) => b.status !== 200)).toEqual([]);
  // Each stream ends with [DONE] and the gateway's cost trailer.
  expect(bodies.filter((b) => !b.text.endsWith('data: [DONE]\n\ndata: {"choices":[],"cost":"0"}\n\n'))).toHaveLength(0);
  const captured = s.requests();
  expect(captured).toHaveLength(CONCURRENT);
  expect(captured.every((r) => r.status === 200)).toBe(true);
}, 30_000);

test("the charge for each concurrent request is applied exactly once", async () => {
  s.reset();
  s.configure({
    requestCostUSD: 1,
    workspaces: [{ id: "wrk_load", balanceUSD: 100, members: [{ userID: "usr_load", keys: ["sk-load"] }] }],
  });
  const statuses = await Promise.all(
    Array.from({ length: 150 }, async () => {
      const response = await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-load", stream: true });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  expect(statuses.filter((x) => x === 200)).toHaveLength(100);
  expect(statuses.filter((x) => x === 401)).toHaveLength(50);
}, 30_000);
