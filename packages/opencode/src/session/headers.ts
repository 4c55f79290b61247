import { Installation } from "../installation"

export interface RequestIdentity {
  providerID: string
  /** Project id: a hash of the repository, or `global`. */
  projectID: string
  sessionID: string
  /** Id of the user message that started the turn. */
  requestID: string
  /** Client name: `cli`, `desktop`, ... */
  client: string
  parentSessionID?: string
  /** The install token (see auth/identity.ts), already loaded; sent to OpenCode providers only. */
  install?: string
}

/**
 * The identification headers of one LLM request, as OpenCode sends them: the `x-opencode-*` set
 * for the OpenCode gateway providers (which log and strip them) plus the per-install
 * `x-pawwork-install` token, `x-session-affinity` for every other provider. Pure and
 * allocation-light: it runs once per request, with the identity already loaded by the caller.
 */
export function build(id: RequestIdentity): Record<string, string> {
  if (id.providerID.startsWith("opencode")) {
    const headers: Record<string, string> = {
      "x-opencode-project": id.projectID,
      "x-opencode-session": id.sessionID,
      "x-opencode-request": id.requestID,
      "x-opencode-client": id.client,
      "User-Agent": Installation.userAgent(id.client),
    }
    // Never for other providers: the token is meant for the OpenCode gateway's allowance alone.
    if (id.install) headers["x-pawwork-install"] = id.install
    return headers
  }
  const headers: Record<string, string> = { "x-session-affinity": id.sessionID }
  if (id.parentSessionID) headers["x-parent-session-id"] = id.parentSessionID
  return headers
}
