/**
 * The built-in providers and their models: the slice of OpenCode's models.dev database that
 * PawWork ships. A model is free when its input cost is 0; only free models are offered on the
 * anonymous `public` key. Costs are USD per million tokens.
 */
export interface ModelDefinition {
  id: string
  name: string
  cost: { input: number; output: number }
  limit: { context: number; output: number }
}

export interface ProviderDefinition {
  id: string
  name: string
  npm: string
  baseURL: string
  /** Environment variables that may carry this provider's key, first set wins. */
  env: string[]
  models: Record<string, ModelDefinition>
}

const model = (id: string, name: string, input: number, output: number, context = 200_000, out = 32_000): ModelDefinition => ({
  id,
  name,
  cost: { input, output },
  limit: { context, output: out },
})

const byId = (models: ModelDefinition[]) => Object.fromEntries(models.map((m) => [m.id, m]))

export const ZEN_BASE_URL = "https://opencode.ai/zen/v1"
export const GO_BASE_URL = "https://opencode.ai/zen/go/v1"

export const BUILTIN: Record<string, ProviderDefinition> = {
  opencode: {
    id: "opencode",
    name: "OpenCode Zen",
    npm: "@ai-sdk/openai-compatible",
    baseURL: ZEN_BASE_URL,
    env: ["OPENCODE_API_KEY"],
    models: byId([
      model("big-pickle", "Big Pickle", 0, 0),
      model("gpt-5-nano", "GPT-5 Nano", 0, 0, 400_000, 128_000),
      model("minimax-m2.5-free", "MiniMax M2.5 Free", 0, 0),
      model("claude-sonnet-4-5", "Claude Sonnet 4.5", 3, 15, 1_000_000, 64_000),
      model("gpt-5.1", "GPT-5.1", 1.07, 8.5, 400_000, 128_000),
      model("qwen3-coder", "Qwen3 Coder 480B", 0.45, 1.8, 262_144, 65_536),
    ]),
  },
  "opencode-go": {
    id: "opencode-go",
    name: "OpenCode Go",
    npm: "@ai-sdk/openai-compatible",
    baseURL: GO_BASE_URL,
    env: ["OPENCODE_API_KEY"],
    models: byId([
      model("glm-5", "GLM-5", 1, 3.2),
      model("kimi-k2.5", "Kimi K2.5", 0.6, 3, 262_144, 65_536),
      model("minimax-m2.5", "MiniMax M2.5", 0.3, 1.2),
    ]),
  },
}

/** The model used when neither the command line nor opencode.json names one. */
export const DEFAULT_MODEL = { providerID: "opencode", modelID: "big-pickle" }
