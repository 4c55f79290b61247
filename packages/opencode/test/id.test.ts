import { describe, expect, test } from "bun:test"
import * as Identifier from "../src/id/id"
import { startSimulator } from "@pawwork/zen-sim"

// The gateway's check, written out independently of Identifier.pattern so a wrong pattern cannot pass.
const CANONICAL_SESSION = /^ses_[0-9a-f]{12}[0-9A-Za-z]{14}$/

describe("OpenCode ids", () => {
  test("shape: prefix, 12 lower-case hex, 14 base62; 30 characters for a session", () => {
    const session = Identifier.create("session")
    expect(session).toMatch(CANONICAL_SESSION)
    expect(session).toHaveLength(30)
    expect(Identifier.create("message")).toMatch(/^msg_[0-9a-f]{12}[0-9A-Za-z]{14}$/)
    expect(Identifier.create("part")).toMatch(/^prt_[0-9a-f]{12}[0-9A-Za-z]{14}$/)
    expect(Identifier.pattern("session").test(session)).toBe(true)
    expect(Identifier.pattern("session").test("ses_" + "a".repeat(24))).toBe(false)
  })

  test("the hex part is the low 48 bits of ms × 4096 + counter, inverted for sessions", () => {
    const ms = Date.UTC(2026, 10, 30, 10, 0, 0)
    const up = Identifier.ascending("message", ms + 10_000_000)
    const value = BigInt("0x" + up.slice(4, 16))
    expect(value >> 12n).toBe(BigInt(ms + 10_000_000) & ((1n << 36n) - 1n))
    const down = Identifier.descending("session", ms + 20_000_000)
    const inverted = ~BigInt("0x" + down.slice(4, 16)) & ((1n << 48n) - 1n)
    expect(inverted >> 12n).toBe(BigInt(ms + 20_000_000) & ((1n << 36n) - 1n))
  })

  test("ascending ids sort in creation order, descending ids in reverse, across and within milliseconds", () => {
    const start = Date.now() + 30_000_000
    const up: string[] = []
    const down: string[] = []
    for (let i = 0; i < 5000; i++) {
      const at = start + Math.floor(i / 1000)
      up.push(Identifier.ascending("message", at))
      down.push(Identifier.descending("session", at))
    }
    expect([...up].sort()).toEqual(up)
    expect([...down].sort()).toEqual([...down].reverse())
  })

  test("a clock that steps back still gives increasing ids", () => {
    const at = Date.now() + 40_000_000
    const first = Identifier.ascending("message", at)
    const second = Identifier.ascending("message", at - 5_000)
    expect(second > first).toBe(true)
  })

  test("100k ids minted in one millisecond are unique and ordered", () => {
    const at = Date.now() + 50_000_000
    const ids: string[] = []
    for (let i = 0; i < 100_000; i++) ids.push(Identifier.ascending("message", at))
    expect(new Set(ids).size).toBe(100_000)
    expect(new Set(ids.map((id) => id.slice(0, 16))).size).toBe(100_000)
    for (let i = 1; i < ids.length; i++) if (!(ids[i]! > ids[i - 1]!)) throw new Error(`out of order at ${i}`)
  })

  test("the random part uses the whole base62 alphabet", () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) for (const c of Identifier.create("message").slice(16)) seen.add(c)
    expect(seen.size).toBe(62)
  })

  test("the simulator serves an anonymous free request carrying a minted session id", async () => {
    const sim = await startSimulator()
    try {
      const response = await fetch(`${sim.zenBaseURL}/chat/completions`, {
        method: "POST",
        headers: {
          authorization: "Bearer public",
          "content-type": "application/json",
          "x-opencode-session": Identifier.create("session"),
          "x-opencode-client": "cli",
        },
        body: JSON.stringify({ model: "big-pickle", messages: [{ role: "user", content: "hi" }] }),
      })
      expect(response.status).toBe(200)
    } finally {
      await sim.stop()
    }
  })
})
