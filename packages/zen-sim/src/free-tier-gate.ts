import { isAtLeast, openCodeVersion, parseVersion } from "./client-version.ts";
import { GatewayError } from "./errors.ts";
import { isCanonicalSessionID, sessionIDSkewMs } from "./session-id.ts";

/**
 * The free tier's client gate (since 2026-09-17; gateway-drift-2026.md, section 1): anonymous
 * requests for free models must look like they come from OpenCode's own client. It runs before
 * the free limiter, so a refused request never uses any of the allowance.
 *
 * - `session`: `x-opencode-session` in OpenCode's canonical id shape, else 403 FreeTierError.
 * - `session+ua` (unconfirmed, 9router #4105): also a User-Agent naming an OpenCode version of at
 *   least `minClientVersion`; a User-Agent that is not OpenCode's is the same 403, an OpenCode
 *   version below the minimum is `426 Upgrade Required`.
 * - `freeTierSessionMaxAgeSec` (unconfirmed, krouter #14; null = off): the time inside the session
 *   id must be within that many seconds of the simulated clock.
 * - `closed` (unconfirmed, opencode2api #29: canonical ids refused again some hours later): every
 *   anonymous free request is refused, the free tier closed to everyone but OpenCode's own client.
 */

export type FreeTierGateMode = "off" | "session" | "session+ua" | "closed";

export interface FreeTierGateRules {
  freeTierGate: FreeTierGateMode;
  minClientVersion: string;
  freeTierSessionMaxAgeSec: number | null;
}

export interface GatedRequest {
  /** The `x-opencode-session` value, or null when absent. */
  session: string | null;
  userAgent: string | null;
}

export const FREE_TIER_MESSAGE = "Error from provider (Console): OpenCode's free tier can only be used from within OpenCode";

/** Throws the gateway's refusal when an anonymous free-model request does not pass the gate. */
export function enforceFreeTierGate(rules: FreeTierGateRules, request: GatedRequest, now: number): void {
  if (rules.freeTierGate === "off") return;
  if (rules.freeTierGate === "closed") throw freeTierError();
  if (!isCanonicalSessionID(request.session)) throw freeTierError();
  const maxAge = rules.freeTierSessionMaxAgeSec;
  if (maxAge !== null && sessionIDSkewMs(request.session, now) > maxAge * 1000) throw freeTierError();
  if (rules.freeTierGate !== "session+ua") return;
  const version = openCodeVersion(request.userAgent);
  if (!version) throw freeTierError();
  const minimum = parseVersion(rules.minClientVersion);
  if (minimum && !isAtLeast(version, minimum.core)) {
    throw new GatewayError(426, "UpgradeRequiredError", `OpenCode ${rules.minClientVersion} or newer is required to use the free tier`);
  }
}

function freeTierError(): GatewayError {
  return new GatewayError(403, "FreeTierError", FREE_TIER_MESSAGE);
}
