import { ADMIN_PREFIX, handleAdmin } from "./admin.ts";
import { MODEL_CREATED_EPOCH_SEC, type Endpoint } from "./catalogue.ts";
import type { CapturedRequest } from "./capture.ts";
import { handleChat } from "./chat.ts";
import { clientIP, type QuotaKeyMode } from "./client-identity.ts";
import { createClock, type SimClock } from "./clock.ts";
import { effectiveModels, type SimConfigInput } from "./config.ts";
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
    idleTimeout: 60,
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
      entry.status = response.status;
      return response;
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
    if (method === "POST" && rest === "/chat/completions") return handleChat(request, endpoint, context);
    if (method === "GET" && rest === "/models") return listModels(context.state, endpoint);
    if (method === "GET" && rest === "/usage" && endpoint === "go") return handleGoUsage(request, context.state);
    return notFound(request, path);
  }
  return handleDashboard(request, path, context.state) ?? notFound(request, path);
}

function listModels(state: SimState, endpoint: Endpoint): Response {
  const data = effectiveModels(state.config)[endpoint].map((m) => ({
    id: m.id,
    object: "model",
    created: MODEL_CREATED_EPOCH_SEC,
    owned_by: "opencode",
  }));
  return jsonResponse({ object: "list", data });
}

function notFound(request: Request, path: string): Response {
  return jsonResponse({ type: "error", error: { type: "NotFoundError", message: `No route for ${request.method} ${path}` } }, 404);
}

function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}
