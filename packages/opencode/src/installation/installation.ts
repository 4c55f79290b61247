import { RuntimeError } from "../util/error"
import { CHANNEL, VERSION } from "./version"

/**
 * Who this runtime says it is to the OpenCode gateway: its version and release channel, as a host
 * embedding the module set them (`configure`), else this package's own. The User-Agent is built
 * here and nowhere else, so the request path, `request --dry-run` and diagnostics cannot disagree.
 *
 * Honest by construction: the channel always names PawWork, so no configuration can make the
 * runtime pass for OpenCode's own client, and the version is the host's own release.
 */

export interface Info {
  version: string
  channel: string
}

export class InvalidInstallationError extends RuntimeError {
  readonly code = "installation_invalid"
  constructor(
    readonly field: "version" | "channel" | "client",
    given: unknown,
    expected: string,
  ) {
    super(`Installation ${field} ${describe(given)} is not valid: ${expected}. Nothing was changed.`)
    this.name = "InvalidInstallationError"
  }
}

// Semver's shape (https://semver.org), bounded: it ends up in every request's User-Agent.
const SEMVER = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/
const MAX_VERSION = 64
// `pawwork`, or `pawwork-<suffix>` for a host's own channels (`pawwork-beta`): no `/`, so the
// User-Agent's four fields stay four.
const CHANNEL_PATTERN = /^pawwork(-[a-z0-9][a-z0-9.-]{0,23})?$/
// A short HTTP token without `/`: it is both a header value and a User-Agent field.
const CLIENT_PATTERN = /^[A-Za-z0-9._-]{1,32}$/

let current: Info = { version: VERSION, channel: CHANNEL }

/**
 * Sets the version and channel this runtime reports, validated as a whole: on a bad value it
 * throws InvalidInstallationError and keeps the previous values. Returns what is now in effect.
 */
export function configure(input: { version?: string; channel?: string }): Info {
  const version = input.version ?? current.version
  const channel = input.channel ?? current.channel
  if (typeof version !== "string" || version.length > MAX_VERSION || !SEMVER.test(version))
    throw new InvalidInstallationError("version", version, `give the host's own release as a semantic version, such as 1.4.2 or 2.0.0-beta.1 (at most ${MAX_VERSION} characters)`)
  if (typeof channel !== "string" || !CHANNEL_PATTERN.test(channel))
    throw new InvalidInstallationError("channel", channel, `give "pawwork" or "pawwork-<name>" in lower case, such as pawwork-beta: the channel says which client sent the request`)
  current = { version, channel }
  return info()
}

/** Back to this package's own version and channel (tests, hosts that reconfigure). */
export function reset(): Info {
  current = { version: VERSION, channel: CHANNEL }
  return info()
}

export function info(): Info {
  return { ...current }
}

export function version(): string {
  return current.version
}

/** OpenCode's form, `opencode/<channel>/<version>/<client>`, with this runtime's own values. */
export function userAgent(client: string): string {
  if (typeof client !== "string" || !CLIENT_PATTERN.test(client))
    throw new InvalidInstallationError("client", client, "give a short client name such as cli or desktop (letters, digits, '-', '_' or '.', at most 32)")
  return `opencode/${current.channel}/${current.version}/${client}`
}

function describe(given: unknown): string {
  if (typeof given !== "string") return `(${given === null ? "null" : typeof given})`
  const shown = given.length > 40 ? `${given.slice(0, 40)}…` : given
  // JSON quoting keeps control characters in a bad value from reaching a terminal.
  return JSON.stringify(shown)
}
