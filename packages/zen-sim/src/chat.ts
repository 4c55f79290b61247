import type { Endpoint, Format } from "./catalogue.ts";
import { isIdentifiedClient, quotaIdentity, requestRegion, bearerKey, type QuotaKeyMode } from "./client-identity.ts";
import { planCompletion } from "./completion.ts";
import { GatewayError, gatewayErrorResponse, internalErrorResponse, jsonResponse } from "./errors.ts";
import { faultResponse, faultStreamPayload } from "./faults.ts";
import { admitChat, type Admission } from "./gateway.ts";
import { pickLanguage } from "./messages.ts";
import { sseResponse } from "./sse.ts";
import { DEFAULT_STALL_INTERVAL_MS, stallResponse } from "./stall.ts";
import type { SimState } from "./state.ts";
import { WIRE_FORMATS } from "./wire-format.ts";

/**
 * A model request on either endpoint, in any of the three shapes (`/chat/completions`,
 * `/messages`, `/responses`): admission, then a fault or a deterministic answer.
 */

export interface ChatContext {
  state: SimState;
  clientIP: string;
  trustProxy: boolean;
  quotaKey: QuotaKeyMode;
}

let completionCounter = 0;

export async function handleChat(
  request: Request,
  endpoint: Endpoint,
  context: ChatContext,
  format: Format = "oa-compat",
): Promise<Response> {
  const { state } = context;
  const wire = WIRE_FORMATS[format];
  const body = await readJsonObject(request);
  // The gateway parses the body before anything else and has no answer of its own for a bad one.
  if (!body) return internalErrorResponse();
  const headers = request.headers;
  const config = state.config;
  const now = state.clock.now();
  const modelID = typeof body.model === "string" ? body.model : undefined;
  const admission = tryAdmit(() =>
    admitChat(
      { config, now, accounts: state.accounts, freeQuota: state.freeQuota, rateLimiter: state.rateLimiter },
      {
        endpoint,
        format,
        modelID,
        key: bearerKey(headers),
        quotaIdentity: quotaIdentity(headers, context.clientIP, context.quotaKey),
        identifiedClient: isIdentifiedClient(headers, config.clientHeaderValues),
        session: headers.get("x-opencode-session"),
        userAgent: headers.get("user-agent"),
        region: requestRegion(headers, context.trustProxy, config.defaultRegion),
        language: pickLanguage(headers.get("accept-language")),
      },
    ),
  );
  if (admission instanceof Response) return admission;
  // From here on the request is with a provider (a fault stands for its answer): it counts.
  admission.reachedProvider();

  const stream = body.stream === true;
  const fault = state.faults.take(endpoint, admission.model.id);
  const faultContext = { workspaceID: admission.member?.workspace.config.id ?? null, stream };
  // Only the provider's own failures happen inside a stream: gateway errors come before it starts.
  const midStream =
    fault !== null && stream && fault.afterChunks !== undefined && fault.kind !== "internal" && fault.type === undefined;
  if (fault && !midStream && fault.stall === undefined) {
    if (fault.delayMs !== undefined) await held(fault.delayMs, request.signal);
    return faultResponse(fault, faultContext);
  }

  const plan = planCompletion({
    id: `${wire.idPrefix}${++completionCounter}`,
    created: Math.floor(now.getTime() / 1000),
    model: admission.model.id,
    reply: config.reply,
    prompt: wire.prompt(body),
  });
  if (fault?.stall !== undefined) {
    return stallResponse({
      stall: fault.stall,
      status: fault.status,
      stream,
      head: wire.partial(plan, fault.afterChunks ?? 0),
      events: wire.events(plan),
      intervalMs: fault.intervalMs ?? DEFAULT_STALL_INTERVAL_MS,
      signal: request.signal,
    });
  }
  if (!stream) {
    admission.recordUsage();
    return jsonResponse(wire.body(plan));
  }
  if (fault && fault.afterChunks !== undefined) {
    // A stream that breaks is not charged, like an upstream answer that never completed.
    return sseResponse(
      wire.partial(plan, fault.afterChunks),
      fault.midStream === "abort" ? { kind: "abort" } : { kind: "error-event", event: wire.errorEvent(faultStreamPayload(fault)) },
    );
  }
  admission.recordUsage();
  return sseResponse(wire.events(plan), { kind: "close" });
}

/** Waits `ms`, or less when the client goes away first (the answer then reaches nobody). */
function held(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function tryAdmit(admit: () => Admission): Admission | Response {
  try {
    return admit();
  } catch (error) {
    if (error instanceof GatewayError) return gatewayErrorResponse(error);
    throw error;
  }
}

async function readJsonObject(request: Request): Promise<Record<string, unknown> | null> {
  try {
    const parsed: unknown = await request.json();
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
