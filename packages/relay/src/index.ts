/** @pawwork/relay: a relay that gives every PawWork install its own daily allowance, counted in Redis. */

export { startRelay, MissingUpstreamKeyError, InvalidUpstreamKeyError, INSTALL_TOKEN, type Relay, type RelayOptions } from "./server"
export { parseConfig, RelayConfigError, REDIS_POLICIES, type RelayConfig, type RelayConfigInput, type Limits } from "./config"
export { ERROR_TYPES, CONCURRENCY_RETRY_AFTER_SEC, UNAVAILABLE_RETRY_AFTER_SEC } from "./refusal"
export { SCOPES, type Scope } from "./allowance"
export { addressKey, clientAddress } from "./client-ip"
export { fingerprint } from "./fingerprint"
