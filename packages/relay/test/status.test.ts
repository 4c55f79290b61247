import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test"
import * as Auth from "../../opencode/src/auth"
import fs from "node:fs/promises"
import path from "node:path"
import { StatusReport, Waybar } from "../../opencode/src/quota/status-schema"
import { makeInstall, runCli, type TestInstall } from "../../opencode/test/fixture/install"
import { leakedFragments } from "../../opencode/test/fixture/leaks"
import { tokenOf } from "../../opencode/test/fixture/sim-install"
import { harness, type Harness } from "./helpers"

/**
 * `cli status` when the opencode provider points at a PawWork relay: the real CLI sends turns
 * through a real relay (private Redis, the simulator as its upstream), then `status` reads the
 * relay's `GET /v1/usage` for this install and shows used, left and the reset, cached like the
 * other remote figures.
 */

setDefaultTimeout(60_000)

let h: Harness
const installs: TestInstall[] = []
beforeAll(async () => {
  h = await harness({ now: Date.now })
})
afterAll(async () => {
  await h.stop()
  await Promise.all(installs.map((i) => i.cleanup()))
})
beforeEach(async () => {
  await h.redis.client.send("FLUSHALL", [])
  h.sim.reset()
  for (const r of h.relays.splice(0)) await r.stop()
})

async function install(baseURL: string, config: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const made = await makeInstall(env)
  installs.push(made)
  await made.writeConfig({ ...config, provider: { opencode: { options: { baseURL } } } })
  return made
}

async function status(made: TestInstall, ...args: string[]) {
  const out = await runCli(["status", ...args], made.env)
  expect(out.stderr).toBe("")
  expect(out.code).toBe(0)
  return out.stdout
}

const report = async (made: TestInstall, ...args: string[]) => StatusReport.parse(JSON.parse(await status(made, "--json", ...args)))

