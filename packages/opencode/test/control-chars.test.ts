import { afterAll, describe, expect, test } from "bun:test"
import fs from "node:fs/promises"
import path from "node:path"
import { ProviderError } from "../src/provider"
import { SessionDiagnostics } from "../src/session"
import { redact } from "../src/util/redact"
import { bounded } from "../src/util/scrub"
import { makeInstall, runCli, type TestInstall } from "./fixture/install"

/**
 * Terminal control characters from outside (an upstream body, a hostile or damaged log) never reach
 * human output: bounded() drops them, and `diagnose` refuses records whose identifier fields carry
 * anything but printable text, counting them as skipped.
 */

// Anything a terminal would act on or that hides text: C0 but the plain whitespace, DEL, C1, bidi
// overrides, zero-width characters.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/

const NOW = Date.parse("2026-11-21T10:02:57Z")
const installs: TestInstall[] = []
afterAll(() => Promise.all(installs.map((i) => i.cleanup())))

describe("bounded()", () => {
  test("drops C0, DEL, C1 and invisible format characters; whitespace still collapses to one space", () => {
    expect(bounded("a\u001b[31mRED\u0000b\u007fc\u009b2Jd\u202eevil\u200be", 100)).toBe("a[31mREDbc2Jdevile")
    expect(bounded("one\ttwo\r\nthree\u000bfour\u000cfive", 100)).toBe("one two three four five")
    expect(bounded("\u0000".repeat(50), 100)).toBe("")
    expect(bounded("\ud800 lone surrogate", 100)).toBe("lone surrogate")
  })

  test("a control character cannot split a key into pieces too short for the scrubber", () => {
    const out = bounded("key sk-ab\u0000cdefgh1234 end", 100)
    expect(out).not.toContain("cdefgh1234")
    expect(out).toContain("sk-[redacted]")
  })

  test("the support bundle's object keys lose control characters too", () => {
    expect(Object.keys(redact({ "a\u001b[31mb": 1 }) as object)).toEqual(["a[31mb"])
  })
})

describe("ProviderError.classify", () => {
  test("a body of NULs or escapes gives a message without control characters", () => {
    for (const body of ["\u0000".repeat(200), "\u001b[2J\u001b[31mboom\u0007", `{"error":{"message":"bad\\u001b[31m\\u0000thing"}}`]) {
      for (const status of [400, 500, 529]) {
        const info = ProviderError.classify({ status, body }, NOW)
        expect(info.message).not.toMatch(CONTROL)
      }
    }
  })
})

function record(seq: number, extra: Record<string, unknown> = {}) {
  return {
    event: "provider.failure",
    time: new Date(Date.UTC(2026, 10, 21, 10, 0, seq)).toISOString(),
    sessionID: "ses_hostile",
    requestID: `msg_${seq}`,
    providerID: "opencode",
    modelID: "big-pickle",
    baseURL: "https://opencode.ai/zen/v1",
    authSource: "public",
    installHeaderSent: true,
    attempt: 1,
    runtimeVersion: "0.1.0",
    kind: "unknown",
    retryable: false,
    action: "stop",
    stopReason: "not_retryable",
    statusCode: 500,
    ...extra,
  } satisfies Record<string, unknown> & Partial<SessionDiagnostics.Failure>
}

describe("diagnose with a hostile log", () => {
  test("records whose identifiers carry control characters are skipped; free text is cleaned; no escape reaches the output", async () => {
    const install = await makeInstall()
    installs.push(install)
    const hostile = [
      record(1, { modelID: "m\u001b[31mRED" }),
      record(2, { providerID: "open\u009bcode" }),
      record(3, { sessionID: "ses_\u0000x" }),
      record(4, { requestID: "msg_\u202e4" }),
      record(5, { upstreamType: "Err\u001b]0;pwned\u0007" }),
      record(6, { upstreamCode: "c\u0008ode" }),
      record(7, { upstreamProvider: "x\u001bc" }),
      record(8, { authSource: "env", authEnvVar: "KEY\u001b[2J" }),
      record(9, { keyFingerprint: "fp_\u001b[1m" }),
      record(10, { installFingerprint: "fp_abc\u0007" }),
      record(11, { runtimeVersion: "0.1\u001b" }),
      record(12, { stopReason: "x\u001b[K" }),
      record(13, { retryAfterRaw: "5\u001b[A" }),
      record(14, { limitName: "5h\u001b[A" }),
      record(15, { workspaceID: "wrk\u2028x" }),
      record(16, { baseURL: "https://h\u001b[31m/x" }),
    ]
    // The free-text message is cleaned, not refused: the record is kept.
    const kept = [record(20), record(21, { kind: "invalid_request", message: "bad\u001b[2J\u0000request\u009b31m" })]
    const file = path.join(install.root, "provider.jsonl")
    await fs.writeFile(file, [...hostile, ...kept].map((r) => JSON.stringify(r)).join("\n") + "\n")

    const human = await runCli(["diagnose", file], install.env)
    expect(human.code).toBe(0)
    expect(human.stdout).toContain(`skipped ${hostile.length} damaged lines`)
    expect(human.stdout).toContain("rejected the request as invalid (HTTP 500): bad[2Jrequest31m.")
    expect(human.stdout + human.stderr).not.toMatch(CONTROL)

    const json = JSON.parse((await runCli(["diagnose", file, "--json"], install.env)).stdout) as { failures: { requestID: string; message?: string }[]; skipped: number }
    expect(json.skipped).toBe(hostile.length)
    expect(json.failures.map((f) => f.requestID)).toEqual(["msg_20", "msg_21"])
    expect(json.failures[1]!.message).toBe("bad[2Jrequest31m")

    const out = path.join(install.root, "bundle.json")
    expect((await runCli(["diagnose", file, "--bundle", out], install.env)).code).toBe(0)
    expect(await fs.readFile(out, "utf8")).not.toMatch(/\\u00[01][0-9a-f]|\\u007f|\\u009/i)
  }, 60_000)

  test("ordinary identifiers still pass: model ids with slashes, colons, @ and dots, ids with spaces", async () => {
    const install = await makeInstall()
    installs.push(install)
    const records = [
      record(1, { modelID: "qwen/qwen3-coder:free" }),
      record(2, { modelID: "accounts/fireworks/models/llama-v3p1@fp8", sessionID: "my session" }),
      record(3, { upstreamProvider: "Google Vertex", limitName: "5 hour", retryAfterRaw: "Wed, 21 Nov 2026 10:00:00 GMT" }),
    ]
    const file = path.join(install.root, "provider.jsonl")
    await fs.writeFile(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n")
    const json = JSON.parse((await runCli(["diagnose", file, "--json"], install.env)).stdout) as { failures: unknown[]; skipped: number }
    expect(json.skipped).toBe(0)
    expect(json.failures).toHaveLength(3)
  }, 60_000)
})
