import type { Provider } from "../provider"
import type * as ProviderError from "../provider/error"
import * as SessionDiagnostics from "../session/diagnostics"
import type * as AuthSource from "./auth-source"
import type { Target } from "./gateway-hosts"

/**
 * The diagnostics record of one failed answer seen by the fetch layer: the runtime's own
 * `provider.failure` record (session/diagnostics.ts builds it, field by field from its allow-list),
 * so `diagnose` reads the layer's records and the runtime's alike. The layer never retries: the
 * answer goes back to the host, whose own retry policy decides, and the record says exactly that.
 */

export const STOP_REASON = "returned_to_host"

export interface Seen {
  target: Target
  modelID: string | undefined
  sessionID: string | undefined
  requestID: string
  attempt: number
  auth: AuthSource.Found
  /** Fingerprint of the install token the request carried (the layer's or the host's own), if any. */
  installFingerprint: string | undefined
  time: number
}

export function build(seen: Seen, info: ProviderError.Info): SessionDiagnostics.Failure {
  const { auth } = seen
  // session/diagnostics.ts reads a resolved model; this is the part of one a fetch-level request shows.
  const model: Provider.Resolved = {
    provider: {
      id: seen.target.providerID,
      name: seen.target.providerID,
      npm: "",
      baseURL: seen.target.baseURL,
      opencode: true,
      gateway: true,
      credential: {
        key: undefined,
        // `host` is not a source the runtime resolves keys from; it is set on the record below.
        source: auth.source === "host" ? "config" : auth.source,
        ...(auth.envVar ? { envVar: auth.envVar } : {}),
        ...(auth.fingerprint ? { fingerprint: auth.fingerprint } : {}),
      },
      headers: {},
      models: {},
      hidden: [],
    },
    model: {
      id: seen.modelID ?? "unknown",
      name: seen.modelID ?? "unknown",
      cost: { input: 0, output: 0 },
      limit: { context: 0, output: 0 },
      providerID: seen.target.providerID,
      free: false,
    },
    install: seen.installFingerprint
      ? { sent: true, optedOut: false, persisted: true, fingerprint: seen.installFingerprint }
      : { sent: false, optedOut: true, persisted: false },
  }
  const record = SessionDiagnostics.failureRecord(
    { model, sessionID: seen.sessionID ?? "none", requestID: seen.requestID, now: () => seen.time },
    { info, attempt: seen.attempt, error: undefined, streamedText: false },
    { action: "stop", reason: STOP_REASON },
  )
  return { ...record, authSource: auth.source }
}
