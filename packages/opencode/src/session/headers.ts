import { CHANNEL, VERSION } from "../installation/version"

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
}

/**
 * The identification headers of one LLM request, as OpenCode sends them: the `x-opencode-*` set
 * for the OpenCode gateway providers (which log and strip them), `x-session-affinity` for every
 * other provider. Pure and allocation-light: it runs once per request.
 */
export function build(id: RequestIdentity): Record<string, string> {
  if (id.providerID.startsWith("opencode"))
    return {
      "x-opencode-project": id.projectID,
      "x-opencode-session": id.sessionID,
      "x-opencode-request": id.requestID,
      "x-opencode-client": id.client,
      "User-Agent": `opencode/${CHANNEL}/${VERSION}/${id.client}`,
    }
  const headers: Record<string, string> = { "x-session-affinity": id.sessionID }
  if (id.parentSessionID) headers["x-parent-session-id"] = id.parentSessionID
  return headers
}
