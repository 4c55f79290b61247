import { bearerKey } from "./client-identity.ts";
import { GatewayError, gatewayErrorResponse, jsonResponse, secondsUntil } from "./errors.ts";
import type { SimState } from "./state.ts";

/** `GET /zen/go/v1/usage`: the caller's Go windows, as the gateway reports them to a Go key. */

const USAGE_FIELDS = { "5 hour": "rolling", weekly: "weekly", monthly: "monthly" } as const;

export function handleGoUsage(request: Request, state: SimState): Response {
  const key = bearerKey(request.headers);
  if (key === null) return gatewayErrorResponse(new GatewayError(401, "AuthError", "Missing API key."));
  const member = state.accounts.memberForKey(key);
  if (!member || member.workspace.config.blocked) {
    return gatewayErrorResponse(new GatewayError(401, "AuthError", "Unauthorized"));
  }
  if (!member.go) {
    return gatewayErrorResponse(new GatewayError(403, "EntitlementError", "No OpenCode Go subscription for this workspace."));
  }
  const now = state.clock.now().getTime();
  const format = state.config.goUsageResetFormat;
  const usage: Record<string, object> = {};
  for (const window of member.go.status(now)) {
    usage[USAGE_FIELDS[window.name]] = {
      status: window.exhausted ? "rate-limited" : "ok",
      percent: window.percent,
      ...(format === "resetsAt"
        ? { resetsAt: new Date(window.resetsAt).toISOString() }
        : { resetInSec: secondsUntil(window.resetsAt, now) }),
    };
  }
  return jsonResponse({ workspaceID: member.workspace.config.id, userID: member.config.userID, usage });
}
