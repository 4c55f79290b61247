/**
 * Default model catalogue. Model ids mirror the public Zen/Go line-up closely
 * enough for client tests; prices are not modelled (see requestCostUSD).
 */

export type Endpoint = "zen" | "go";

export interface ModelEntry {
  id: string;
  free: boolean;
  regions: string[] | null;
  /** The model's own free daily limit and bucket (free-quota.ts); absent or null: the shared free allowance. */
  dailyLimit: number | null;
}

export const DEFAULT_ZEN_MODELS: ModelEntry[] = [
  { id: "big-pickle", free: true, regions: null, dailyLimit: null },
  { id: "gpt-5-nano", free: true, regions: null, dailyLimit: null },
  { id: "minimax-m2.5-free", free: true, regions: null, dailyLimit: null },
  { id: "claude-sonnet-4-5", free: false, regions: null, dailyLimit: null },
  { id: "gpt-5.1", free: false, regions: null, dailyLimit: null },
  { id: "qwen3-coder", free: false, regions: null, dailyLimit: null },
];

export const DEFAULT_GO_MODELS: ModelEntry[] = [
  { id: "glm-5", free: false, regions: null, dailyLimit: null },
  { id: "kimi-k2.5", free: false, regions: null, dailyLimit: null },
  // Restricted so a RegionError is reachable with the default catalogue.
  { id: "minimax-m2.5", free: false, regions: ["US", "CA", "GB", "DE", "FR", "NL", "SG", "JP"], dailyLimit: null },
];

// A fixed `created` keeps /models output byte-stable between runs.
export const MODEL_CREATED_EPOCH_SEC = 1_735_689_600;
