import type { ProviderError } from "../provider"

/**
 * The comparison matrix. In every case install A spends its allowance until the gateway limits it,
 * then install B sends once: B limited the same way means they share the allowance, B served
 * means it is separate. The cases differ in exactly what tells A and B apart.
 */

export type KeySource = "none" | "env" | "saved"

export interface InstallSpec {
  key: KeySource
  /** "first": A's network; "second": a different one. */
  network: "first" | "second"
}

export interface Spec {
  name: string
  description: string
  providerID: "opencode" | "opencode-go"
  /** The failure that means "allowance used up" for this case. */
  limit: ProviderError.Kind
  /** Which key the keyed installs use: the Zen key (--key-env) or the Go key (--go-key-env). */
  needs: "key" | "go-key" | null
  a: InstallSpec
  b: InstallSpec
}

export const CASES: Spec[] = [
  {
    name: "different-networks",
    description: "two anonymous installs on different networks",
    providerID: "opencode",
    limit: "free_usage_limit",
    needs: null,
    a: { key: "none", network: "first" },
    b: { key: "none", network: "second" },
  },
  {
    name: "same-network",
    description: "two anonymous installs on the same network",
    providerID: "opencode",
    limit: "free_usage_limit",
    needs: null,
    a: { key: "none", network: "first" },
    b: { key: "none", network: "first" },
  },
  {
    name: "saved-key-vs-anonymous",
    description: "an anonymous install spends; then an install with a saved key, same network",
    providerID: "opencode",
    limit: "free_usage_limit",
    needs: "key",
    a: { key: "none", network: "first" },
    b: { key: "saved", network: "first" },
  },
  {
    name: "env-key-vs-saved-key",
    description: "the same key from the environment (spends), then saved in another install, same network",
    providerID: "opencode",
    limit: "free_usage_limit",
    needs: "key",
    a: { key: "env", network: "first" },
    b: { key: "saved", network: "first" },
  },
  {
    name: "go-windows",
    description: "one Go key in two installs on different networks: who shares the Go windows",
    providerID: "opencode-go",
    limit: "go_usage_limit",
    needs: "go-key",
    a: { key: "env", network: "first" },
    b: { key: "saved", network: "second" },
  },
]

export function distinctNetworks(spec: Spec) {
  return spec.a.network !== spec.b.network
}
