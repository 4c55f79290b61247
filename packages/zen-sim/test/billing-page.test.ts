import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HydrationWriter, queryKey, renderBillingPage } from "../src/billing-page.ts";
import type { Simulator } from "../src/index.ts";
import { chat, startTestSim } from "./helpers.ts";

const ADMIN_COOKIE = "Fe26.2**admin-session";
const MEMBER_COOKIE = "Fe26.2**member-session";
const OUTSIDER_COOKIE = "Fe26.2**outsider-session";
const WRK = "wrk_01K6XGM22R6FM8JVABE9XDQXGH";
const WRK_BLACK = "wrk_01K6XGM22R6FM8JVABE9XDBLCK";

let s: Simulator;
beforeAll(async () => {
  s = await startTestSim({
    now: "2026-11-20T10:00:00Z",
    config: {
      requestCostUSD: 0.125,
      // The dashboard before 2026-09-20, when every workspace still had this page (console-api.test.ts has the move).
      dashboardMigration: "off",
      workspaces: [
        {
          id: WRK,
          name: "Acme <Dev>",
          balanceUSD: 22,
          monthlyLimitUSD: 20,
          customerID: "cus_sim",
          paymentMethod: { last4: "4242" },
          reload: { enabled: true, amountUSD: 20, triggerUSD: 5, error: "card declined", errorAt: "2026-11-19T08:00:00Z" },
          members: [
            { userID: "usr_admin", role: "admin", keys: ["sk-admin"], cookie: ADMIN_COOKIE, go: { subscribedAt: "2026-11-01T00:00:00Z" } },
            { userID: "usr_member", role: "member", cookie: MEMBER_COOKIE },
          ],
        },
        {
          id: WRK_BLACK,
          balanceUSD: 0,
          members: [{ userID: "usr_admin", role: "admin", cookie: ADMIN_COOKIE, black: { plan: "200", useBalance: true } }],
        },
        { id: "wrk_other", members: [{ userID: "usr_out", role: "admin", cookie: OUTSIDER_COOKIE }] },
      ],
    },
  });
});
afterAll(() => s.stop());

const get = (path: string, cookie?: string) =>
  fetch(`${s.url}${path}`, { redirect: "manual", headers: cookie === undefined ? {} : { cookie: `auth=${cookie}` } });

/**
 * Runs the page's hydration scripts to see what a browser would get. Only the
 * simulator's own output is run here, to check the encoder against the real
 * JavaScript semantics; the parser in packages/usage must never do this.
 */
function hydrate(html: string): Record<string, unknown> {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "").filter((js) => js.includes("$R["));
  const hy = { r: {} as Record<string, { v?: unknown } | unknown> };
  const self: { $R?: unknown } = {};
  const refs: unknown[] = [];
  for (const js of scripts) new Function("self", "_$HY", "$R", js)(self, hy, refs);
  return Object.fromEntries(Object.entries(hy.r).map(([k, v]) => [k, v instanceof Promise ? (v as { v?: unknown }).v : v]));
}

describe("billing page access", () => {
  test("no cookie or an unknown cookie redirects to /auth/authorize", async () => {
    for (const cookie of [undefined, "Fe26.2**stale"]) {
      const response = await get(`/workspace/${WRK}/billing`, cookie);
      expect([response.status, response.headers.get("location")]).toEqual([302, "/auth/authorize"]);
    }
  });

  test("a session for another account redirects to /auth/authorize", async () => {
    const response = await get(`/workspace/${WRK}/billing`, OUTSIDER_COOKIE);
    expect([response.status, response.headers.get("location")]).toEqual([302, "/auth/authorize"]);
  });

  test("unknown workspace is a 404 page", async () => {
    const response = await get("/workspace/wrk_NOPE/billing", ADMIN_COOKIE);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("text/html");
  });

  test("a member who is not an admin gets the page without billing.get", async () => {
    const response = await get(`/workspace/${WRK}/billing`, MEMBER_COOKIE);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("_$HY.r[");
    expect(html).not.toContain("billing.get");
    expect(Object.keys(hydrate(html))).toEqual([queryKey("workspace.get", WRK)]);
  });

  test("the dashboard root leads to the last workspace seen", async () => {
    const first = await get("/", ADMIN_COOKIE);
    expect([first.status, first.headers.get("location")]).toEqual([302, `/workspace/${WRK}`]);
    await get(`/workspace/${WRK_BLACK}/billing`, ADMIN_COOKIE);
    const after = await get("/workspace", ADMIN_COOKIE);
    expect([after.status, after.headers.get("location")]).toEqual([302, `/workspace/${WRK_BLACK}`]);
    expect((await get("/")).headers.get("location")).toBe("/auth/authorize");
  });
});

