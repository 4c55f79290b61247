import type { Endpoint } from "./catalogue.ts";
import type { FaultConfig } from "./config.ts";
import { GatewayError, gatewayErrorResponse } from "./errors.ts";

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
}

/** The HTTP answer for a fault that fails the whole request. */
export function faultResponse(fault: FaultConfig, context: FaultContext): Response {
  if (fault.kind === "internal") throw new InjectedInternalError("injected internal error");
  if (fault.type !== undefined) return gatewayErrorResponse(gatewayFaultError(fault, fault.type, context), fault.headers);
  const headers = passedThroughHeaders(fault.headers);
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
    case "json":
      return new Response(JSON.stringify(providerErrorBody(fault)), {
        status: fault.status,
        headers: { "content-type": "application/json", ...headers },
      });
  }
}

/** The JSON sent as the last SSE event when a fault cuts a stream short. */
export function faultStreamPayload(fault: FaultConfig, context: FaultContext): object {
  if (fault.type !== undefined) {
    const error = gatewayFaultError(fault, fault.type, context);
    return { type: "error", error: { type: error.type, message: error.message } };
  }
  return providerErrorBody(fault);
}

function gatewayFaultError(fault: FaultConfig, type: string, context: FaultContext): GatewayError {
  return new GatewayError(fault.status, type, fault.message ?? `Simulated ${type}`, {
    metadata: fault.metadata ?? defaultGatewayMetadata(type, context),
  });
}

function defaultGatewayMetadata(type: string, context: FaultContext): Record<string, unknown> | undefined {
  if (type === "GoUsageLimitError") return { workspace: context.workspaceID ?? "wrk_unknown", limitName: "5 hour" };
  return type.endsWith("LimitError") ? {} : undefined;
}

/**
 * The upstream's own error body, in its own shape, with the message prefixed
 * the way the gateway does; the upstream's error type is left as it was.
 */
function providerErrorBody(fault: FaultConfig): object {
  const prefix = `Error from provider (${fault.provider}): `;
  if (fault.body !== undefined) return prefixUpstreamMessage(fault.body, prefix);
  const message = prefix + (fault.message ?? defaultUpstreamMessage(fault.status));
  switch (fault.provider) {
    case "anthropic":
      return { type: "error", error: { type: anthropicErrorType(fault.status), message } };
    case "openrouter":
      return { error: { message, code: fault.status, metadata: { provider_name: "simulated-upstream" } } };
    default:
      return { error: { message, type: openAIErrorType(fault.status), code: openAIErrorCode(fault.status) } };
  }
}

function prefixUpstreamMessage(body: string, prefix: string): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: { message: prefix + body } };
  }
  const error = (parsed as { error?: { message?: unknown } } | null)?.error;
  if (error && typeof error.message === "string") error.message = prefix + error.message;
  return parsed as object;
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
