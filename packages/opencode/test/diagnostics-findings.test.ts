import { describe, expect, test } from "bun:test"
import type { SessionDiagnostics } from "../src/session"
import * as DiagnosticsFindings from "../src/session/diagnostics-findings"

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
