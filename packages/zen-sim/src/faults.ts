import type { Endpoint } from "./catalogue.ts";
import type { FaultConfig } from "./config.ts";
import { GatewayError, gatewayErrorResponse, internalErrorResponse } from "./errors.ts";

/**
 * Injected failures, applied after the gateway has admitted a request, where
 * the real gateway would call the upstream model provider. Faults are tried
 * in order; the first that matches fires and uses up one of its `count`.
 */

export class InjectedInternalError extends Error {
  override readonly name = "InjectedInternalError";
}

export class FaultInjector {
  private readonly remaining: number[];

  constructor(private readonly faults: FaultConfig[]) {
    this.remaining = faults.map((f) => f.count);
  }

  take(endpoint: Endpoint, model: string): FaultConfig | null {
    for (const [i, fault] of this.faults.entries()) {
      const left = this.remaining[i] ?? 0;
      if (left === 0) continue;
      if (fault.endpoint !== undefined && fault.endpoint !== endpoint) continue;
      if (fault.model !== undefined && fault.model !== model) continue;
      if (left > 0) this.remaining[i] = left - 1; // -1 means forever
      return fault;
    }
    return null;
  }
}

export interface FaultContext {
  workspaceID: string | null;
  /** Whether the client asked for a stream: the gateway prefixes fewer upstream errors then. */
  stream: boolean;
}

// On a streamed request the gateway prefixes the upstream's error only for these statuses.
const PREFIXED_ON_STREAMS = new Set([400, 404, 429, 529]);

/** The HTTP answer for a fault that fails the whole request. */
export function faultResponse(fault: FaultConfig, context: FaultContext): Response {
  if (fault.kind === "internal") throw new InjectedInternalError("injected internal error");
  if (fault.type !== undefined) return gatewayErrorResponse(gatewayFaultError(fault, fault.type, context), fault.headers);
  return fault.source === "edge" ? edgeResponse(fault) : upstreamResponse(fault, context);
}

/**
 * The upstream provider's answer as the gateway passes it on: only a JSON body gets through
 * (anything else is the gateway's own 500), a 404 becomes 400, only `content-type` and
 * `cache-control` are kept, and the message is prefixed with the provider's display name, if it
 * has one, on non-stream requests or for the statuses in PREFIXED_ON_STREAMS.
 */
function upstreamResponse(fault: FaultConfig, context: FaultContext): Response {
  const body = upstreamBody(fault);
  if (body === null) return internalErrorResponse();
  const name = displayName(fault);
  if (name !== null && (!context.stream || PREFIXED_ON_STREAMS.has(fault.status))) {
    prefixMessage(body, `Error from provider (${name}): `);
  }
  return new Response(JSON.stringify(body), {
    status: fault.status === 404 ? 400 : fault.status,
    headers: { "content-type": "application/json", ...passedThroughHeaders(fault.headers) },
  });
}

/** Something in front of the gateway (a CDN, a proxy) answered: its body and headers as they are. */
function edgeResponse(fault: FaultConfig): Response {
  const headers = fault.headers ?? {};
  switch (fault.kind) {
    case "html":
      return new Response(fault.body ?? defaultHtmlBody(fault.status), {
        status: fault.status,
        headers: { "content-type": "text/html; charset=utf-8", ...headers },
      });
    case "empty":
      return new Response(null, { status: fault.status, headers });
    case "raw":
      return new Response(fault.body ?? "", { status: fault.status, headers: { "content-type": "text/plain", ...headers } });
    default:
      return new Response(fault.body ?? JSON.stringify(defaultProviderBody(fault, fault.message ?? defaultUpstreamMessage(fault.status))), {
        status: fault.status,
        headers: { "content-type": "application/json", ...headers },
      });
  }
}

/**
 * The JSON sent as the last SSE event when a fault cuts a stream short: the provider's own error
 * event, unprefixed. Gateway errors are raised before the upstream call, so they never get here.
 */
export function faultStreamPayload(fault: FaultConfig): object {
  return upstreamBody(fault) ?? defaultProviderBody(fault, defaultUpstreamMessage(fault.status));
}

function gatewayFaultError(fault: FaultConfig, type: string, context: FaultContext): GatewayError {
  return new GatewayError(fault.status, type, fault.message ?? `Simulated ${type}`, {
    metadata: fault.metadata ?? defaultGatewayMetadata(fault.status, type, context),
  });
}

// 401 bodies never carry metadata; of the 429 limit errors the older Black name had none either.
const WITHOUT_METADATA = new Set(["MonthlyLimitError", "UserLimitError", "SubscriptionUsageLimitError"]);

function defaultGatewayMetadata(status: number, type: string, context: FaultContext): Record<string, unknown> | undefined {
  if (status === 401 || WITHOUT_METADATA.has(type)) return undefined;
  if (type === "GoUsageLimitError") return { workspace: context.workspaceID ?? "wrk_unknown", limitName: "5 hour" };
  return type.endsWith("LimitError") ? {} : undefined;
}

/** The display name in the gateway's prefix: `displayName` when set (null: none), else the provider id. */
function displayName(fault: FaultConfig): string | null {
  return fault.displayName === undefined ? fault.provider : fault.displayName;
}

/** The upstream's JSON error body, unprefixed; null when what it sent is not JSON. */
function upstreamBody(fault: FaultConfig): Record<string, unknown> | null {
  switch (fault.kind) {
    case "html":
    case "empty":
    case "internal":
      return null;
    case "raw":
      return parseObject(fault.body ?? "");
    case "json":
      return fault.body !== undefined
        ? parseObject(fault.body)
        : defaultProviderBody(fault, fault.message ?? defaultUpstreamMessage(fault.status));
  }
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The provider's own error body in its own shape; the gateway keeps its error type. */
function defaultProviderBody(fault: FaultConfig, message: string): Record<string, unknown> {
  switch (fault.provider) {
    case "anthropic":
      return { type: "error", error: { type: anthropicErrorType(fault.status), message } };
    case "openrouter":
      return { error: { message, code: fault.status, metadata: { provider_name: "simulated-upstream" } } };
    default:
      return { error: { message, type: openAIErrorType(fault.status), code: openAIErrorCode(fault.status) } };
  }
}

function prefixMessage(body: Record<string, unknown>, prefix: string): void {
  const error = body.error as { message?: unknown } | null | undefined;
  if (error && typeof error === "object" && typeof error.message === "string") error.message = prefix + error.message;
}

// The gateway forwards only these upstream headers; that is why a provider 429 arrives without retry-after.
function passedThroughHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === "content-type" || lower === "cache-control") out[lower] = value;
  }
  return out;
}

function defaultUpstreamMessage(status: number): string {
  const texts: Record<number, string> = {
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    529: "Overloaded",
  };
  return texts[status] ?? `Upstream error ${status}`;
}

function anthropicErrorType(status: number): string {
  if (status === 529 || status === 503) return "overloaded_error";
  if (status === 429) return "rate_limit_error";
  if (status === 401) return "authentication_error";
  if (status === 400) return "invalid_request_error";
  return "api_error";
}

function openAIErrorType(status: number): string {
  if (status === 429) return "requests";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

function openAIErrorCode(status: number): string | null {
  if (status === 429) return "rate_limit_exceeded";
  return status >= 500 ? "server_error" : null;
}

function defaultHtmlBody(status: number): string {
  return `<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center><hr><center>upstream</center></body></html>`;
}
