/**
 * `usage zen` end to end against @pawwork/zen-sim as the dashboard is since 2026-09-20: the console
 * API for migrated workspaces (by session cookie and by service-account key), the legacy billing
 * page for a Black one, and each failure with its code. No credential reaches any output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { DEFAULT_GO_MODELS, type Simulator, startSimulator } from "../../zen-sim/src/index.ts"
import { runUsageCommand } from "../src/cli.ts"
import { WS, WS_BLACK, WS_OTHER, fakeIO } from "./helpers.ts"

const ORG = "org_01JQ7XK3M9TZ4B8N2C6D5E1F0G"
const ADMIN_SESSION = "Fe26.2**simCONSOLEadmin7Yt2Qp0Lx9Rw**planted"
const MEMBER_SESSION = "Fe26.2**simCONSOLEmember3Hb8Kc1Vn6Js**planted"
const SSO_SESSION = "Fe26.2**simCONSOLEsso5Gd4Fa2Mz7Pq**planted"
const BLACK_SESSION = "Fe26.2**simCONSOLEblack8Uv6Wx4Ty2Rs**planted"
const BLACK_AUTH = "Fe26.2**simLEGACYauthBLACK1Qa2Ws3Ed**planted"
const ADMIN_AUTH = "Fe26.2**simLEGACYauthADMIN4Rf5Tg6Yh**planted"
const SERVICE_KEY = "oc_sk_simSERVICEkey9Ik8Uj7Yh6Tg5Rf4"
const GO_KEY = "sk-simGOkeyPLANTED1234567890abcd"
const ALL_SECRETS = [ADMIN_SESSION, MEMBER_SESSION, SSO_SESSION, BLACK_SESSION, BLACK_AUTH, ADMIN_AUTH, SERVICE_KEY, GO_KEY]
const START = "2026-11-21T12:00:00.000Z"
const NOW = Date.parse(START)

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({
    now: START,
    frozenClock: true,
    config: {
      workspaces: [
        {
          id: WS,
          name: "Paw Work",
          balanceUSD: -1.5,
          console: {
            orgID: ORG,
            billingMode: "credit",
            mode: "invoiceable",
            creditLimitUSD: 500,
            serviceAccountKeys: [SERVICE_KEY],
            usage: [
              { at: "2026-11-20T09:00:00.000Z", costUSD: 1.25, requests: 40, inputTokens: 1000, outputTokens: 200 },
              { at: "2026-11-01T09:00:00.000Z", costUSD: 0.5, requests: 10, inputTokens: 100, outputTokens: 20 },
              // Older than 30 days: not in the summary.
              { at: "2026-09-01T09:00:00.000Z", costUSD: 99, requests: 1 },
            ],
          },
          members: [
            { userID: "usr_admin", role: "admin", consoleSession: ADMIN_SESSION, cookie: ADMIN_AUTH, keys: [GO_KEY], go: { subscribedAt: "2026-11-05T09:30:00.000Z" } },
            { userID: "usr_member", role: "member", consoleSession: MEMBER_SESSION },
          ],
        },
        {
          id: WS_BLACK,
          name: "Black Co",
          balanceUSD: 7,
          members: [{ userID: "usr_black", role: "admin", consoleSession: BLACK_SESSION, cookie: BLACK_AUTH, black: { plan: "200" } }],
        },
        {
          id: WS_OTHER,
          name: "Strict Corp",
          console: { ssoRequired: true },
          members: [{ userID: "usr_sso", role: "admin", consoleSession: SSO_SESSION }],
        },
      ],
    },
  })
  // Spend on the Go key so the meters are not all zero: 2 requests of $0.05.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${sim.goBaseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${GO_KEY}`, "content-type": "application/json", "x-opencode-session": "ses_0123456789abAbCdEfGhIjKlMn" },
      body: JSON.stringify({ model: DEFAULT_GO_MODELS[0]?.id, messages: [{ role: "user", content: "hi" }] }),
    })
    expect(res.status).toBe(200)
    await res.text()
  }
})

afterAll(async () => {
  await sim?.stop()
})

async function run(argv: string[], env: Record<string, string>) {
  const io = fakeIO({ env, now: () => NOW })
  const code = await runUsageCommand(["zen", ...argv, "--base-url", sim.url], io)
  const text = io.text()
  for (const s of ALL_SECRETS) {
    expect(text).not.toContain(s)
    expect(text).not.toContain(s.slice(8, 24))
  }
  return { code, io, text, json: () => JSON.parse(io.out.join("")) }
}

describe("usage zen against the simulator's console", () => {
  test("a migrated workspace by session cookie: balance, Go meters, 30-day spend", async () => {
    const r = await run(["--cookie-env", "C", "--json"], { C: `_ga=1; __Host-console_session=${ADMIN_SESSION}; theme=dark` })
    expect(r.code).toBe(0)
    const out = r.json()
    expect(out.org).toEqual({ id: ORG, name: "Paw Work", source: "/console/api/orgs" })
    expect(out.balance).toMatchObject({ usd: "-1.50", microCents: "-150000000", billingMode: "credit", mode: "invoiceable", available: { usd: "498.50", microCents: "49850000000" } })
    expect(out.go.subscribed).toBe(true)
    expect(out.go.periodEndsAt).toBe("2026-12-05T09:30:00.000Z")
    expect(out.go.month).toMatchObject({ limit: { usd: "60.00" }, resetsAt: "2026-12-05T09:30:00.000Z", resetFrom: "period_end" })
    expect(out.go.week).toMatchObject({ limit: { usd: "30.00" }, resetFrom: "meter" })
    // Two Go requests of $0.05 each, spent before the read: used / limit in integers.
    expect(out.go.fiveHour).toMatchObject({ used: { usd: "0.10", microCents: "10000000" }, limit: { usd: "12.00" }, percent: 0.8, resetFrom: "meter" })
    expect(out.spend30d).toMatchObject({ cost: { usd: "1.75", microCents: "175000000" }, requests: 50, inputTokens: 1100, outputTokens: 220 })
    expect(out.legacy).toBeNull()
  })

  test("the same workspace by service-account key, human output", async () => {
    const r = await run(["--api-key-env", "K"], { K: SERVICE_KEY })
    expect(r.code).toBe(0)
    const text = r.io.out.join("")
    expect(text).toContain(`org Paw Work (${ORG})`)
    expect(text).toContain("-$1.50  credit, invoiceable")
    expect(text).toMatch(/Month +\[.*\] +\d+%  \$[\d.]+ of \$60\.00  resets .*end of the subscription period/)
    expect(text).toContain("$1.75 in 50 requests")
  })

  test("the old auth cookie with the console session: the legacy page adds nothing for a migrated workspace", async () => {
    const r = await run(["--cookie-env", "C", "--workspace", WS, "--json"], { C: `__Host-console_session=${ADMIN_SESSION}; auth=${ADMIN_AUTH}` })
    expect(r.code).toBe(0)
    expect(r.json().org.id).toBe(WS)
    expect(r.json().balance.usd).toBe("-1.50")
    expect(r.json().legacy).toBeNull()
    expect(r.json().notes.join(" ")).toContain("moved to the console")
    // By its org_ id the legacy page is not tried at all: it is addressed by a wrk_ id.
    const byOrg = await run(["--cookie-env", "C", "--json"], { C: `__Host-console_session=${ADMIN_SESSION}; auth=${ADMIN_AUTH}` })
    expect(byOrg.json().notes.join(" ")).toContain("--workspace wrk_")
  })

  test("a Black workspace: console figures plus the legacy page's fields and Black windows", async () => {
    const r = await run(["--cookie-env", "C", "--json"], { C: `console_session=${BLACK_SESSION}; auth=${BLACK_AUTH}` })
    expect(r.code).toBe(0)
    const out = r.json()
    expect(out.org.id).toBe(WS_BLACK)
    expect(out.balance.usd).toBe("7.00")
    expect(out.go).toEqual({ subscribed: false, source: "/console/api/go/status" })
    expect(out.legacy.source).toBe(`/workspace/${WS_BLACK}/billing`)
    expect(out.legacy.subscription).toBe("black-200")
    expect(out.legacy.black.rolling).toMatchObject({ status: "ok", percent: 0 })
    expect(out.legacy.black.weekly.status).toBe("ok")
  })

  test("a Black workspace with only the old auth cookie: the legacy page alone", async () => {
    const r = await run(["--cookie-env", "C"], { C: `auth=${BLACK_AUTH}` })
    expect(r.code).toBe(0)
    expect(r.io.out.join("")).toContain("Black usage (plan 200)")
    expect(r.io.out.join("")).toContain(`from /workspace/${WS_BLACK}/billing`)
  })

  test("a migrated workspace with only the old auth cookie: console_moved, with the command that works", async () => {
    const r = await run(["--cookie-env", "C", "--json"], { C: `auth=${ADMIN_AUTH}` })
    expect(r.code).toBe(1)
    const e = r.json().error
    expect(e.code).toBe("console_moved")
    expect(e.message).toContain("__Host-console_session")
    expect(e.message).toContain("bun run cli usage zen --cookie-file")
  })

  test("an expired session, a rejected key", async () => {
    const a = await run(["--cookie-env", "C", "--json"], { C: "__Host-console_session=Fe26.2**expired-or-unknown" })
    expect(a.json().error.code).toBe("session_expired")
    const b = await run(["--api-key-env", "K", "--json"], { K: "oc_sk_revokedKEY000000000000" })
    expect(b.json().error.code).toBe("session_expired")
    expect(b.json().error.message).toContain("service-account key")
  })

  test("a missing or unknown org", async () => {
    const a = await run(["--cookie-env", "C", "--org", "org_01JQ7XK3M9TZ4B8N2C6D5E9999", "--json"], { C: `__Host-console_session=${ADMIN_SESSION}` })
    expect(a.json().error.code).toBe("org_not_found")
    // An org of another account is not found either: ids cannot be probed.
    const b = await run(["--cookie-env", "C", "--workspace", WS_BLACK, "--json"], { C: `__Host-console_session=${ADMIN_SESSION}` })
    expect(b.json().error.code).toBe("org_not_found")
    const c = await run(["--api-key-env", "K", "--org", WS_BLACK, "--json"], { K: SERVICE_KEY })
    expect(c.json().error.code).toBe("org_not_found")
  })

  test("several orgs without --org is org_required listing them; a --base-url that is not the console says so", async () => {
    const both = await startSimulator({
      now: START,
      frozenClock: true,
      config: {
        workspaces: [
          { id: WS, name: "Paw Work", console: { orgID: ORG }, members: [{ userID: "usr_admin", role: "admin", consoleSession: ADMIN_SESSION }] },
          { id: WS_BLACK, name: "Black Co", members: [{ userID: "usr_admin", role: "admin", consoleSession: ADMIN_SESSION }] },
        ],
      },
    })
    try {
      const io = fakeIO({ env: { C: `__Host-console_session=${ADMIN_SESSION}` }, now: () => NOW })
      expect(await runUsageCommand(["zen", "--cookie-env", "C", "--base-url", both.url, "--json"], io)).toBe(1)
      const e = JSON.parse(io.out.join("")).error
      expect(e.code).toBe("org_required")
      expect(e.message).toContain(`${ORG} (Paw Work), ${WS_BLACK} (Black Co)`)
      // The gateway's base URL instead of the console's origin: its 404 is not an unknown org.
      const wrong = fakeIO({ env: { C: `__Host-console_session=${ADMIN_SESSION}` }, now: () => NOW })
      expect(await runUsageCommand(["zen", "--cookie-env", "C", "--base-url", both.zenBaseURL, "--json"], wrong)).toBe(1)
      const w = JSON.parse(wrong.out.join("")).error
      expect(w.code).toBe("http_error")
      expect(w.message).toContain("--base-url")
      expect(io.text() + wrong.text()).not.toContain(ADMIN_SESSION.slice(8, 24))
    } finally {
      await both.stop()
    }
  })

  test("a non-admin member is forbidden; an SSO org wants SSO", async () => {
    const a = await run(["--cookie-env", "C", "--json"], { C: `__Host-console_session=${MEMBER_SESSION}` })
    expect(a.code).toBe(1)
    expect(a.json().error.code).toBe("forbidden")
    expect(a.json().error.message).toContain("admin")
    const b = await run(["--cookie-env", "C"], { C: `__Host-console_session=${SSO_SESSION}` })
    expect(b.io.err.join("")).toContain("error [sso_required]")
  })
})
