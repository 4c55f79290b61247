import { afterAll, beforeAll, expect, test } from "bun:test"
import { startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import { runCli } from "./fixture/install"
import { simInstall } from "./fixture/sim-install"

// `cli run --json` as a user runs it, against the simulator: every turn that stops says why
// (stopReason), and the deadlines come from opencode.json.

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false, reply: "One two three four five six seven eight." } })
})
afterAll(() => sim.stop())

async function run(faults: SimConfigInput["faults"], config: Record<string, unknown> = {}) {
  sim.configure({ faults })
  sim.reset()
  const install = await simInstall(sim, { config })
  try {
    const out = await runCli(["run", "--json", "hi"], install.env)
    const parsed = out.stdout.trim() ? (JSON.parse(out.stdout) as { error?: Record<string, unknown> }) : {}
    return { ...out, error: parsed.error, requests: sim.requests().filter((r) => r.path.endsWith("/chat/completions")).length }
  } finally {
    await install.cleanup()
  }
}

test("a turn stopped because text had streamed carries stopReason text_streamed", async () => {
  const { code, error } = await run([{ status: 529, afterChunks: 3, count: -1 }])
  expect(code).toBe(1)
  expect(error?.kind).toBe("overloaded")
  expect(error?.stopReason).toBe("text_streamed")
  expect(error?.message).toContain("Not retried automatically: part of the answer had already arrived")
}, 30_000)

test("a stalled stream ends the turn with its own kind, by the deadline set in opencode.json", async () => {
  const { code, error, stderr, requests } = await run([{ status: 200, stall: "silence", count: -1 }], {
    pawwork: { timeouts: { firstByteMs: 5_000, streamIdleMs: 500 } },
  })
  expect(code).toBe(1)
  expect(error?.kind).toBe("stream_stalled")
  expect(error?.stopReason).toBe("not_retryable")
  expect(error?.message).toContain("nothing arrived for 500 ms")
  expect(stderr).toContain("nothing arrived for 500 ms")
  expect(requests).toBe(1)
}, 30_000)

test("a bad pawwork.timeouts value is refused before anything is sent, naming the field", async () => {
  const { code, stderr, error, requests } = await run([], { pawwork: { timeouts: { streamIdleMs: "2m" } } })
  expect(code).toBe(1)
  expect(error?.code).toBe("config_invalid")
  expect(stderr).toContain("pawwork.timeouts.streamIdleMs: expected a number of milliseconds")
  expect(requests).toBe(0)
}, 30_000)
