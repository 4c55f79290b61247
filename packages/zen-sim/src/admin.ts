import { CLOCK_RANGE, inClockRange } from "./clock.ts";
import { SimConfigError } from "./config.ts";
import { jsonResponse } from "./errors.ts";
import type { SimState } from "./state.ts";

/** `/__sim/*`: the control surface tests and demos use; never captured, never rate limited. */

export const ADMIN_PREFIX = "/__sim";

export async function handleAdmin(request: Request, path: string, state: SimState): Promise<Response> {
  const route = `${request.method} ${path}`;
  switch (route) {
    case "GET /__sim/requests":
      return jsonResponse(state.requests());
    case "POST /__sim/reset":
      state.reset();
      return jsonResponse({ ok: true });
    case "POST /__sim/config":
      return configure(request, state);
    case "GET /__sim/clock":
      return jsonResponse({ now: state.clock.now().toISOString() });
    case "POST /__sim/clock":
      return setClock(request, state);
    default:
      return jsonResponse({ error: { field: "", message: `no admin route ${route}` } }, 404);
  }
}

async function configure(request: Request, state: SimState): Promise<Response> {
  const patch = await readJson(request);
  if (patch === INVALID) return badRequest("", "body is not valid JSON");
  try {
    state.configure(patch);
  } catch (error) {
    if (error instanceof SimConfigError) return badRequest(error.field, error.message);
    throw error;
  }
  return jsonResponse({ ok: true });
}

async function setClock(request: Request, state: SimState): Promise<Response> {
  const body = await readJson(request);
  if (typeof body !== "object" || body === null || Array.isArray(body)) return badRequest("", "expected a JSON object");
  const { set, advanceMs } = body as { set?: unknown; advanceMs?: unknown };
  if (set !== undefined && (typeof set !== "string" || Number.isNaN(Date.parse(set)))) {
    return badRequest("set", "expected an ISO date-time");
  }
  if (typeof set === "string" && !inClockRange(Date.parse(set))) return badRequest("set", `out of range: the clock runs ${CLOCK_RANGE}`);
  if (advanceMs !== undefined && (typeof advanceMs !== "number" || !Number.isFinite(advanceMs))) {
    return badRequest("advanceMs", "expected a finite number");
  }
  const unknown = Object.keys(body).filter((k) => k !== "set" && k !== "advanceMs");
  if (unknown.length > 0) return badRequest(unknown[0] ?? "", "unknown field");
  // Checked before anything moves, so a refused request leaves the clock where it was.
  const from = typeof set === "string" ? Date.parse(set) : state.clock.now().getTime();
  if (typeof advanceMs === "number" && !inClockRange(from + advanceMs)) {
    return badRequest("advanceMs", `out of range: it would take the clock past what it can show (${CLOCK_RANGE})`);
  }
  if (typeof set === "string") state.clock.set(set);
  if (typeof advanceMs === "number") state.clock.advance(advanceMs);
  return jsonResponse({ now: state.clock.now().toISOString() });
}

const INVALID = Symbol("invalid JSON");

async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return INVALID;
  }
}

function badRequest(field: string, message: string): Response {
  return jsonResponse({ error: { field, message } }, 400);
}
