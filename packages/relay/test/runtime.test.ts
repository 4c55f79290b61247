import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test"
import { ProbeRelay, ProbeTarget } from "../../opencode/src/probe"
import { leakedFragments } from "../../opencode/test/fixture/leaks"
import { harness, type Harness } from "./helpers"

/**
 * The runtime through the relay: the probe's relay mode drives two fresh installs on this machine
 * through Provider.getModel and SessionProcessor (the `ai` SDK over HTTP) with the relay as their
 * opencode baseURL, the one opencode.json change the README documents.
 */

setDefaultTimeout(30_000)

let h: Harness
beforeAll(async () => {
  h = await harness({ now: Date.now })
})
afterAll(() => h.stop())
beforeEach(async () => {
  await h.redis.client.send("FLUSHALL", [])
  h.sim.reset()
  for (const r of h.relays.splice(0)) await r.stop()
})

describe("probe --relay", () => {
  test("two installs on one network get separate allowances through the relay", async () => {
    // No trust-proxy: both installs come from this machine's one address, as two installs in one office would.
    const relay = await h.start({ trustProxy: false, limits: { installDailyRequests: 3, ipDailyRequests: 100 } })
    const lines: string[] = []
    const report = await ProbeRelay.relay({ relayURL: relay.url, maxRequests: 20, progress: (l) => lines.push(l) })
    expect(report.verdict).toBe("separate")
    expect(report.installs[0]).toMatchObject({ role: "A", succeeded: 3, quotaScope: "relay-install", outcome: { ok: false, kind: "relay_limit", statusCode: 429 } })
    expect(report.installs[1]).toMatchObject({ role: "B", succeeded: 1, outcome: { ok: true } })
    expect(report.installs[0]!.installFingerprint).not.toBe(report.installs[1]!.installFingerprint)
    expect(report.budget.used).toBe(5)
    // The relay forwarded exactly what it served, and never the install token.
    const chats = h.sim.requests().filter((r) => r.path.endsWith("/chat/completions"))
    expect(chats.length).toBe(4)
    expect(chats.every((r) => !Object.keys(r.headers).some((k) => k.toLowerCase() === "x-pawwork-install"))).toBe(true)
    expect(chats.every((r) => /^ses_[0-9a-f]{12}[0-9A-Za-z]{14}$/.test(r.headers["x-opencode-session"] ?? ""))).toBe(true)
    expect(ProbeRelay.render(report)).toContain("Verdict: separate")
  })

  test("a relay URL with credentials or a query is refused under its own flag, without echoing them", () => {
    for (const given of ["http://user:Sekr1tPassw0rd@127.0.0.1:8787/v1", "http://127.0.0.1:8787/v1?token=Tok3nValue99"]) {
      let message = ""
      try {
        ProbeRelay.relayBaseURL(given)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toStartWith('--relay "http://')
      expect(message).toContain("must not carry credentials, a query or a fragment")
      expect(leakedFragments(message, { password: "Sekr1tPassw0rd", token: "Tok3nValue99" })).toEqual([])
    }
    // The gateway probe's --base-url names the URL the same way.
    expect(() => ProbeTarget.parse("http://user:Sekr1tPassw0rd@127.0.0.1:4096")).toThrow(/^--base-url "http:\/\/…@127\.0\.0\.1:4096\/" must not carry credentials/)
  })

  test("a relay whose per-network ceiling binds first is reported as inconclusive, not as separate", async () => {
    const relay = await h.start({ trustProxy: false, limits: { installDailyRequests: 10, ipDailyRequests: 2 } })
    const report = await ProbeRelay.relay({ relayURL: `${relay.url}/v1`, maxRequests: 20 })
    expect(report.verdict).toBe("inconclusive")
    expect(report.installs[0]!.quotaScope).toBe("relay-ip")
  })
})
