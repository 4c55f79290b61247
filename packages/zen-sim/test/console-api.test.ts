import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseConfig, SimConfigError, type Simulator } from "../src/index.ts";
import { chat, startTestSim } from "./helpers.ts";

const ORG = "org_01JQ7XK3M9TZ4B8N2C6D5E1F0G";
const WRK = "wrk_01K6XGM22R6FM8JVABE9XDQXGH";
const WRK_BLACK = "wrk_01K6XGM22R6FM8JVABE9XDBLCK";
const WRK_PLAIN = "wrk_01K6XGM22R6FM8JVABE9XDPLAN";
const ADMIN = "Fe26.2**console-admin";
const MEMBER = "Fe26.2**console-member";
const MULTI = "Fe26.2**console-multi";
const KEY = "oc_sk_sim_service_key_1";
const GO_KEY = "sk-go-console";

let s: Simulator;
beforeAll(async () => {
  s = await startTestSim({
    config: {
      goRequestCostUSD: 0.25,
      workspaces: [
        {
          id: WRK,
          name: "Acme",
          balanceUSD: 22,
          console: {
            orgID: ORG,
            serviceAccountKeys: [KEY],
            usage: [
              { at: "2026-11-20T09:00:00Z", costUSD: 0.1, requests: 3, inputTokens: 10, outputTokens: 5, cacheReadTokens: 7 },
              { at: "2026-11-15T09:00:00Z", costUSD: 0.2 },
              { at: "2026-10-01T09:00:00Z", costUSD: 5 },
            ],
          },
          members: [
            { userID: "usr_admin", role: "admin", consoleSession: ADMIN, cookie: "legacy-admin", keys: [GO_KEY], go: { subscribedAt: "2026-11-05T09:30:00Z" } },
            { userID: "usr_member", role: "member", consoleSession: MEMBER },
            { userID: "usr_multi", role: "admin", consoleSession: MULTI },
          ],
        },
        { id: WRK_BLACK, name: "Black", members: [{ userID: "usr_multi", role: "admin", consoleSession: MULTI, cookie: "legacy-black", black: { plan: "100" } }] },
        { id: WRK_PLAIN, balanceUSD: -3.5, members: [{ userID: "usr_plain", role: "admin", consoleSession: "Fe26.2**plain", cookie: "legacy-plain" }] },
      ],
    },
  });
});
afterAll(() => s.stop());

function get(path: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(`${s.url}${path}`, { redirect: "manual", ...init, headers });
}
const session = (v: string, org?: string, name = "__Host-console_session") => ({ cookie: `theme=dark; ${name}=${v}`, ...(org ? { "x-org-id": org } : {}) });

