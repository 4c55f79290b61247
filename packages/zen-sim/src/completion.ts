/**
 * OpenAI chat-completion payloads with a deterministic answer, so client
 * tests can assert the exact text they stream or receive.
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
  messages: unknown;
}): CompletionPlan {
  const text = options.reply ?? `Hello from ${options.model} via zen-sim.`;
  const promptTokens = estimateTokens(promptText(options.messages));
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

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

// Sums the text of string contents and of text parts; anything else (images, tool calls) counts as nothing.
function promptText(messages: unknown): string {
  if (!Array.isArray(messages)) return "";
  let text = "";
  for (const message of messages) {
    const content: unknown = (message as { content?: unknown } | null)?.content;
    if (typeof content === "string") text += content;
    else if (Array.isArray(content)) {
      for (const part of content) {
        const partText: unknown = (part as { text?: unknown } | null)?.text;
        if (typeof partText === "string") text += partText;
      }
    }
  }
  return text;
}
