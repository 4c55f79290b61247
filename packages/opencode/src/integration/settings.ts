import type { Paths } from "../global"
import type { Options } from "./fetch-layer"
import * as GatewayHosts from "./gateway-hosts"

/**
 * The fetch layer's settings from the environment, for the register entry (`node --import`,
 * Bun's preload), where there is no code to pass options from. Every setting has a default that
 * needs no variable at all.
 */

/** `0`, `off`, `false` or `no`: the register entry installs nothing. */
export const ENABLE_VAR = "PAWWORK_FETCH_LAYER"
/** `1`, `on`, `true` or `yes`: mark quota refusals with `x-should-retry: false`. */
export const MARK_VAR = "PAWWORK_MARK_QUOTA_REFUSALS"
export { ENV_VAR as HOSTS_VAR } from "./gateway-hosts"

const ON = new Set(["1", "on", "true", "yes"])
const OFF = new Set(["0", "off", "false", "no"])

export function enabled(env: Paths.Env): boolean {
  return !OFF.has(env[ENABLE_VAR]?.trim().toLowerCase() ?? "")
}

export function fromEnv(env: Paths.Env): Options {
  return {
    env,
    ...(env[GatewayHosts.ENV_VAR] !== undefined ? { hosts: env[GatewayHosts.ENV_VAR] } : {}),
    markQuotaRefusals: ON.has(env[MARK_VAR]?.trim().toLowerCase() ?? ""),
  }
}