const nextMidnight = () => new Date((Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000).toISOString()

describe("status through a PawWork relay", () => {
  test("shows this install's used, left and reset, cached for cacheMaxAgeSec, --refresh reads again, and a dead relay keeps the last figures", async () => {
    const relay = await h.start({ trustProxy: false, limits: { installDailyRequests: 3, ipDailyRequests: 100 } })
    const made = await install(`${relay.url}/v1`, { pawwork: { quota: { cacheMaxAgeSec: 3600 } } })
    for (let i = 0; i < 2; i++) expect((await runCli(["run", "--model", "opencode/big-pickle", "hi"], made.env)).code).toBe(0)

    const first = await report(made)
    expect(first.relay).toMatchObject({
      baseURL: `${relay.url}/v1`,
      fromCache: false,
      error: null,
      dayOver: false,
      resetsAt: nextMidnight(),
      requests: { used: 2, limit: 3, remaining: 1 },
      network: { used: 2, limit: 100, remaining: 98 },
      budgetLeft: true,
    })
    expect(first.relay!.installFingerprint).toStartWith("fp_")
    expect(first.notes.some((n) => n.includes("PawWork relay"))).toBe(true)

    // One more turn: the cached figure stands until it is older than cacheMaxAgeSec or --refresh.
    expect((await runCli(["run", "--model", "opencode/big-pickle", "hi"], made.env)).code).toBe(0)
    const cached = await report(made)
    expect(cached.relay).toMatchObject({ fromCache: true, requests: { used: 2 } })
    const refreshed = await report(made, "--refresh")
    expect(refreshed.relay).toMatchObject({ fromCache: false, requests: { used: 3, limit: 3, remaining: 0 } })

    const text = await status(made)
    expect(text).toContain(`PawWork relay (${relay.url}/v1, install ${first.relay!.installFingerprint}`)
    expect(text).toContain("3 of 3 used, 0 left; it resets")
    expect(text).toContain("Used up: the relay refuses this install's requests until the reset.")
    const bar = Waybar.parse(JSON.parse(await status(made, "--waybar")))
    expect(bar.text).toBe("Relay used up")
    expect(bar.class).toBe("blocked")

    // The relay goes away: the last figures are shown with the failure, never a blank.
    await relay.stop()
    const down = await report(made, "--refresh")
    expect(down.relay).toMatchObject({ fromCache: true, error: { code: "network" }, requests: { used: 3, remaining: 0 } })
    expect(await status(made)).toMatch(/The last read failed \(network, .*Showing the figures read/s)

    // The install token went to the relay (that is how it counts) and nowhere else.
    const token = await tokenOf(made)
    const outputs = [JSON.stringify(first), JSON.stringify(refreshed), JSON.stringify(down), text, JSON.stringify(bar), await Bun.file(`${made.dataDir}/quota/meters.json`).text()]
    expect(outputs.flatMap((o) => leakedFragments(o, { token }))).toEqual([])
  })

  test("the gateway's own Zen path is never asked for relay figures; a base URL that is not a relay shows none and is asked once per cache period", async () => {
    const gateway = await install(h.sim.zenBaseURL)
    expect((await report(gateway)).relay).toBeNull()
    expect(h.sim.requests().filter((r) => r.path.endsWith("/usage"))).toEqual([])

    // The simulator at a path that is not the gateway's answers GET /v1/usage with a 404: not a relay.
    const other = await install(`${h.sim.zenBaseURL.replace(/\/zen\/v1$/, "")}/v1`)
    expect((await report(other)).relay).toBeNull()
    expect((await report(other)).relay).toBeNull()
    expect(h.sim.requests().filter((r) => r.path === "/v1/usage").length).toBe(1)
    expect(await status(other)).not.toContain("PawWork relay")
  })

  test("a hostile or failing answer at /v1/usage is bounded: nothing shown for a body that is not a relay's, a 503 named, nothing echoed", async () => {
    let answer: () => Response = () => new Response("")
    const seen: string[] = []
    const fake = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        seen.push(request.headers.get("authorization") ?? "")
        return answer()
      },
    })
    try {
      const made = await install(`http://127.0.0.1:${fake.port}/v1`)
      const token = await (async () => {
        await status(made)
        return tokenOf(made)
      })()
      const good = { day: "2026-11-30", resetsAt: nextMidnight(), requests: { used: 1, limit: 5, remaining: 4 }, spendUSD: { used: 0, limit: null, remaining: null }, network: { requests: { used: 1, limit: null, remaining: null } }, budgetLeft: true }
      const cases: [() => Response, (r: StatusReport) => void][] = [
        [() => new Response("x".repeat(4 * 1024 * 1024)), (r) => expect(r.relay).toBeNull()],
        [() => Response.json({ ...good, requests: { used: -1, limit: 5, remaining: 6 } }), (r) => expect(r.relay).toBeNull()],
        [() => Response.json({ ...good, day: "\u001b]52;c;aGk=\u0007" }), (r) => expect(r.relay).toBeNull()],
        [
          () => Response.json({ type: "error", error: { type: "RelayUnavailableError", message: `down ${token}` } }, { status: 503 }),
          (r) => expect(r.relay).toMatchObject({ requests: null, error: { code: "relay_unavailable" } }),
        ],
        [() => Response.json(good), (r) => expect(r.relay).toMatchObject({ requests: { used: 1, limit: 5, remaining: 4 }, spendUSD: { used: "0.000000", limit: null } })],
      ]
      const outputs: string[] = []
      for (const [respond, check] of cases) {
        answer = respond
        const json = await status(made, "--json", "--refresh")
        check(StatusReport.parse(JSON.parse(json)))
        outputs.push(json, await status(made), await status(made, "--waybar"))
      }
      // No key or Authorization goes with the usage read: the token is all a relay needs.
      expect(seen.every((a) => a === "")).toBe(true)
      expect(outputs.flatMap((o) => leakedFragments(o, { token }))).toEqual([])
      expect(outputs.join("\n")).not.toContain("\u001b")
    } finally {
      await fake.stop(true)
    }
  })

  test("with a Go key beside a relay, the notes do not call opencode's requests the network's free allowance", async () => {
    const relay = await h.start({ trustProxy: false })
    const made = await makeInstall()
    installs.push(made)
    await made.writeConfig({ provider: { opencode: { options: { baseURL: `${relay.url}/v1` } }, "opencode-go": { options: { baseURL: h.sim.goBaseURL } } } })
    await Auth.set("opencode-go", { type: "api", key: h.key }, made.env)
    const r = await report(made)
    expect(r.relay?.requests).toMatchObject({ used: 0 })
    expect(r.notes.filter((n) => n.includes("go out anonymously"))).toEqual([])
    expect(r.notes.some((n) => n.includes("PawWork relay"))).toBe(true)
  })

  test("an install identity that cannot be saved (a new install to the relay on every run) shows no figures, saying why", async () => {
    const relay = await h.start({ trustProxy: false })
    const made = await install(`${relay.url}/v1`)
    await fs.mkdir(path.join(made.dataDir, "install.json"), { recursive: true })
    expect((await runCli(["run", "--model", "opencode/big-pickle", "hi"], made.env)).code).toBe(0)
    const r = await report(made)
    expect(r.relay).toMatchObject({ installFingerprint: null, requests: null, error: { code: "identity_not_saved" } })
    expect((await status(made)).replace(/\s+/g, " ")).toContain("No figures: This install's identity could not be saved (")
  })

  test("with the install identity off, the relay section says why it has no figures", async () => {
    const relay = await h.start({ trustProxy: false })
    const made = await install(`${relay.url}/v1`, { pawwork: { installIdentity: false } })
    const r = await report(made)
    expect(r.relay).toMatchObject({ installFingerprint: null, requests: null, error: { code: "identity_off" } })
    expect((await status(made)).replace(/\s+/g, " ")).toContain('No figures: The install identity is off (opencode.json has "pawwork": { "installIdentity": false })')
  })
})
