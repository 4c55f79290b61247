import { describe, expect, test } from "bun:test";
import { ipKey } from "../src/ip.ts";

// Research: gateway-drift-2026.md, section 3, row 5.
describe("ipKey", () => {
  test("IPv4 is kept as it is", () => {
    expect(ipKey("203.0.113.7")).toBe("203.0.113.7");
  });

  test("a fully written IPv6 address is cut to its first four fields: one /64", () => {
    expect(ipKey("2001:db8:aaaa:bbbb:1:2:3:4")).toBe("2001:db8:aaaa:bbbb");
    expect(ipKey("2001:db8:aaaa:bbbb:ffff::9")).toBe("2001:db8:aaaa:bbbb");
  });

  test("a compressed IPv6 address is cut as written, not as expanded", () => {
    expect(ipKey("2001:db8::1")).toBe("2001:db8::1");
    expect(ipKey("2001:db8::2")).toBe("2001:db8::2");
    expect(ipKey("2a02:1234:5678::1")).toBe("2a02:1234:5678:");
    expect(ipKey("2a02:1234:5678::ffff")).toBe("2a02:1234:5678:");
    expect(ipKey("::1")).toBe("::1");
  });

  test("IPv4-mapped addresses are kept as written, not merged with the IPv4 client", () => {
    expect(ipKey("::ffff:198.51.100.4")).toBe("::ffff:198.51.100.4");
    expect(ipKey("::ffff:198.51.100.4")).not.toBe(ipKey("198.51.100.4"));
  });

  test("no address is the one bucket 'unknown'", () => {
    expect(ipKey(null)).toBe("unknown");
    expect(ipKey(undefined)).toBe("unknown");
    expect(ipKey("")).toBe("unknown");
    expect(ipKey("  ")).toBe("unknown");
  });

  test("nothing is normalised: case and spelling make different clients", () => {
    expect(ipKey("2001:DB8:AAAA:BBBB::1")).toBe("2001:DB8:AAAA:BBBB");
    expect(ipKey("2001:0db8:aaaa:bbbb::1")).not.toBe(ipKey("2001:db8:aaaa:bbbb::1"));
  });
});