describe("billing page content", () => {
  test("uses the hydration forms real pages use", async () => {
    const html = await (await get(`/workspace/${WRK}/billing`, ADMIN_COOKIE)).text();
    expect(html).toContain(`(self.$R=self.$R||{})["server-fn:0"]=[];`);
    expect(html).toContain("gtag(");
    const createHelper = String.raw`(?:\$R\[2\]|\(\$R\[2\]=r=>\(r\.p=new Promise\(\(s,f\)=>\{r\.s=s,r\.f=f\}\)\)\))`;
    const pending = new RegExp(
      String.raw`_\$HY\.r\["billing\.get\[\\"${WRK}\\"\]"\]=\$R\[(\d+)\]=${createHelper}\(\$R\[(\d+)\]=\{p:0,s:0,f:0\}\);`,
    ).exec(html);
    expect(pending).not.toBeNull();
    const placeholder = pending![2];
    const settle = html.indexOf(`($R[${placeholder}],$R[`);
    expect(settle).toBeGreaterThan(0);
    // Settled in a later <script> than the one that declared the query.
    expect(html.slice(pending!.index, settle)).toContain("</script>");
    for (const form of ["!0", "void 0", 'new Date("', "($R[16]=(r,d)=>"]) expect(html).toContain(form);
    // A page with two pending queries names the helpers by slot the second time.
    const black = await (await get(`/workspace/${WRK_BLACK}/billing`, ADMIN_COOKIE)).text();
    for (const form of ["!1", "=$R[2]($R[", "\n<script>$R[16]($R["]) expect(black).toContain(form);
    expect(html).toContain("<h1>Acme &#60;Dev&#62;</h1>");
  });

  test("decodes to the workspace's billing record, money in micro-cents except limits and reload", async () => {
    const data = hydrate(await (await get(`/workspace/${WRK}/billing`, ADMIN_COOKIE)).text());
    expect(data[queryKey("billing.get", WRK)]).toEqual({
      customerID: "cus_sim",
      paymentMethodID: `pm_sim_${WRK}`,
      paymentMethodType: "card",
      paymentMethodLast4: "4242",
      balance: 2_200_000_000,
      reload: true,
      reloadAmount: 20,
      reloadAmountMin: 10,
      reloadTrigger: 5,
      reloadTriggerMin: 5,
      monthlyLimit: 20,
      monthlyUsage: 0,
      timeMonthlyUsageUpdated: new Date("2026-11-20T10:00:00Z"),
      reloadError: "card declined",
      timeReloadError: new Date("2026-11-19T08:00:00Z"),
      subscription: null,
      subscriptionID: undefined,
      subscriptionPlan: undefined,
      lite: { plan: "go", timeSubscribed: new Date("2026-11-01T00:00:00Z") },
      liteSubscriptionID: `sub_go_sim_${WRK}`,
    });
    expect(data[queryKey("subscription.get", WRK)]).toBeUndefined();
  });

  test("reflects charges made through the gateway", async () => {
    expect((await chat(s.zenBaseURL, { model: "gpt-5.1", key: "sk-admin" })).status).toBe(200);
    const data = hydrate(await (await get(`/workspace/${WRK}/billing`, ADMIN_COOKIE)).text());
    expect(data[queryKey("billing.get", WRK)]).toMatchObject({ balance: 2_187_500_000, monthlyUsage: 12_500_000 });
    s.reset();
  });

  test("a Black workspace has subscription.get and the subscription in billing.get", async () => {
    const html = await (await get(`/workspace/${WRK_BLACK}/billing`, ADMIN_COOKIE)).text();
    const data = hydrate(html);
    expect(data[queryKey("billing.get", WRK_BLACK)]).toMatchObject({
      subscription: { plan: "200", useBalance: true },
      subscriptionPlan: "200",
      lite: null,
      monthlyLimit: null,
      reloadError: undefined,
    });
    expect(data[queryKey("subscription.get", WRK_BLACK)]).toEqual({
      plan: "200",
      useBalance: true,
      rollingUsage: { status: "ok", resetInSec: 5 * 3600, usagePercent: 0 },
      weeklyUsage: { status: "ok", resetInSec: (2 * 24 + 14) * 3600, usagePercent: 0 },
    });
  });
});

describe("HydrationWriter", () => {
  test("encodes values in seroval's forms", () => {
    const w = new HydrationWriter();
    expect(w.value(null)).toBe("null");
    expect(w.value(undefined)).toBe("void 0");
    expect([w.value(true), w.value(false)]).toEqual(["!0", "!1"]);
    expect([w.value(NaN), w.value(-Infinity), w.value(-0), w.value(1e21), w.value(12n)]).toEqual(["NaN", "-Infinity", "-0", "1e+21", "12n"]);
    expect(w.value("</script><b>\u2028")).toBe('"\\u003C/script>\\u003Cb>\\u2028"');
    // Integer-like keys come first, as in any JavaScript object.
    expect(w.value({ a: 1, "b-c": 2, "3": 3, $x_1: 4 })).toBe('$R[20]={3:3,a:1,"b-c":2,$x_1:4}');
    // A "__proto__" key is data (as from JSON.parse): quoted, so a decoder sees an ordinary key.
    expect(w.value(JSON.parse('{"__proto__":1}'))).toBe('$R[21]={"__proto__":1}');
    expect(w.value([, 1, ,])).toBe("$R[22]=[,1,,]");
    expect(w.value(new Map([["k", new Set([1])]]))).toBe('$R[23]=new Map([["k",$R[24]=new Set([1])]])');
    expect(w.value(new Date("2026-01-02T03:04:05Z"))).toBe('$R[25]=new Date("2026-01-02T03:04:05.000Z")');
  });

  test("never hands out the helper slots 2 and 16", () => {
    const w = new HydrationWriter();
    const slots = Array.from({ length: 40 }, () => w.slot());
    expect(slots).not.toContain(2);
    expect(slots).not.toContain(16);
    expect(new Set(slots).size).toBe(40);
  });

  test("a page for a non-admin has no billing section", () => {
    const html = renderBillingPage({ workspaceID: "wrk_x", workspaceName: "x", billing: null, blackSubscription: null });
    expect(html).not.toContain("billing.get");
    expect(html).not.toContain("subscription.get");
    expect(html).not.toContain("billing-section");
  });
});
