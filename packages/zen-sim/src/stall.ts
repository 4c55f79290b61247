import type { SseEvent } from "./sse.ts";

/**
 * Faults that stall instead of failing: the answers a client needs deadlines of its own for,
 * because nothing in them ever says "error".
 *
 * - `no-answer`: no status line, no headers, until the client goes away.
 * - `silence`: the status and headers (and the fault's `afterChunks` first events), then nothing.
 *   Bun's server finishes the header block only with the first body byte, so a lone blank line
 *   (no SSE event: a parser dispatches nothing for it) goes with the headers.
 * - `keep-alive`: the same, then an SSE comment `: keep-alive` at once and every `intervalMs`,
 *   never an event.
 * - `trickle`: the status and headers, then the answer's events one every `intervalMs`.
 *
 * On a request that is not streamed, every stall but `no-answer` sends the status and headers and
 * then nothing. A stall is never charged: the upstream never finished answering.
 */

export const STALLS = ["no-answer", "silence", "keep-alive", "trickle"] as const;
export type Stall = (typeof STALLS)[number];

export const DEFAULT_STALL_INTERVAL_MS = 1000;

export interface StallPlan {
  stall: Stall;
  status: number;
  stream: boolean;
  /** Sent at once before a `silence` or `keep-alive` stall. */
  head: SseEvent[];
  /** The whole answer, for `trickle`. */
  events: SseEvent[];
  intervalMs: number;
  /** The request's signal: aborted when the client goes away. */
  signal: AbortSignal;
}

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");
const BLANK_LINE = encoder.encode("\n");

export function stallResponse(plan: StallPlan): Response | Promise<Response> {
  if (plan.stall === "no-answer") return untilAbandoned(plan.signal);
  const contentType = plan.stream ? "text/event-stream" : "application/json";
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunk: Uint8Array) => {
        try {
          controller.enqueue(chunk);
        } catch {
          clearInterval(timer);
        }
      };
      // Leading whitespace is valid JSON: the headers go out, the body never completes.
      if (!plan.stream) return send(BLANK_LINE);
      if (plan.stall === "trickle") {
        const queue = [...plan.events];
        const next = () => {
          const event = queue.shift();
          if (event) return send(frame(event));
          clearInterval(timer);
          controller.close();
        };
        next();
        timer = setInterval(next, plan.intervalMs);
        return;
      }
      for (const event of plan.head) send(frame(event));
      if (plan.stall === "keep-alive") {
        send(KEEP_ALIVE);
        timer = setInterval(() => send(KEEP_ALIVE), plan.intervalMs);
      } else if (plan.head.length === 0) send(BLANK_LINE);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(body, { status: plan.status, headers: { "content-type": contentType, "cache-control": "no-cache" } });
}

// Resolved only so the handler ends once the client has gone; nobody reads this answer.
function untilAbandoned(signal: AbortSignal): Promise<Response> {
  return new Promise((resolve) => {
    const done = () => resolve(new Response(null, { status: 499 }));
    if (signal.aborted) done();
    else signal.addEventListener("abort", done, { once: true });
  });
}

function frame(event: SseEvent): Uint8Array {
  return encoder.encode(`${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${event.data}\n\n`);
}
