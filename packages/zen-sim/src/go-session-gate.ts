import { GatewayError } from "./errors.ts";

/**
 * The Go endpoint needs an `x-opencode-session` header (since 2026-09-06; autolith #57, OpenMinis
 * #331). The research note does not document the answer for a missing one; the simulator sends
 * what third-party threads quote (anomalyco/opencode #47763, webbrain #3031): `400
 * MissingSessionID`. Any non-empty value passes: the reports name no required shape ("one stable
 * id per conversation"). Checked right after the model lookup, before every limiter, so a refused
 * request uses nothing.
 */

export type GoSessionGateMode = "required" | "off";

export const MISSING_SESSION_MESSAGE =
  "Error from provider (Console Go): Request is missing x-opencode-session and cannot be routed efficiently. " +
  "Please see https://opencode.ai/docs/go/#where-can-i-use-it";

export function enforceGoSessionGate(mode: GoSessionGateMode, session: string | null): void {
  if (mode === "off" || (session !== null && session.trim() !== "")) return;
  throw new GatewayError(400, "MissingSessionID", MISSING_SESSION_MESSAGE);
}
