import { messagesBody, messagesEvents } from "./anthropic-messages.ts";
import type { Format } from "./catalogue.ts";
import { completionBody, completionChunks, completionEvents, type CompletionPlan } from "./completion.ts";
import { responsesBody, responsesEvents } from "./openai-responses.ts";
import { sseEvent, type SseEvent } from "./sse.ts";

/**
 * The three request shapes the gateway serves, by its own names for them: `oa-compat` (chat
 * completions), `anthropic` (messages) and `openai` (responses). Each says where its prompt is
 * and how its answer, its stream and a provider's mid-stream error event look.
 */

export interface WireFormat {
  format: Format;
  idPrefix: string;
  prompt(body: Record<string, unknown>): unknown;
  body(plan: CompletionPlan): object;
  /** The whole stream of a successful answer. */
  events(plan: CompletionPlan): SseEvent[];
  /** The first `n` content events, for a stream a fault cuts short. */
  partial(plan: CompletionPlan, n: number): SseEvent[];
  errorEvent(payload: object): SseEvent;
}

export const WIRE_FORMATS: Record<Format, WireFormat> = {
  "oa-compat": {
    format: "oa-compat",
    idPrefix: "chatcmpl-sim-",
    prompt: (body) => body.messages,
    body: completionBody,
    events: completionEvents,
    partial: (plan, n) => completionChunks(plan).slice(0, n).map((chunk) => sseEvent(chunk)),
    errorEvent: (payload) => sseEvent(payload),
  },
  anthropic: {
    format: "anthropic",
    idPrefix: "msg_sim_",
    prompt: (body) => [body.system, body.messages],
    body: messagesBody,
    events: messagesEvents,
    partial: (plan, n) => messagesEvents(plan).slice(0, n),
    errorEvent: (payload) => sseEvent(payload, "error"),
  },
  openai: {
    format: "openai",
    idPrefix: "sim_",
    prompt: (body) => [body.instructions, body.input],
    body: responsesBody,
    events: responsesEvents,
    partial: (plan, n) => responsesEvents(plan).slice(0, n),
    errorEvent: (payload) => sseEvent(payload, "error"),
  },
};
