import type { CompletionPlan } from "./completion.ts";
import { sseEvent, type SseEvent } from "./sse.ts";

/**
 * `POST /zen/v1/messages` answers in Anthropic's Messages shape: one message with one text block,
 * or its event stream (message_start, a text block's start, deltas and stop, message_delta with
 * the stop reason, message_stop). Events are named, as Anthropic's are.
 */

export function messagesBody(plan: CompletionPlan): object {
  return {
    id: plan.id,
    type: "message",
    role: "assistant",
    model: plan.model,
    content: [{ type: "text", text: plan.pieces.join("") }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: plan.usage.prompt_tokens, output_tokens: plan.usage.completion_tokens },
  };
}

export function messagesEvents(plan: CompletionPlan): SseEvent[] {
  const named = (data: { type: string } & Record<string, unknown>) => sseEvent(data, data.type);
  return [
    named({
      type: "message_start",
      message: {
        id: plan.id,
        type: "message",
        role: "assistant",
        model: plan.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: plan.usage.prompt_tokens, output_tokens: 0 },
      },
    }),
    named({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ...plan.pieces.map((text) => named({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })),
    named({ type: "content_block_stop", index: 0 }),
    named({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: plan.usage.completion_tokens },
    }),
    named({ type: "message_stop" }),
  ];
}
