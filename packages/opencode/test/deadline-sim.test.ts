import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test"
import { startSimulator, type SimConfigInput, type Simulator } from "@pawwork/zen-sim"
import { Provider } from "../src/provider"
import { SessionDeadline, SessionDiagnostics, SessionProcessor, SessionRetry } from "../src/session"
import * as DiagnosticsFindings from "../src/session/diagnostics-findings"
import * as Identifier from "../src/id/id"
import { simInstall } from "./fixture/sim-install"
import type { TestInstall } from "./fixture/install"

// Every stall the gateway (or anything in front of it) can produce, through the ai SDK over real
// HTTP, with deadlines of a few hundred milliseconds: what is asserted is the kind and that the turn
// ended, never how long it took. Before the deadlines existed each of these turns hung until the
// test's own timeout.

const REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ")
// One deadline short at a time, the others generous, so a slow machine cannot trip the wrong one.
const NO_ANSWER: Partial<SessionDeadline.Timeouts> = { firstByteMs: 500, streamIdleMs: 5_000, responseMs: 10_000 }
const SILENCE: Partial<SessionDeadline.Timeouts> = { firstByteMs: 5_000, streamIdleMs: 500, responseMs: 10_000 }

let sim: Simulator
let install: TestInstall
let model: Provider.Resolved
beforeAll(async () => {
  sim = await startSimulator({ config: { newClientBonus: false, reply: REPLY } })
  install = await simInstall(sim)
  model = await Provider.getModel("opencode", "big-pickle", install.env)
})
afterAll(async () => {
  await sim.stop()
  await install.cleanup()
})
beforeEach(() => sim.configure({ faults: [] }))

const chats = () => sim.requests().filter((r) => r.path.endsWith("/chat/completions"))

async function turn(faults: SimConfigInput["faults"], timeouts?: Partial<SessionDeadline.Timeouts>, abortSignal?: AbortSignal) {
  sim.configure({ faults })
  sim.reset()
  const sleeps: number[] = []
  const decisions: { kind: string; action: string; reason?: string }[] = []
  const result = await SessionProcessor.process({
    model,
    sessionID: Identifier.create("session"),
    requestID: Identifier.ascending("message"),
    messages: [{ role: "user", content: "hi" }],
    decide: SessionRetry.policy({ random: () => 0.5 }),
    // Waits between attempts are recorded, not slept.
    sleep: async (ms) => void sleeps.push(ms),
    ...(timeouts ? { timeouts } : {}),
    ...(abortSignal ? { abortSignal } : {}),
    onFailure: (failure, decision) =>
      decisions.push({ kind: failure.info.kind, action: decision.action, ...("reason" in decision && decision.reason ? { reason: decision.reason } : {}) }),
  })
  return { result, sleeps, decisions, requests: chats().length }
}

function failed(result: SessionProcessor.Result) {
  if (result.ok) throw new Error("expected the turn to fail")
  return result
}

describe("no answer at all", () => {
  test("ends as first_byte_timeout, is retried once, then stops", async () => {
    const { result, sleeps, decisions, requests } = await turn([{ status: 200, stall: "no-answer", count: -1 }], NO_ANSWER)
    const f = failed(result)
    expect(f.failure.kind).toBe("first_byte_timeout")
    expect(f.failure.origin).toBe("network")
    expect(f.failure.userMessage).toStartWith("No answer from the provider within 500 ms")
    expect(f.stopReason).toBe("attempts_exhausted")
    expect(f.attempts).toBe(SessionRetry.MAX_TIMEOUT_ATTEMPTS)
    expect(requests).toBe(2)
    expect(sleeps).toHaveLength(1)
    expect(decisions.map((d) => d.action)).toEqual(["retry", "stop"])
  })

  test("the one retry can succeed", async () => {
    const { result, requests } = await turn([{ status: 200, stall: "no-answer", count: 1 }], NO_ANSWER)
    expect(result.ok).toBe(true)
    expect(result.text).toBe(REPLY)
    expect(result.attempts).toBe(2)
    expect(requests).toBe(2)
  })
})

describe("a response that stops", () => {
  test("headers then silence: stream_stalled, not retried", async () => {
    const { result, requests } = await turn([{ status: 200, stall: "silence", count: -1 }], SILENCE)
    const f = failed(result)
    expect(f.failure.kind).toBe("stream_stalled")
    expect(f.failure.userMessage).toContain("nothing arrived for 500 ms")
    expect(f.stopReason).toBe("not_retryable")
    expect(requests).toBe(1)
  })

  test("SSE keep-alive comments are not progress: stalled, and not mistaken for no answer", async () => {
    const { result } = await turn([{ status: 200, stall: "keep-alive", intervalMs: 50, count: -1 }], SILENCE)
    const f = failed(result)
    expect(f.failure.kind).toBe("stream_stalled")
    expect(f.failure.message).toContain("streamIdleMs")
  })

  test("silence after some text: stalled, and stopped because text had streamed", async () => {
    const { result, requests } = await turn([{ status: 200, stall: "keep-alive", afterChunks: 3, intervalMs: 50, count: -1 }], SILENCE)
    const f = failed(result)
    expect(f.failure.kind).toBe("stream_stalled")
    expect(f.text.length).toBeGreaterThan(0)
    expect(REPLY.startsWith(f.text)).toBe(true)
    expect(f.stopReason).toBe("text_streamed")
    expect(requests).toBe(1)
  })

  test("slow tokens: a trickle that never stalls long enough is ended by the response deadline", async () => {
    // An event every 50 ms never goes quiet for long; the whole answer would take 2 s.
    const { result } = await turn([{ status: 200, stall: "trickle", intervalMs: 50, count: -1 }], { firstByteMs: 5_000, streamIdleMs: 5_000, responseMs: 1_000 })
    const f = failed(result)
    expect(f.failure.kind).toBe("stream_stalled")
    expect(f.failure.userMessage).toContain("still not finished after 1 s")
    expect(f.text.length).toBeGreaterThan(0)
    expect(f.text.length).toBeLessThan(REPLY.length)
    expect(f.stopReason).toBe("text_streamed")
  })

  test("a trickle that finishes inside the deadlines is a normal answer", async () => {
    const { result } = await turn([{ status: 200, stall: "trickle", intervalMs: 5, count: -1 }], { firstByteMs: 5_000, streamIdleMs: 5_000 })
    expect(result.ok).toBe(true)
    expect(result.text).toBe(REPLY)
  })
})

