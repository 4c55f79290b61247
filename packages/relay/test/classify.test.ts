import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import * as ProviderError from "../../opencode/src/provider/error"
import * as SessionRetry from "../../opencode/src/session/retry"
import { chat, harness, installToken, NOW, type Harness } from "./helpers"

/**
 * The runtime's classifier on the relay's real refusals, as they come over HTTP: each gets its
 * kind and scope, the retry policy stops on a spent daily allowance (never sleeping to midnight)
 * and retries a full set of streams or a Redis outage, and the words say which allowance ran out
 * and when it comes back.
 */

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.stop())
beforeEach(() => h.reset())

async function classified(response: Response) {
  const headers = Object.fromEntries(response.headers.entries())
  return ProviderError.classify({ status: response.status, headers, body: await response.text() }, NOW)
}

describe("the runtime classifies the relay's refusals", () => {
  test("InstallLimitError: relay_limit, this install, stop, resets at 00:00 UTC", async () => {
    const relay = await h.start({ limits: { installDailyRequests: 1 } })
    const install = installToken()
    await (await chat(relay, { install })).arrayBuffer()
    const info = await classified(await chat(relay, { install }))
    expect(info).toMatchObject({ kind: "relay_limit", quotaScope: "relay-install", origin: "gateway", retryable: false, resetAt: "2026-12-01T00:00:00.000Z" })
    expect(info.userMessage).toContain("This install's daily allowance on the PawWork relay is used up")
    expect(info.userMessage).toContain("It resets at")
    expect(info.userMessage).toContain("in 10 h")
    expect(SessionRetry.next(info, 1)).toMatchObject({ action: "stop", reason: "not_retryable" })
  })

  test("IpLimitError, NewInstallLimitError and RelayBudgetError each name their allowance", async () => {
    const ip = await h.start({ limits: { ipDailyRequests: 1 } })
    await (await chat(ip, { ip: "192.0.2.1" })).arrayBuffer()
    const byIP = await classified(await chat(ip, { ip: "192.0.2.1" }))
    expect(byIP).toMatchObject({ kind: "relay_limit", quotaScope: "relay-ip", retryable: false })
    expect(byIP.userMessage).toContain("every install on this address shares it")

    await h.redis.client.send("FLUSHALL", [])
    const fresh = await h.start({ limits: { newInstallsPerIp: 1 } })
    await (await chat(fresh, { ip: "192.0.2.2" })).arrayBuffer()
    const minted = await classified(await chat(fresh, { ip: "192.0.2.2" }))
    expect(minted).toMatchObject({ kind: "relay_limit", quotaScope: "relay-new-install" })
    expect(minted.userMessage).toContain("Too many new installs")

    await h.redis.client.send("FLUSHALL", [])
    const budget = await h.start({ limits: { globalDailyRequests: 1 } })
    await (await chat(budget, { ip: "192.0.2.3" })).arrayBuffer()
    const spent = await classified(await chat(budget, { ip: "192.0.2.4" }))
    expect(spent).toMatchObject({ kind: "relay_limit", quotaScope: "relay-budget", retryable: false })
    expect(spent.userMessage).toContain("The PawWork relay's daily budget is spent, for every install")
  })

  test("ConcurrencyLimitError and RelayUnavailableError are retried after a short wait", async () => {
    const relay = await h.start({ limits: { concurrentStreamsPerInstall: 0 } })
    const busy = await classified(await chat(relay))
    expect(busy).toMatchObject({ kind: "rate_limit", quotaScope: "relay-concurrency", retryable: true, retryAfterMs: 2000 })
    expect(busy.userMessage).toContain("requests in progress on the PawWork relay")
    expect(SessionRetry.next(busy, 1, { random: () => 0 })).toEqual({ action: "retry", delayMs: 2000 })

    const down = ProviderError.classify(
      { status: 503, headers: { "retry-after": "5" }, body: JSON.stringify({ type: "error", error: { type: "RelayUnavailableError", message: "x" }, metadata: { scope: "redis" } }) },
      NOW,
    )
    expect(down).toMatchObject({ kind: "server_error", retryable: true, retryAfterMs: 5000 })
    expect(down.userMessage).toContain("The PawWork relay cannot check allowances right now")
  })
})
