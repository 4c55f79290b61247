import { describe, expect, test } from "bun:test";
import { isCanonicalSessionID, sessionIDSkewMs } from "../src/session-id.ts";
import { canonicalSessionID } from "./helpers.ts";

describe("session ids", () => {
  test("the canonical shape: ses_ + 12 lower-case hex + 14 base62", () => {
    expect(isCanonicalSessionID(canonicalSessionID())).toBe(true);
    expect(isCanonicalSessionID("ses_0123456789abABCDEFGHIJKLMN")).toBe(true);
    for (const bad of [null, "", "ses_", "ses_0123456789aBABCDEFGHIJKLMN", "ses_0123456789abABCDEFGHIJKLM-", "msg_0123456789abABCDEFGHIJKLMN"]) {
      expect(isCanonicalSessionID(bad)).toBe(false);
    }
  });

  test("the time inside a descending id reads back to the millisecond, across the 2^36 ms wrap", () => {
    const now = Date.parse("2026-11-20T10:00:00.000Z");
    expect(sessionIDSkewMs(canonicalSessionID(now), now)).toBe(0);
    expect(sessionIDSkewMs(canonicalSessionID(now - 90_000), now)).toBe(90_000);
    expect(sessionIDSkewMs(canonicalSessionID(now + 5_000), now)).toBe(5_000);
    // Just either side of a wrap of the 36-bit millisecond field.
    const wrap = Math.ceil(now / 2 ** 36) * 2 ** 36;
    expect(sessionIDSkewMs(canonicalSessionID(wrap - 1_000), wrap + 1_000)).toBe(2_000);
    expect(sessionIDSkewMs(canonicalSessionID(wrap + 1_000), wrap - 1_000)).toBe(2_000);
  });
});