describe("a failure that arrives only after a long wait", () => {
  // firstByteMs 4 s: a 504 held 2.5 s is slow (half the deadline or more), one answered at once is
  // not; each side has 1.5 s or more of room for a loaded machine.
  const SLOW: Partial<SessionDeadline.Timeouts> = { firstByteMs: 4_000, streamIdleMs: 10_000, responseMs: 20_000 }

  test("a gateway timing out upstream (504 after most of the first-byte deadline) is tried twice, not four times", async () => {
    const { result, requests, decisions } = await turn([{ status: 504, kind: "html", source: "edge", delayMs: 2_500, count: -1 }], SLOW)
    const f = failed(result)
    expect(f.failure.kind).toBe("server_error")
    expect(f.stopReason).toBe("attempts_exhausted")
    expect(requests).toBe(SessionRetry.MAX_TIMEOUT_ATTEMPTS)
    expect(decisions.map((d) => d.action)).toEqual(["retry", "stop"])
  }, 20_000)

  test("the same 504 answered at once keeps the usual attempts", async () => {
    const { result, requests } = await turn([{ status: 504, kind: "html", source: "edge", count: -1 }], SLOW)
    expect(failed(result).stopReason).toBe("attempts_exhausted")
    expect(requests).toBe(SessionRetry.MAX_ATTEMPTS)
  })
})

describe("the turn's wait budget", () => {
  const everyMinute = [{ status: 429, type: "RateLimitError", headers: { "retry-after": "60" }, count: -1 }]

  test("retry-after: 60 on every attempt: one wait, then wait_budget_exhausted instead of three minutes", async () => {
    const { result, sleeps, decisions, requests } = await turn(everyMinute)
    const f = failed(result)
    expect(sleeps).toEqual([60_000])
    expect(requests).toBe(2)
    expect(f.failure.kind).toBe("wait_budget_exhausted")
    expect(f.failure.origin).toBe("local")
    expect(f.stopReason).toBe("wait_budget_exhausted")
    // What kept the turn waiting stays on the record.
    expect(f.failure.statusCode).toBe(429)
    expect(f.failure.upstreamType).toBe("RateLimitError")
    expect(f.failure.userMessage).toContain(`wait budget of ${SessionDeadline.DEFAULTS.turnWaitBudgetMs / 1000} s`)
    expect(decisions.at(-1)).toEqual({ kind: "wait_budget_exhausted", action: "stop", reason: "wait_budget_exhausted" })
  })

  test("a budget of 0 never waits", async () => {
    const { result, sleeps, requests } = await turn([{ status: 529, count: -1 }], { turnWaitBudgetMs: 0 })
    expect(failed(result).failure.kind).toBe("wait_budget_exhausted")
    expect(sleeps).toEqual([])
    expect(requests).toBe(1)
  })

  test("short backoffs fit the default budget: a transient failure is still retried and recovers", async () => {
    const { result, sleeps } = await turn([{ status: 529, count: 2 }])
    expect(result.ok).toBe(true)
    expect(sleeps).toHaveLength(2)
  })
})

describe("the caller's cancel", () => {
  test("an aborted turn is a failure with stopReason aborted, not an answer", async () => {
    const controller = new AbortController()
    sim.configure({ faults: [] })
    const pending = turn([{ status: 200, stall: "keep-alive", afterChunks: 3, intervalMs: 20, count: -1 }], { streamIdleMs: 60_000 }, controller.signal)
    setTimeout(() => controller.abort(), 100)
    const f = failed((await pending).result)
    expect(f.failure.kind).toBe("network")
    expect(f.failure.userMessage).toBe("The request was cancelled.")
    expect(f.stopReason).toBe("aborted")
  })
})

describe("diagnostics", () => {
  test("a deadline's record names its kind, why the turn stopped and which setting ran out", async () => {
    sim.configure({ faults: [{ status: 200, stall: "keep-alive", intervalMs: 50, count: -1 }] })
    sim.reset()
    const records: SessionDiagnostics.Entry[] = []
    const sessionID = Identifier.create("session")
    const requestID = Identifier.ascending("message")
    const hooks = SessionDiagnostics.hooks({ model, sessionID, requestID, env: install.env, log: { append: (r) => void records.push(r as SessionDiagnostics.Entry) } })
    const result = await SessionProcessor.process({ model, sessionID, requestID, messages: [{ role: "user", content: "hi" }], timeouts: SILENCE, ...hooks })
    expect(result.ok).toBe(false)
    expect(records).toHaveLength(1)
    expect(records[0]).toMatchObject({
      event: "provider.failure",
      kind: "stream_stalled",
      origin: "network",
      action: "stop",
      stopReason: "no_retry_policy",
      message: "streamIdleMs: no stream event for 500 ms",
    })
    const findings = DiagnosticsFindings.findings(DiagnosticsFindings.group(records))
    expect(findings[0]).toStartWith(
      "The answer from opencode/big-pickle stalled (streamIdleMs: no stream event for 500 ms): the turn was stopped by its own deadline",
    )
  })
})
