import { sseEvent, type SseEvent } from "./sse.ts";

/**
 * A deterministic answer, and its OpenAI chat-completion payloads, so client
 * tests can assert the exact text they stream or receive. The messages and
 * responses shapes (anthropic-messages.ts, openai-responses.ts) use the same plan.
 */

export interface CompletionPlan {
  id: string;
  created: number;
  model: string;
  pieces: string[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function planCompletion(options: {
  id: string;
  created: number;
  model: string;
  reply: string | null;
  /** Where the prompt is: messages, a system prompt, a responses `input` (string or items). */
  prompt: unknown;
}): CompletionPlan {
  const text = options.reply ?? `Hello from ${options.model} via zen-sim.`;
  const promptTokens = estimateTokens(promptText(options.prompt));
  const completionTokens = estimateTokens(text);
  return {
    id: options.id,
    created: options.created,
    model: options.model,
    // Word-sized pieces give clients several content deltas to reassemble.
    pieces: text.match(/\s*\S+\s*/g) ?? [text],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

export function completionBody(plan: CompletionPlan): object {
  return {
    id: plan.id,
    object: "chat.completion",
    created: plan.created,
    model: plan.model,
    choices: [{ index: 0, message: { role: "assistant", content: plan.pieces.join("") }, finish_reason: "stop" }],
    usage: plan.usage,
  };
}

/** The stream's chunks: role, one per content piece, then the finish chunk carrying usage. */
export function completionChunks(plan: CompletionPlan): object[] {
  const chunk = (delta: object, finishReason: string | null, extra: object = {}) => ({
    id: plan.id,
    object: "chat.completion.chunk",
    created: plan.created,
    model: plan.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...extra,
  });
  return [
    chunk({ role: "assistant", content: "" }, null),
    ...plan.pieces.map((content) => chunk({ content }, null)),
    chunk({}, "stop", { usage: plan.usage }),
  ];
}

/**
 * The chat stream's events: the chunks, `[DONE]`, and then the gateway's own trailer, which it
 * appends after the upstream has ended (gateway-drift-2026.md, section 3, row 14).
 */
export function completionEvents(plan: CompletionPlan): SseEvent[] {
  return [...completionChunks(plan).map((chunk) => sseEvent(chunk)), sseEvent("[DONE]"), sseEvent(GATEWAY_STREAM_TRAILER)];
}

export const GATEWAY_STREAM_TRAILER = { choices: [], cost: "0" };

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Sums the text of strings, string contents and text parts, in arrays nested at most two deep
 * (a list of prompt sources, each a string or a list of messages); anything else (images, tool
 * calls) counts as nothing.
 */
function promptText(prompt: unknown, depth = 0): string {
  if (typeof prompt === "string") return prompt;
  if (!Array.isArray(prompt) || depth > 1) return depth > 1 ? "" : messageText(prompt);
  let text = "";
  for (const item of prompt) text += typeof item === "string" || Array.isArray(item) ? promptText(item, depth + 1) : messageText(item);
  return text;
}

function messageText(message: unknown): string {
  const content: unknown = (message as { content?: unknown } | null)?.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return partText(message);
  let text = "";
  for (const part of content) text += partText(part);
  return text;
}

function partText(part: unknown): string {
  const text: unknown = (part as { text?: unknown } | null)?.text;
  return typeof text === "string" ? text : "";
}
