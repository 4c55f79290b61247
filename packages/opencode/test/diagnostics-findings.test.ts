import { describe, expect, test } from "bun:test"
import type { SessionDiagnostics } from "../src/session"
import fs from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import * as DiagnosticsFindings from "../src/session/diagnostics-findings"
import * as DiagnosticsRead from "../src/session/diagnostics-read"

/** The identity-header finding: turned off by the user vs a provider the identity never goes to. */

function request(seq: number, providerID: string, install: { sent: boolean; fingerprint?: string }): SessionDiagnostics.Request {
  return {
    event: "provider.request",
    time: new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + seq).toISOString(),
    sessionID: "ses_findings",
    requestID: `msg_${seq}`,
    providerID,
    modelID: "big-pickle",
    baseURL: "http://127.0.0.1:1/v1",
    authSource: "config",
    ...(install.fingerprint ? { installFingerprint: install.fingerprint } : {}),
    installHeaderSent: install.sent,
    attempt: 1,
    runtimeVersion: "0.1.0",
  }
}

const findings = (entries: SessionDiagnostics.Entry[]) => DiagnosticsFindings.findings(DiagnosticsFindings.group(entries))

describe("identity header findings", () => {
  test("a user-declared opencode* provider is not reported as opted out", () => {
    const out = findings([request(1, "opencode-relay", { sent: false, fingerprint: "fp_0123456789ab" }), request(2, "opencode", { sent: true, fingerprint: "fp_0123456789ab" })])
    expect(out.join("\n")).not.toContain("opted out")
    expect(out).toEqual([
      "Identity header not sent on 1 request to opencode-relay: not a built-in OpenCode gateway provider (only opencode and opencode-go are), so the install identity is never sent there.",
    ])
  })

  test("an opted-out install is still reported as opted out", () => {
    expect(findings([request(1, "opencode", { sent: false }), request(2, "opencode-go", { sent: false })])).toEqual([
      "Identity header not sent on 2 requests: the install identity is turned off (opted out), so the gateway could tell this install apart only by its network.",
    ])
  })

  test("both at once: two findings", () => {
    expect(findings([request(1, "opencode", { sent: false }), request(2, "opencode-relay", { sent: false, fingerprint: "fp_0123456789ab" }), request(3, "opencode-b", { sent: false, fingerprint: "fp_0123456789ab" })])).toHaveLength(2)
  })
})

function failure(seq: number, fields: Partial<SessionDiagnostics.Failure>): SessionDiagnostics.Failure {
  return {
    event: "provider.failure",
    time: new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + seq).toISOString(),
    sessionID: "ses_findings",
    requestID: `msg_${seq}`,
    providerID: "opencode",
    modelID: "big-pickle",
    baseURL: "https://opencode.ai/zen/v1",
    authSource: "public",
    installFingerprint: "fp_0123456789ab",
    installHeaderSent: true,
    attempt: 1,
    runtimeVersion: "0.1.0",
    kind: "unknown",
    retryable: false,
    action: "stop",
    stopReason: "not_retryable",
    ...fields,
  }
}

