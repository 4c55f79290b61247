import { describe, expect, test } from "bun:test";
import { isAtLeast, openCodeVersion } from "../src/client-version.ts";

describe("openCodeVersion", () => {
  test("reads OpenCode's opencode/<channel>/<version>/<client> and the short opencode/<version>", () => {
    expect(openCodeVersion("opencode/latest/1.18.3/cli")).toEqual({ core: [1, 18, 3], pre: null });
    expect(openCodeVersion("opencode/1.17.0")).toEqual({ core: [1, 17, 0], pre: null });
    expect(openCodeVersion("OpenCode/beta/1.19.0-beta.2/desktop (darwin)")).toEqual({ core: [1, 19, 0], pre: "beta.2" });
  });

  test("anything else has no version", () => {
    for (const ua of [null, "", "opencode", "opencode/latest/cli", "curl/8.5.0", "Mozilla/5.0 opencode/1.18.0", "opencodex/1.18.0", "opencode/v1.18.0"]) {
      expect(openCodeVersion(ua)).toBeNull();
    }
    expect(openCodeVersion(`opencode/1.18.0 ${"x".repeat(1_000)}`)).toBeNull();
  });
});

describe("isAtLeast", () => {
  test("semantic-version order; a pre-release is below its release", () => {
    const v = (core: [number, number, number], pre: string | null = null) => ({ core, pre });
    expect(isAtLeast(v([1, 17, 0]), [1, 17, 0])).toBe(true);
    expect(isAtLeast(v([1, 17, 1]), [1, 17, 0])).toBe(true);
    expect(isAtLeast(v([1, 18, 0], "beta.1"), [1, 17, 0])).toBe(true);
    expect(isAtLeast(v([2, 0, 0]), [1, 17, 0])).toBe(true);
    expect(isAtLeast(v([1, 17, 0], "beta.1"), [1, 17, 0])).toBe(false);
    expect(isAtLeast(v([1, 16, 99]), [1, 17, 0])).toBe(false);
    expect(isAtLeast(v([0, 99, 0]), [1, 17, 0])).toBe(false);
    expect(isAtLeast(v([1, 9, 0]), [1, 17, 0])).toBe(false);
  });
});
