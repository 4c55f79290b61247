import * as FetchLayer from "./fetch-layer"
import * as Settings from "./settings"

/**
 * The entry a host loads before its own code: `node --import <dist>/register.mjs host.mjs`, or
 * `bun --preload`. It replaces `globalThis.fetch` with the layer around it, configured from the
 * environment (settings.ts; docs/adopting.md), unless PAWWORK_FETCH_LAYER turns it off. Loading it
 * twice wraps once. Never throws: a host must start whatever happens here.
 */

try {
  if (Settings.enabled(process.env) && typeof globalThis.fetch === "function" && !FetchLayer.isWrapped(globalThis.fetch)) {
    const layered = FetchLayer.wrapFetch(globalThis.fetch, Settings.fromEnv(process.env))
    globalThis.fetch = layered
    // For a host that wants its last records on disk before it exits on its own.
    ;(globalThis as Record<symbol, unknown>)[FetchLayer.WRAPPED] = { flush: layered.flush }
  }
} catch {
  try {
    process.stderr.write("PawWork fetch layer: could not be installed; requests go on unchanged.\n")
  } catch {}
}