describe("console API shapes", () => {
  test("orgs lists the account's orgs without x-org-id; a wrk_ workspace is its own org", async () => {
    expect(await (await get("/console/api/orgs", session(ADMIN))).json()).toEqual([{ id: ORG, name: "Acme" }]);
    expect(await (await get("/console/api/orgs", session(MULTI, undefined, "console_session"))).json()).toEqual([
      { id: ORG, name: "Acme" },
      { id: WRK_BLACK, name: "Black" },
    ]);
  });

  test("orgs/current says whether the org has Go", async () => {
    expect(await (await get("/console/api/orgs/current", session(ADMIN, ORG))).json()).toEqual({ id: ORG, name: "Acme", hasGoSubscription: true });
    // The legacy wrk_ id still works as x-org-id.
    expect(((await (await get("/console/api/orgs/current", session(ADMIN, WRK))).json()) as { id: string }).id).toBe(ORG);
  });

  test("billing status in micro-cent strings; available is another figure", async () => {
    expect(await (await get("/console/api/billing/status", session(ADMIN, ORG))).json()).toEqual({
      billingMode: "prepaid",
      mode: "pay-as-you-go",
      balanceMicroCents: "2200000000",
      availableMicroCents: "2200000000",
    });
    const plain = (await (await get("/console/api/billing/status", session("Fe26.2**plain", WRK_PLAIN))).json()) as { balanceMicroCents: string };
    expect(plain.balanceMicroCents).toBe("-350000000");
  });

  test("go status: meters in micro-cents, the 5-hour block only once open, the month without its own reset", async () => {
    const idle = (await (await get("/console/api/go/status", session(ADMIN, ORG))).json()) as any;
    expect(idle.access.startsAt).toBe("2026-11-05T09:30:00.000Z");
    expect(idle.access.endsAt).toBe("2026-12-05T09:30:00.000Z");
    expect(idle.access.meters.fiveHour).toEqual({ limitMicroCents: "1200000000", usedMicroCents: "0" });
    expect(idle.access.meters.week).toEqual({ startsAt: "2026-11-16T00:00:00.000Z", resetsAt: "2026-11-23T00:00:00.000Z", limitMicroCents: "3000000000", usedMicroCents: "0" });
    expect(idle.access.meters.month).toEqual({ limitMicroCents: "6000000000", usedMicroCents: "0" });
    expect(idle.subscriberUserID).toBe("usr_admin");

    const res = await chat(s.goBaseURL, { model: "glm-5", key: GO_KEY });
    expect(res.status).toBe(200);
    await res.text();
    const used = (await (await get("/console/api/go/status", session(ADMIN, ORG))).json()) as any;
    expect(used.access.meters.fiveHour).toEqual({
      startsAt: "2026-11-20T10:00:00.000Z",
      resetsAt: "2026-11-20T15:00:00.000Z",
      limitMicroCents: "1200000000",
      usedMicroCents: "25000000",
    });
    expect(used.access.meters.month.usedMicroCents).toBe("25000000");
    s.reset();
  });

  test("no Go subscription: a null body, or access null when configured so", async () => {
    expect(await (await get("/console/api/go/status", session("Fe26.2**plain", WRK_PLAIN))).text()).toBe("null");
    s.configure({ consoleNoGoBody: "access-null" });
    expect(((await (await get("/console/api/go/status", session("Fe26.2**plain", WRK_PLAIN))).json()) as { access: unknown }).access).toBeNull();
    s.configure({ consoleNoGoBody: "null" });
  });

  test("usage summary sums the configured usage in the range", async () => {
    const sum = async (range: string) => (await (await get(`/console/api/usage/summary?range=${range}`, session(ADMIN, ORG))).json()) as Record<string, unknown>;
    expect(await sum("30d")).toEqual({
      totalRequests: 4,
      totalInputTokens: 10,
      totalOutputTokens: 5,
      totalCacheReadTokens: 7,
      totalCacheWrite5mTokens: 0,
      totalCacheWrite1hTokens: 0,
      totalCostMicroCents: "30000000",
    });
    expect((await sum("24h")).totalCostMicroCents).toBe("10000000");
    expect((await sum("all")).totalCostMicroCents).toBe("530000000");
    const bad = await get("/console/api/usage/summary?range=1y", session(ADMIN, ORG));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { _tag: string })._tag).toBe("BadRequest");
  });

  test("a service-account key reads its org as Bearer, without a cookie or x-org-id", async () => {
    const bearer = { authorization: `Bearer ${KEY}` };
    expect(await (await get("/console/api/orgs", bearer)).json()).toEqual([{ id: ORG, name: "Acme" }]);
    expect(((await (await get("/console/api/billing/status", bearer)).json()) as { balanceMicroCents: string }).balanceMicroCents).toBe("2200000000");
    expect((await get("/console/api/billing/status", { ...bearer, "x-org-id": ORG })).status).toBe(200);
    expect((await get("/console/api/billing/status", { ...bearer, "x-org-id": WRK_BLACK })).status).toBe(404);
  });
});

