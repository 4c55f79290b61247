import { startSimulator, type SimOptions, type Simulator } from "../src/index.ts";

/** A started simulator on a frozen clock, so retry-after values are exact. */
export function startTestSim(options: SimOptions = {}): Promise<Simulator> {
  return startSimulator({ now: "2026-11-20T10:00:00.000Z", frozenClock: true, ...options });
}

export interface ChatCall {
  model: string;
  key?: string;
  stream?: boolean;
  headers?: Record<string, string>;
  /** Defaults to the official client identification so the full free allowance applies. */
  client?: string | null;
  /** `x-opencode-session`; defaults to a fresh canonical id, as OpenCode sends, so the free-tier gate passes. */
  session?: string | null;
}

export function chat(baseURL: string, call: ChatCall): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", ...call.headers };
  const client = call.client === undefined ? "cli" : call.client;
  if (client !== null) headers["x-opencode-client"] = client;
  const session = call.session === undefined ? canonicalSessionID() : call.session;
  if (session !== null) headers["x-opencode-session"] = session;
  if (call.key !== undefined) headers.authorization = `Bearer ${call.key}`;
  return fetch(`${baseURL}/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify({ model: call.model, stream: call.stream ?? false, messages: [{ role: "user", content: "hi" }] }),
  });
}

export interface ErrorBody {
  type: string;
  error: { type: string; message: string };
  metadata?: Record<string, unknown>;
}

export async function errorOf(response: Response): Promise<{ status: number; retryAfter: string | null; body: ErrorBody }> {
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as ErrorBody };
}

/** Sends `n` requests one after another and returns the statuses. */
export async function statuses(n: number, send: () => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const response = await send();
    await response.arrayBuffer();
    out.push(response.status);
  }
  return out;
}

export function randomSecret(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MASK_48 = (1n << 48n) - 1n;
let sameMillisecond = 0n;

/**
 * A session id in OpenCode's shape (gateway-drift-2026.md, section 2): `ses_` + 12 hex of the
 * inverted low 48 bits of `ms × 4096 + counter` + 14 base62. The simulator cannot import the
 * runtime's minting, so the tests carry their own.
 */
export function canonicalSessionID(ms: number = Date.now()): string {
  sameMillisecond = (sameMillisecond + 1n) % 4096n;
  const value = BigInt(Math.floor(ms)) * 4096n + sameMillisecond;
  const hex = (~value & MASK_48).toString(16).padStart(12, "0");
  const random = Array.from(crypto.getRandomValues(new Uint8Array(14)), (b) => BASE62[b % 62]).join("");
  return `ses_${hex}${random}`;
}
