/**
 * Server-sent events: `event: <name>` (when the format names its events) and `data: <json>` per
 * event, sent one per pull so a client that stops reading holds the stream back and a client
 * that goes away cancels it (server.ts logs that as 499); the ending closes the stream, sends a
 * last error event, or cuts the connection.
 */

export interface SseEvent {
  event?: string;
  data: string;
}

export type StreamEnding = { kind: "close" } | { kind: "error-event"; event: SseEvent } | { kind: "abort" };

export function sseEvent(data: object | string, event?: string): SseEvent {
  return { event, data: typeof data === "string" ? data : JSON.stringify(data) };
}

export function sseResponse(events: SseEvent[], ending: StreamEnding): Response {
  const encoder = new TextEncoder();
  const frame = (e: SseEvent) => encoder.encode(`${e.event === undefined ? "" : `event: ${e.event}\n`}data: ${e.data}\n\n`);
  const queue = ending.kind === "error-event" ? [...events, ending.event] : [...events];
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const event = queue[next++];
      if (event !== undefined) {
        controller.enqueue(frame(event));
        return;
      }
      if (ending.kind === "abort") {
        // Let the events already queued reach the socket before the connection is cut.
        await Bun.sleep(20);
        // No reason given: with one, Bun would also print it (and a stack) on the simulator's stderr.
        controller.error();
        return;
      }
      controller.close();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}
