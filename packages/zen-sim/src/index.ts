/** @pawwork/zen-sim: a local simulator of the OpenCode Zen/Go gateway for tests and demos. */

export { startSimulator, type SimOptions, type Simulator } from "./server.ts";
export type { CapturedRequest } from "./capture.ts";
export type { SimClock } from "./clock.ts";
export {
  SimConfigError,
  parseConfig,
  type ConfigIssue,
  type SimConfig,
  type SimConfigInput,
  type FaultConfig,
  type MemberConfig,
  type WorkspaceConfig,
} from "./config.ts";
export { DEFAULT_GO_MODELS, DEFAULT_ZEN_MODELS, type ModelEntry } from "./catalogue.ts";
export { fingerprint } from "./fingerprint.ts";