describe("whose side a failure is on", () => {
  test("the free-tier gate: refused to this client, not a key problem, and what works instead", () => {
    const out = findings([failure(1, { kind: "free_tier_gated", origin: "gateway", statusCode: 403, upstreamType: "FreeTierError" })])
    expect(out).toEqual([
      "OpenCode refused its free tier to this client on the anonymous path (HTTP 403 FreeTierError): its free models now serve only OpenCode's own app; " +
        "not a key problem, not a used-up quota, not an outage. A saved OpenCode key (`auth set opencode`) or an OpenCode Go subscription works.",
    ])
  })

  test("OpenCode's own account with a provider is told apart from the user's", () => {
    const upstream = failure(1, {
      modelID: "gpt-5",
      authSource: "env",
      authEnvVar: "OPENCODE_API_KEY",
      keyFingerprint: "fp_0123456789ab",
      kind: "credits_exhausted",
      origin: "upstream",
      statusCode: 429,
      upstreamType: "insufficient_quota",
      upstreamProvider: "OpenAI",
    })
    const own = failure(2, { authSource: "auth", keyFingerprint: "fp_ba9876543210", kind: "auth", origin: "gateway", statusCode: 401, upstreamType: "AuthError" })
    const out = findings([upstream, own])
    expect(out[0]).toBe(
      "OpenAI refused opencode/gpt-5 (HTTP 429 insufficient_quota) behind OpenCode's gateway: OpenCode's own account with OpenAI, not this user's key, balance or spend limit; another model, or later, helps.",
    )
    expect(out[0]).not.toContain("add credits")
    expect(out[1]).toBe("Saved key fp_ba9876543210 rejected (HTTP 401 AuthError): re-enter it (`auth set opencode`).")
    expect(out[2]).toBe(
      "1 failed request refused by the model providers behind OpenCode's gateway (OpenAI): OpenCode's side and its own accounts with those providers, " +
        "not this user's key, balance or spend limit; the 1 other failed request was about this user's account, limits or client at the gateway.",
    )
  })

  test("records written before origin existed still read: a named provider is upstream, the rest is not guessed", () => {
    const { origin: _, ...old } = failure(1, { kind: "credits_exhausted", statusCode: 429, upstreamProvider: "OpenAI" })
    expect(DiagnosticsFindings.originOf(old)).toBe("upstream")
    expect(findings([old])[0]).toStartWith("OpenAI refused opencode/big-pickle (HTTP 429) behind OpenCode's gateway")
    expect(DiagnosticsFindings.originOf({ upstreamProvider: "Console" })).toBeUndefined()
    expect(DiagnosticsFindings.originOf({})).toBeUndefined()
    const { origin: __, ...gatewayOld } = failure(2, { kind: "credits_exhausted", statusCode: 401, upstreamType: "CreditsError", authSource: "auth" })
    expect(findings([gatewayOld])).toEqual(["Saved key has no credits: add credits in OpenCode's console (https://opencode.ai/console); not an outage."])
  })

  test("a 426 says the gateway wants a newer OpenCode client than PawWork honestly reports, and what works meanwhile; no promise that an update fixes it", () => {
    const out = findings([failure(1, { kind: "client_outdated", origin: "gateway", statusCode: 426, upstreamType: "UpgradeRequiredError" })])
    expect(out).toHaveLength(1)
    expect(out[0]).toStartWith("OpenCode's gateway refused this client version (runtime 0.1.0) (HTTP 426 UpgradeRequiredError) on opencode/big-pickle")
    expect(out[0]).toContain("not a key problem")
    expect(out[0]).toContain("`auth set opencode`")
    expect(out[0]).not.toContain("needs an update")
  })

  test("a blocked workspace (AuthError 'Request blocked by upstream provider.') is not a key to re-enter", () => {
    const out = findings([
      failure(1, { kind: "auth", origin: "gateway", statusCode: 401, upstreamType: "AuthError", authSource: "auth", keyFingerprint: "fp_ba9876543210", message: "Request blocked by upstream provider." }),
    ])
    expect(out).toEqual([
      "Workspace blocked by OpenCode with the saved key (fp_ba9876543210) (HTTP 401 AuthError): the key is not the problem, re-entering it will not help; the workspace owner must contact OpenCode support.",
    ])
  })

  test("a request too large in bytes names the relay's limit or a limit on the way, never the context window", () => {
    const relay = findings([
      failure(1, { kind: "request_too_large", origin: "gateway", statusCode: 413, upstreamType: "RequestTooLargeError", message: "The request body is larger than the relay accepts (1048576 bytes)." }),
    ])
    expect(relay).toHaveLength(1)
    expect(relay[0]).toStartWith("The request to opencode/big-pickle was refused as too large in bytes (HTTP 413 RequestTooLargeError)")
    expect(relay[0]).toContain("the PawWork relay's body limit")
    const proxy = findings([failure(2, { kind: "request_too_large", origin: "upstream", statusCode: 413, message: "" })])
    expect(proxy[0]).toContain("a size limit on the way, not the context window")
  })

  test("an overload or server error upstream gets no account finding: its own sentence already says whose it is", () => {
    const out = findings([failure(1, { kind: "overloaded", origin: "upstream", statusCode: 529, upstreamProvider: "anthropic", stopReason: "attempts_exhausted", attempt: 4 })])
    expect(out).toEqual(["Provider overload (anthropic) on opencode/big-pickle, gave up after 4 attempts; not your quota or account."])
  })
})

test("the reader takes records with and without origin, and refuses an origin it does not know", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "pawwork-origin-"))
  try {
    const file = path.join(dir, "provider.jsonl")
    const { origin: _, ...old } = failure(1, { kind: "server_error", statusCode: 500 })
    const lines = [old, failure(2, { kind: "free_tier_gated", origin: "gateway" }), failure(3, { kind: "auth", origin: "martian" as never })]
    await fs.writeFile(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n")
    const read = await DiagnosticsRead.read([file])
    expect(read.entries.map((e) => (e.event === "provider.failure" ? [e.kind, e.origin] : []))).toEqual([
      ["server_error", undefined],
      ["free_tier_gated", "gateway"],
    ])
    expect(read.skipped).toBe(1)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
})
