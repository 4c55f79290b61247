import type { CompletionPlan } from "./completion.ts";
import { sseEvent, type SseEvent } from "./sse.ts";

/**
 * `POST /zen/v1/responses` answers in OpenAI's Responses shape: a completed response with one
 * assistant message holding one output_text part, or its event stream (response.created, the
 * item and part added, text deltas, their done events, response.completed), each event named by
 * its type and numbered.
 */

export function responsesBody(plan: CompletionPlan): object {
  return response(plan, "completed", [message(plan, "completed")]);
}

export function responsesEvents(plan: CompletionPlan): SseEvent[] {
  const itemID = messageID(plan);
  const text = plan.pieces.join("");
  const part = (t: string) => ({ type: "output_text", text: t, annotations: [] });
  const where = { item_id: itemID, output_index: 0, content_index: 0 };
  const payloads: Record<string, unknown>[] = [
    { type: "response.created", response: response(plan, "in_progress", []) },
    { type: "response.output_item.added", output_index: 0, item: { ...message(plan, "in_progress"), content: [] } },
    { type: "response.content_part.added", ...where, part: part("") },
    ...plan.pieces.map((delta) => ({ type: "response.output_text.delta", ...where, delta })),
    { type: "response.output_text.done", ...where, text },
    { type: "response.content_part.done", ...where, part: part(text) },
    { type: "response.output_item.done", output_index: 0, item: message(plan, "completed") },
    { type: "response.completed", response: responsesBody(plan) },
  ];
  return payloads.map((payload, sequence) => sseEvent({ ...payload, sequence_number: sequence }, String(payload.type)));
}

function response(plan: CompletionPlan, status: string, output: object[]): object {
  return {
    id: `resp_${plan.id}`,
    object: "response",
    created_at: plan.created,
    status,
    model: plan.model,
    output,
    usage:
      status === "completed"
        ? { input_tokens: plan.usage.prompt_tokens, output_tokens: plan.usage.completion_tokens, total_tokens: plan.usage.total_tokens }
        : null,
  };
}

function message(plan: CompletionPlan, status: string): { type: string; id: string; status: string; role: string; content: object[] } {
  return {
    type: "message",
    id: messageID(plan),
    status,
    role: "assistant",
    content: [{ type: "output_text", text: plan.pieces.join(""), annotations: [] }],
  };
}

function messageID(plan: CompletionPlan): string {
  return `msg_${plan.id}`;
}
