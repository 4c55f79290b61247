import { ADMIN_PREFIX, handleAdmin } from "./admin.ts";
import { MODEL_CREATED_EPOCH_SEC, type Endpoint } from "./catalogue.ts";
import type { CapturedRequest } from "./capture.ts";
import { handleChat } from "./chat.ts";
import { clientIP, type QuotaKeyMode } from "./client-identity.ts";
import { createClock, type SimClock } from "./clock.ts";
import { effectiveModels, type SimConfigInput } from "./config.ts";
import { handleConsole } from "./console-api.ts";
import { handleDashboard } from "./dashboard.ts";
import { internalErrorResponse, jsonResponse } from "./errors.ts";
import { handleGoUsage } from "./go-usage.ts";
import { SimState } from "./state.ts";

export interface SimOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default "127.0.0.1". */
  hostname?: string;
  /** Take the client IP from `x-real-ip` (and the region from `cf-ipcountry`), as behind the real edge. */
  trustProxy?: boolean;
  /** "install": free usage is counted per `x-pawwork-install` value (requests without it fall back to the IP). */
  quotaKey?: QuotaKeyMode;
  /** Validated; a bad value throws SimConfigError naming the field. */
  config?: SimConfigInput;
  /** Where the simulated clock starts (default: real now). */
  now?: string | Date;
  /** Keep the clock still except for set/advance, so exact time assertions cannot drift. Default false. */
  frozenClock?: boolean;
}

export interface Simulator {
  url: string;
  zenBaseURL: string;
  goBaseURL: string;
  clock: SimClock;
  requests(): CapturedRequest[];
  /** Forgets counters, captured requests and fault counts; the config is kept. */
  reset(): void;
  /** Merges a config patch (top-level keys replace), validated like POST /__sim/config. */
  configure(patch: SimConfigInput): void;
  stop(): Promise<void>;
}

// nginx's "client closed request", which the gateway logs for a client abort.
const CLIENT_CLOSED = 499;

const ENDPOINT_PREFIXES: ReadonlyArray<[string, Endpoint]> = [
  ["/zen/go/v1", "go"],
  ["/zen/v1", "zen"],
];

export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const state = new SimState(createClock(options.now, options.frozenClock ?? false), options.config);
  const trustProxy = options.trustProxy ?? false;
  const quotaKey = options.quotaKey ?? "ip";

  const server = Bun.serve({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    // Streams end quickly, but a slow client test must not be cut off by the default 10 s.
    // A stall fault holds a connection as long as its client waits: Bun's maximum (255 s) outlasts
    // the runtime's default deadlines (90 s to the first byte, 120 s of silence).
    idleTimeout: 255,
    async fetch(request, srv) {
      const path = new URL(request.url).pathname;
      try {
        if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) return await handleAdmin(request, path, state);
      } catch {
        return internalErrorResponse();
      }
      const ip = clientIP(request.headers, srv.requestIP(request)?.address ?? null, trustProxy);
      const entry = state.log.record(request, path, ip, state.clock.now());
      let response: Response;
      try {
        response = await route(request, path, { state, clientIP: ip, trustProxy, quotaKey });
      } catch {
        response = internalErrorResponse();
      }
      // A client that went away is logged as 499, as the gateway does; nobody reads the answer.
      if (request.signal.aborted) {
        entry.status = CLIENT_CLOSED;
        return new Response(null, { status: CLIENT_CLOSED });
      }
      entry.status = response.status;
      return whenAbandoned(response, () => {
        entry.status = CLIENT_CLOSED;
      });
    },
    error: () => internalErrorResponse(),
  });

  const url = `http://${formatHost(server.hostname ?? "127.0.0.1")}:${server.port}`;
  return {
    url,
    zenBaseURL: `${url}/zen/v1`,
    goBaseURL: `${url}/zen/go/v1`,
    clock: state.clock,
    requests: () => state.requests(),
    reset: () => state.reset(),
    configure: (patch) => state.configure(patch),
    stop: () => server.stop(true),
  };
}

interface RouteContext {
  state: SimState;
  clientIP: string;
  trustProxy: boolean;
  quotaKey: QuotaKeyMode;
}

async function route(request: Request, path: string, context: RouteContext): Promise<Response> {
  for (const [prefix, endpoint] of ENDPOINT_PREFIXES) {
    if (!path.startsWith(`${prefix}/`)) continue;
    const rest = path.slice(prefix.length);
    const method = request.method;
    if (method === "POST" && rest === "/chat/completions") return handleChat(request, endpoint, context, "oa-compat");
    if (method === "POST" && rest === "/messages") return handleChat(request, endpoint, context, "anthropic");
    if (method === "POST" && rest === "/responses") return handleChat(request, endpoint, context, "openai");
    if (method === "GET" && rest === "/models") return listModels(context.state, endpoint);
    const modelPath = /^\/models\/([^/]+)$/.exec(rest);
    if (method === "GET" && modelPath) return getModel(context.state, endpoint, modelPath[1] ?? "");
    if (method === "GET" && rest === "/usage" && endpoint === "go") return handleGoUsage(request, context.state);
    return notFound(request, path);
  }
  return handleConsole(request, path, context.state) ?? handleDashboard(request, path, context.state) ?? notFound(request, path);
}

function listModels(state: SimState, endpoint: Endpoint): Response {
  return jsonResponse({ object: "list", data: effectiveModels(state.config)[endpoint].map(modelObject) });
}

/** `GET .../models/<id>`: one model object, or a 404 NotFoundError for an id the endpoint does not offer. */
function getModel(state: SimState, endpoint: Endpoint, encodedID: string): Response {
  let id: string;
  try {
    id = decodeURIComponent(encodedID);
  } catch {
    id = encodedID;
  }
  const model = effectiveModels(state.config)[endpoint].find((m) => m.id === id);
  if (model) return jsonResponse(modelObject(model));
  return jsonResponse({ type: "error", error: { type: "NotFoundError", message: `Model ${id} not found` } }, 404);
}

function modelObject(model: { id: string }): object {
  return { id: model.id, object: "model", created: MODEL_CREATED_EPOCH_SEC, owned_by: "opencode" };
}

/**
 * Calls `abandoned` when the client goes away before an event stream has ended: the stream is
 * passed on one read at a time, so a client that stops reading and leaves cancels it.
 */
function whenAbandoned(response: Response, abandoned: () => void): Response {
  const body = response.body;
  if (!body || !response.headers.get("content-type")?.startsWith("text/event-stream")) return response;
  const reader = body.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      abandoned();
      return reader.cancel(reason);
    },
  });
  return new Response(stream, { status: response.status, headers: response.headers });
}

function notFound(request: Request, path: string): Response {
  return jsonResponse({ type: "error", error: { type: "NotFoundError", message: `No route for ${request.method} ${path}` } }, 404);
}

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
