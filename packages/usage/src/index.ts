/** @pawwork/usage — EXPERIMENTAL readers for OpenCode Zen billing and Go usage. */
export { runUsageCommand, type UsageIO, EXIT_OK, EXIT_FAILED, EXIT_USAGE } from "./cli.ts"
export { fetchZenBilling, parseBillingHtml, normaliseCookie, DEFAULT_ZEN_BASE_URL, WORKSPACE_ID, type FetchZenBillingOptions } from "./zen.ts"
export { fetchGoUsage, parseGoUsage, DEFAULT_GO_BASE_URL, type GoUsage, type FetchGoUsageOptions } from "./go.ts"
export { billingFromHydration, parseQueryKey, MICRO_CENTS_PER_USD, type ZenBilling, type BillingOptions } from "./billing.ts"
export { parseHydrationHtml, parseHydrationScripts, extractInlineScripts, type HydrationResult, type QueryResult } from "./hydration/index.ts"
export { UsageError, isUsageError, scrub, cookieSecrets, USAGE_ERROR_CODES, type UsageErrorCode } from "./errors.ts"
export { type UsageWindow, type TimedUsageWindow } from "./windows.ts"
export {
  EXPERIMENTAL_NOTICE,
  renderZenHuman,
  renderGoHuman,
  zenJson,
  goJson,
  errorJson,
  progressBar,
  relativeTime,
} from "./render.ts"
export type { FetchLike } from "./http.ts"
export { readZenUsage, CONSOLE_PATHS, type ZenUsage, type ReadZenUsageOptions } from "./console/read.ts"
export { zenUsageJson, renderZenUsageHuman } from "./console/render.ts"
export { microCentsToUSD, usdToMicroCents, formatUSD, percentOf } from "./console/money.ts"
