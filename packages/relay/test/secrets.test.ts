import { afterAll, beforeAll, expect, test } from "bun:test"
import { leakedFragments } from "../../opencode/test/fixture/leaks"
import { chat, harness, installToken, type Harness } from "./helpers"

/**
 * The planted-secret scan: a distinctive upstream key and install tokens go through every path the
 * relay has (served, streamed, refused, an upstream error echoing the key, Redis down, usage), and
 * no 8 characters of any of them may appear in its logs, its metrics or anything it answered.
 */

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(() => h.stop())

test("no trace of the upstream key or an install token in logs, metrics or answers", async () => {
  const relay = await h.start({ limits: { installDailyRequests: 2, newInstallsPerIp: 3 } })
  const installs = Array.from({ length: 4 }, installToken)
  const answers: string[] = []
  const keep = async (response: Response) => {
    answers.push(`${response.status} ${JSON.stringify(Object.fromEntries(response.headers.entries()))} ${await response.text()}`)
  }
  for (const install of installs) {
    await keep(await chat(relay, { install, ip: "192.0.2.7" }))
    await keep(await chat(relay, { install, ip: "192.0.2.7", stream: true }))
    await keep(await chat(relay, { install, ip: "192.0.2.7" })) // over its allowance, or a new install over the cap
    await keep(await fetch(`${relay.url}/v1/usage`, { headers: { "x-pawwork-install": install } }))
  }
  // An upstream that echoes the key it was called with, whole and cut.
  h.sim.configure({ faults: [{ status: 401, type: "AuthError", message: `Invalid key ${h.key} (${h.key.slice(4, 20)})`, count: 2 }] })
  await keep(await chat(relay, { ip: "192.0.2.8" }))
  await keep(await chat(relay, { ip: "192.0.2.8", stream: true }))
  h.sim.configure({ faults: [] })
  // A malformed token is refused without being echoed.
  await keep(await chat(relay, { install: `${installs[0]}!`, ip: "192.0.2.9" }))
  // Redis down: the refusal and the log lines.
  await h.redis.down()
  await keep(await chat(relay, { install: installs[0], ip: "192.0.2.7" }))
  await h.redis.up()
  await keep(await fetch(`${relay.url}/metrics`))
  await keep(await fetch(`${relay.url}/healthz`))

  expect(answers.some((a) => a.startsWith("401") && a.includes("AuthError"))).toBe(true)
  const secrets: Record<string, string> = { upstreamKey: h.key }
  installs.forEach((t, i) => (secrets[`install${i}`] = t))
  const written = [h.logs.join("\n"), relay.metrics.text(), answers.join("\n")].join("\n")
  expect(h.logs.length).toBeGreaterThan(10)
  expect(leakedFragments(written, secrets)).toEqual([])
  // The logs say who by fingerprint.
  expect(h.logs.some((l) => /"install":"fp_[0-9a-f]{12}"/.test(l))).toBe(true)
})
