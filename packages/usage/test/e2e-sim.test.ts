/**
 * End-to-end against the gateway simulator (@pawwork/zen-sim), which serves
 * the billing page in the same seroval encoding as the real console.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { type Simulator, startSimulator } from "../../zen-sim/src/index.ts"
import { runUsageCommand } from "../src/cli.ts"
import { fetchGoUsage } from "../src/go.ts"
import { fetchZenBilling } from "../src/zen.ts"
import { WS, WS_BLACK, expectCodeAsync, fakeIO } from "./helpers.ts"

const ADMIN_COOKIE = "sim-admin-cookie-Zq81xVtr0pLm"
const MEMBER_COOKIE = "sim-member-cookie-Hc72bNwq5sKe"
const BLACK_COOKIE = "sim-black-cookie-Rt55uYpa9dFg"
const GO_KEY = "sk-sim-go-key-Pp4w0r9TzQ"
const START = "2026-11-21T12:00:00.000Z"

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({
    now: START,
    frozenClock: true,
    config: {
      // The legacy dashboard for every workspace, as before 2026-09-20 (e2e-console.test.ts has today's).
      dashboardMigration: "off",
      workspaces: [
        {
          id: WS,
          name: "Paw Work",
          balanceUSD: 22,
          monthlyLimitUSD: 20,
          monthlyUsageUSD: 0.125,
          reload: { enabled: true, amountUSD: 20, triggerUSD: 5, error: "card declined" },
          members: [
            { userID: "usr_admin", role: "admin", cookie: ADMIN_COOKIE, keys: [GO_KEY], go: { limits: { "5 hour": 12, weekly: 30, monthly: 60 } } },
            { userID: "usr_member", role: "member", cookie: MEMBER_COOKIE },
          ],
        },
        {
          id: WS_BLACK,
          balanceUSD: 0,
          members: [{ userID: "usr_black", role: "admin", cookie: BLACK_COOKIE, black: { plan: "200", limits: { rolling: 10, weekly: 50 } } }],
        },
      ],
    },
  })
})

afterAll(async () => {
  await sim?.stop()
})

describe("against @pawwork/zen-sim", () => {
  test("admin cookie: discovery + billing", async () => {
    const b = await fetchZenBilling({ baseURL: sim.url, cookie: `auth=${ADMIN_COOKIE}` })
    expect(b.workspaceID).toBe(WS)
    expect(b.balanceUSD).toBe(22)
    expect(b.monthlyUsageUSD).toBe(0.125)
    expect(b.monthlyLimitUSD).toBe(20)
    expect(b.reload).toEqual({ enabled: true, amountUSD: 20, triggerUSD: 5, error: "card declined" })
    expect(b.subscription).toBe("go")
  })

  test("Black subscription windows", async () => {
    const b = await fetchZenBilling({ baseURL: sim.url, cookie: `auth=${BLACK_COOKIE}`, workspaceID: WS_BLACK })
    expect(b.subscription).toBe("black-200")
    expect(b.black?.plan).toBe("200")
    expect(b.black?.rolling.status).toBe("ok")
    expect(typeof b.black?.weekly.resetInSec).toBe("number")
  })

  test("member cookie -> not_admin; unknown cookie -> cookie_expired; other workspace -> cookie_expired", async () => {
    await expectCodeAsync(fetchZenBilling({ baseURL: sim.url, cookie: `auth=${MEMBER_COOKIE}` }), "not_admin")
    await expectCodeAsync(fetchZenBilling({ baseURL: sim.url, cookie: "auth=not-a-session" }), "cookie_expired")
    await expectCodeAsync(fetchZenBilling({ baseURL: sim.url, cookie: `auth=${MEMBER_COOKIE}`, workspaceID: WS_BLACK }), "cookie_expired")
  })

  test("unknown workspace -> workspace_not_found", async () => {
    await expectCodeAsync(fetchZenBilling({ baseURL: sim.url, cookie: `auth=${ADMIN_COOKIE}`, workspaceID: "wrk_01K00000000000000000000000" }), "workspace_not_found")
  })

  test("Go usage endpoint", async () => {
    const g = await fetchGoUsage({ baseURL: sim.goBaseURL, apiKey: GO_KEY })
    expect(g.workspaceID).toBe(WS)
    for (const w of [g.rolling, g.weekly, g.monthly]) {
      expect(w.status).toBe("ok")
      expect(Number.isNaN(Date.parse(w.resetsAt))).toBe(false)
    }
    await expectCodeAsync(fetchGoUsage({ baseURL: sim.goBaseURL, apiKey: "sk-unknown-key-000000" }), "auth")
  })

  test("CLI end to end, cookie never printed", async () => {
    const io = fakeIO({ env: { OC_COOKIE: `Cookie: auth=${ADMIN_COOKIE}` } })
    expect(await runUsageCommand(["zen", "--cookie-env", "OC_COOKIE", "--base-url", sim.url, "--json"], io)).toBe(0)
    // Only the old `auth` cookie: the legacy page is the one source, its figures under `legacy`.
    expect(JSON.parse(io.out.join("")).legacy.balanceUSD).toBe(22)
    expect(io.text()).not.toContain(ADMIN_COOKIE)
  })
})
