import { GatewayError, gatewayErrorResponse, jsonResponse, secondsUntil } from "./errors.ts";
import type { SimState } from "./state.ts";

/**
 * `GET /zen/go/v1/usage`: the caller's Go windows, as the gateway reports them to a Go key
 * (gateway-drift-2026.md, section 3, row 15). The key must be exactly `Bearer <key>`; the
 * anonymous `public` is no key here but an unauthorised one; percents are rounded down.
 */

const USAGE_FIELDS = { "5 hour": "rolling", weekly: "weekly", monthly: "monthly" } as const;

export function handleGoUsage(request: Request, state: SimState): Response {
  const key = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (key === undefined) return gatewayErrorResponse(new GatewayError(401, "AuthError", "Missing API key."));
  const member = key === "public" ? undefined : state.accounts.memberForKey(key);
  if (!member || member.workspace.config.blocked) {
    return gatewayErrorResponse(new GatewayError(401, "AuthError", "Unauthorized"));
  }
  if (!member.go) {
    return gatewayErrorResponse(new GatewayError(403, "EntitlementError", "OpenCode Go subscription required."));
  }
  const now = state.clock.now().getTime();
  const format = state.config.goUsageResetFormat;
  const usage: Record<string, object> = {};
  for (const window of member.go.status(now)) {
    usage[USAGE_FIELDS[window.name]] = {
      status: window.exhausted ? "rate-limited" : "ok",
      percent: usagePercent(window.spentUSD, window.limitUSD),
      ...(format === "resetsAt"
        ? { resetsAt: new Date(window.resetsAt).toISOString() }
        : { resetInSec: secondsUntil(window.resetsAt, now) }),
    };
  }
  return jsonResponse({ workspaceID: member.workspace.config.id, userID: member.config.userID, usage });
}

/** floor(min(100, usage / limit × 100)); a zero limit is fully used. */
export function usagePercent(spentUSD: number, limitUSD: number): number {
  if (limitUSD <= 0) return 100;
  return Math.floor(Math.min(100, (spentUSD / limitUSD) * 100));
}
