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
}

export function chat(baseURL: string, call: ChatCall): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json", ...call.headers };
  const client = call.client === undefined ? "cli" : call.client;
  if (client !== null) headers["x-opencode-client"] = client;
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