describe("console API errors", () => {
  const tagOf = async (r: Response) => [r.status, ((await r.json()) as { _tag: string })._tag];
  test("401 Unauthorized: no session, an unknown one, the old auth cookie, an unknown key", async () => {
    expect(await tagOf(await get("/console/api/orgs"))).toEqual([401, "Unauthorized"]);
    expect(await tagOf(await get("/console/api/orgs", session("Fe26.2**nobody")))).toEqual([401, "Unauthorized"]);
    expect(await tagOf(await get("/console/api/orgs", { cookie: "auth=legacy-admin" }))).toEqual([401, "Unauthorized"]);
    expect(await tagOf(await get("/console/api/orgs", { authorization: "Bearer oc_sk_unknown" }))).toEqual([401, "Unauthorized"]);
  });

  test("400 OrgRequired without x-org-id or with a malformed one", async () => {
    const r = await get("/console/api/billing/status", session(ADMIN));
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ _tag: "OrgRequired", message: "x-org-id is required" });
    expect(await tagOf(await get("/console/api/billing/status", session(ADMIN, "acme")))).toEqual([400, "OrgRequired"]);
  });

  test("404 NotFound for an unknown org and for another account's org", async () => {
    expect(await tagOf(await get("/console/api/billing/status", session(ADMIN, "org_nope")))).toEqual([404, "NotFound"]);
    expect(await tagOf(await get("/console/api/billing/status", session(ADMIN, WRK_BLACK)))).toEqual([404, "NotFound"]);
  });

  test("403 Forbidden for a member on admin pages; orgs/current stays readable", async () => {
    for (const path of ["/console/api/billing/status", "/console/api/go/status", "/console/api/usage/summary?range=30d"]) {
      expect(await tagOf(await get(path, session(MEMBER, ORG)))).toEqual([403, "Forbidden"]);
    }
    expect((await get("/console/api/orgs/current", session(MEMBER, ORG))).status).toBe(200);
  });

  test("403 SsoRequired for a cookie session of an SSO org; its service-account key still reads", async () => {
    s.configure({
      workspaces: [{ id: WRK, console: { orgID: ORG, ssoRequired: true, serviceAccountKeys: [KEY] }, members: [{ userID: "usr_admin", role: "admin", consoleSession: ADMIN }] }],
    });
    // The last test on this simulator: its workspaces stay replaced.
    expect(await tagOf(await get("/console/api/billing/status", session(ADMIN, ORG)))).toEqual([403, "SsoRequired"]);
    expect((await get("/console/api/billing/status", { authorization: `Bearer ${KEY}` })).status).toBe(200);
  });
});

describe("the old dashboard since the move", () => {
  let d: Simulator;
  beforeAll(async () => {
    d = await startTestSim({
      config: {
        workspaces: [
          { id: WRK, members: [{ userID: "usr_admin", role: "admin", cookie: "legacy-admin" }] },
          { id: WRK_BLACK, members: [{ userID: "usr_black", role: "admin", cookie: "legacy-black", black: { plan: "20" } }] },
        ],
      },
    });
  });
  afterAll(() => d.stop());
  const at = (path: string, init: RequestInit = {}) => fetch(`${d.url}${path}`, { redirect: "manual", headers: { cookie: "auth=legacy-admin" }, ...init });

  test("a workspace without Black: 302 to /console/login for GET, 303 otherwise, whatever the session", async () => {
    for (const path of [`/workspace/${WRK}/billing`, `/workspace/${WRK}`, "/workspace/wrk_unknown/billing"]) {
      const r = await at(path);
      expect([r.status, r.headers.get("location")]).toEqual([302, "/console/login"]);
    }
    const post = await at(`/workspace/${WRK}/billing`, { method: "POST" });
    expect([post.status, post.headers.get("location")]).toEqual([303, "/console/login"]);
    expect((await fetch(`${d.url}/console/login`)).status).toBe(200);
  });

  test("a Black workspace keeps its billing page", async () => {
    const r = await fetch(`${d.url}/workspace/${WRK_BLACK}/billing`, { redirect: "manual", headers: { cookie: "auth=legacy-black" } });
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("subscription.get");
  });

  test("dashboardMigration off: the old dashboard for every workspace", async () => {
    d.configure({ dashboardMigration: "off" });
    try {
      expect((await at(`/workspace/${WRK}/billing`)).status).toBe(200);
    } finally {
      d.configure({ dashboardMigration: "on" });
    }
  });
});

describe("console config", () => {
  test("a bad org id or mode names the field", () => {
    const error = (input: unknown) => {
      try {
        parseConfig(input);
      } catch (e) {
        if (e instanceof SimConfigError) return e.field;
      }
      return undefined;
    };
    expect(error({ workspaces: [{ id: "w", console: { orgID: "acme" } }] })).toBe("workspaces[0].console.orgID");
    expect(error({ workspaces: [{ id: "w", console: { billingMode: "postpaid" } }] })).toBe("workspaces[0].console.billingMode");
    expect(error({ dashboardMigration: "maybe" })).toBe("dashboardMigration");
    expect(error({ workspaces: [{ id: "w", console: { usage: [{ costUSD: 1 }] } }] })).toBe("workspaces[0].console.usage[0].at");
  });
});
