/**
 * How the runtime tells a PawWork relay's answers apart (packages/relay). Its own module because
 * both the classifier (error.ts) and the words (error-message.ts) need it.
 */

/** The header a PawWork relay puts on every answer (packages/relay/src/server.ts, RELAY_HEADER). */
export const RELAY_HEADER = "x-pawwork-relay"

/**
 * A PawWork relay's own answers about the install's request, as opposed to the gateway's answers
 * about the relay's account that it passes through.
 */
export const RELAY_TYPES: ReadonlySet<string> = new Set([
  "InstallLimitError",
  "IpLimitError",
  "NewInstallLimitError",
  "RelayBudgetError",
  "ConcurrencyLimitError",
  "RelayUnavailableError",
  "RequestTooLargeError",
  "InstallTokenError",
  "UpstreamTimeoutError",
  "UpstreamUnavailableError",
])
