/**
 * Default model catalogue. Model ids mirror the public Zen/Go line-up closely
 * enough for client tests; prices are not modelled (see requestCostUSD).
 */

export type Endpoint = "zen" | "go";

export type Format = "oa-compat" | "anthropic" | "openai";

export interface ModelEntry {
  id: string;
  free: boolean;
  regions: string[] | null;
  /** The model's own free daily limit and bucket (free-quota.ts); absent or null: the shared free allowance. */
  dailyLimit: number | null;
  /** Request shapes the model is offered in; null = all. */
  formats: Format[] | null;
  providerAvailable: boolean;
  trialEndsAt: string | null;
  dataPolicyOptIn: boolean;
}

function entry(id: string, free: boolean, regions: string[] | null = null): ModelEntry {
  return { id, free, regions, dailyLimit: null, formats: null, providerAvailable: true, trialEndsAt: null, dataPolicyOptIn: false };
}

export const DEFAULT_ZEN_MODELS: ModelEntry[] = [
  entry("big-pickle", true),
  entry("gpt-5-nano", true),
  entry("minimax-m2.5-free", true),
  entry("claude-sonnet-4-5", false),
  entry("gpt-5.1", false),
  entry("qwen3-coder", false),
];

export const DEFAULT_GO_MODELS: ModelEntry[] = [
  entry("glm-5", false),
  entry("kimi-k2.5", false),
  // Restricted so a RegionError is reachable with the default catalogue.
  entry("minimax-m2.5", false, ["US", "CA", "GB", "DE", "FR", "NL", "SG", "JP"]),
];

// A fixed `created` keeps /models output byte-stable between runs.
export const MODEL_CREATED_EPOCH_SEC = 1_735_689_600;
