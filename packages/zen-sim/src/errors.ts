/**
 * Gateway error responses. Every error the gateway itself raises has the
 * body `{ type: "error", error: { type, message }, metadata? }`; the error
 * type name is the contract clients classify on.
 */

export type GatewayErrorType =
  | "FreeUsageLimitError"
  | "RateLimitError"
  | "AuthError"
  | "CreditsError"
  | "MonthlyLimitError"
  | "UserLimitError"
  | "ModelError"
  | "RegionError"
  | "ModelAccessError"
  | "DataPolicyError"
  | "GoUsageLimitError"
  | "BlackUsageLimitError"
  | "SubscriptionUsageLimitError"
  | "EntitlementError"
  | "NotFoundError"
  | "BadRequestError";

export interface GatewayErrorOptions {
  metadata?: Record<string, unknown>;
  retryAfterSec?: number;
}

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly status: number,
    readonly type: GatewayErrorType | (string & {}),
    message: string,
    readonly options: GatewayErrorOptions = {},
  ) {
    super(message);
  }
}

export function gatewayErrorResponse(error: GatewayError, extraHeaders: Record<string, string> = {}): Response {
  const body: Record<string, unknown> = { type: "error", error: { type: error.type, message: error.message } };
  if (error.options.metadata !== undefined) body.metadata = error.options.metadata;
  const headers: Record<string, string> = { ...extraHeaders };
  if (error.options.retryAfterSec !== undefined) headers["retry-after"] = String(error.options.retryAfterSec);
  return jsonResponse(body, error.status, headers);
}

// Deliberately fixed text: whatever went wrong inside, nothing about it reaches the client.
export function internalErrorResponse(): Response {
  return jsonResponse({ type: "error", error: { type: "error", message: "Internal server error" } }, 500);
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Whole seconds until `until`, never less than 1 so a client never busy-loops on `retry-after: 0`. */
export function secondsUntil(until: number, now: number): number {
  return Math.max(1, Math.ceil((until - now) / 1000));
}
