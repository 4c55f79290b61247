/**
 * Server-sent events as OpenAI streams them: `data: <json>\n\n` per chunk,
 * closed by `data: [DONE]`, or cut short when a fault says so.
 */

export type StreamEnding =
  | { kind: "done" }
  | { kind: "error-event"; payload: object }
  | { kind: "abort" };

export function sseResponse(chunks: object[], ending: StreamEnding): Response {
  const encoder = new TextEncoder();
  const frame = (data: string) => encoder.encode(`data: ${data}\n\n`);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const chunk of chunks) controller.enqueue(frame(JSON.stringify(chunk)));
      switch (ending.kind) {
        case "done":
          controller.enqueue(frame("[DONE]"));
          controller.close();
          return;
        case "error-event":
          controller.enqueue(frame(JSON.stringify(ending.payload)));
          controller.close();
          return;
        case "abort":
          // Let the chunks already queued reach the socket before the connection is cut.
          await Bun.sleep(20);
          // No reason given: with one, Bun would also print it (and a stack) on the simulator's stderr.
          controller.error();
          return;
      }
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}
