import { describe, expect, test } from "bun:test";
import { clientIdentityFromAddress } from "../src/ip.ts";

describe("clientIdentityFromAddress", () => {
  test("IPv4 is kept as it is", () => {
    expect(clientIdentityFromAddress("203.0.113.7")).toBe("203.0.113.7");
  });

  test("IPv6 is truncated to its /64", () => {
    expect(clientIdentityFromAddress("2001:db8:aaaa:bbbb:1:2:3:4")).toBe("2001:db8:aaaa:bbbb::/64");
    expect(clientIdentityFromAddress("2001:0DB8:00aa:0bbb:ffff:2:3:4")).toBe("2001:db8:aa:bbb::/64");
  });

  test("two hosts of one /64 are one client, a neighbouring /64 is another", () => {
    const a = clientIdentityFromAddress("2001:db8:1:2:aaaa::1");
    expect(clientIdentityFromAddress("2001:db8:1:2::99")).toBe(a);
    expect(clientIdentityFromAddress("2001:db8:1:3::1")).not.toBe(a);
  });

  test("'::' compression expands in the right place", () => {
    expect(clientIdentityFromAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientIdentityFromAddress("::1")).toBe("0:0:0:0::/64");
    expect(clientIdentityFromAddress("2001:db8:5::")).toBe("2001:db8:5:0::/64");
    expect(clientIdentityFromAddress("::")).toBe("0:0:0:0::/64");
  });

  test("IPv4-mapped addresses are the IPv4 client, in dotted or hex form", () => {
    expect(clientIdentityFromAddress("::ffff:198.51.100.4")).toBe("198.51.100.4");
    expect(clientIdentityFromAddress("::FFFF:c633:6404")).toBe("198.51.100.4");
    expect(clientIdentityFromAddress("0:0:0:0:0:ffff:198.51.100.4")).toBe("198.51.100.4");
  });

  test("brackets, ports and zone ids are stripped", () => {
    expect(clientIdentityFromAddress("[2001:db8:1:2::5]")).toBe("2001:db8:1:2::/64");
    expect(clientIdentityFromAddress("[2001:db8:1:2::5]:443")).toBe("2001:db8:1:2::/64");
    expect(clientIdentityFromAddress("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientIdentityFromAddress(" [::ffff:10.0.0.1] ")).toBe("10.0.0.1");
  });

  test("text that is not an address is kept (lower-cased) instead of being merged with others", () => {
    expect(clientIdentityFromAddress("2001:db8:::1")).toBe("2001:db8:::1");
    expect(clientIdentityFromAddress("1:2:3:4:5:6:7:8:9")).toBe("1:2:3:4:5:6:7:8:9");
    expect(clientIdentityFromAddress("::ffff:300.1.1.1")).toBe("::ffff:300.1.1.1");
  });
});
