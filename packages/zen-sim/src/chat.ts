import type { Endpoint } from "./catalogue.ts";
import { isIdentifiedClient, quotaIdentity, requestRegion, bearerKey, type QuotaKeyMode } from "./client-identity.ts";
import { completionBody, completionChunks, planCompletion } from "./completion.ts";
import { GatewayError, gatewayErrorResponse, jsonResponse } from "./errors.ts";
import { faultResponse, faultStreamPayload } from "./faults.ts";
import { admitChat, type Admission } from "./gateway.ts";
import { pickLanguage } from "./messages.ts";
import { sseResponse } from "./sse.ts";
import type { SimState } from "./state.ts";

/** `POST .../chat/completions` on either endpoint: admission, then a fault or a deterministic answer. */

export interface ChatContext {
  state: SimState;
  clientIP: string;
  trustProxy: boolean;
  quotaKey: QuotaKeyMode;
}

let completionCounter = 0;

export async function handleChat(request: Request, endpoint: Endpoint, context: ChatContext): Promise<Response> {
  const { state } = context;
  const body = await readJsonObject(request);
  if (!body) {
    return jsonResponse({ type: "error", error: { type: "BadRequestError", message: "Request body must be a JSON object." } }, 400);
  }
  const headers = request.headers;
  const config = state.config;
  const now = state.clock.now();
  const modelID = typeof body.model === "string" ? body.model : undefined;
  const admission = tryAdmit(() =>
    admitChat(
      { config, now, accounts: state.accounts, freeQuota: state.freeQuota, rateLimiter: state.rateLimiter },
      {
        endpoint,
        format: "oa-compat",
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
  const faultContext = { workspaceID: admission.member?.workspace.config.id ?? null };
  const midStream = fault !== null && stream && fault.afterChunks !== undefined && fault.kind !== "internal";
  if (fault && !midStream) return faultResponse(fault, faultContext);

  const plan = planCompletion({
    id: `chatcmpl-sim-${++completionCounter}`,
    created: Math.floor(now.getTime() / 1000),
    model: admission.model.id,
    reply: config.reply,
    messages: body.messages,
  });
  if (!stream) {
    admission.recordUsage();
    return jsonResponse(completionBody(plan));
  }
  const chunks = completionChunks(plan);
  if (fault && fault.afterChunks !== undefined) {
    // A stream that breaks is not charged, like an upstream answer that never completed.
    const partial = chunks.slice(0, fault.afterChunks);
    return sseResponse(
      partial,
      fault.midStream === "abort" ? { kind: "abort" } : { kind: "error-event", payload: faultStreamPayload(fault, faultContext) },
    );
  }
  admission.recordUsage();
  return sseResponse(chunks, { kind: "done" });
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
