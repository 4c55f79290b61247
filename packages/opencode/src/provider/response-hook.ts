/**
 * Tells whoever started a request that its response (status and headers) is there, keyed by the
 * request's AbortSignal: the ai SDK hands the signal given to streamText to fetch unchanged, so the
 * fetch wrapper of a cached model (provider.ts) can reach the attempt it serves. Wrapping the model
 * per attempt to learn the same moment cost an SDK model wrapper and its middleware chain on every
 * request. A WeakMap, so an attempt that never reaches fetch leaves nothing behind.
 */

const hooks = new WeakMap<AbortSignal, () => void>()

/** Calls `hook` when a request sent with `signal` gets its response. */
export function onResponse(signal: AbortSignal, hook: () => void) {
  hooks.set(signal, hook)
}

/** The response of a request sent with `signal` is there. */
export function responded(signal: AbortSignal | null | undefined) {
  if (signal) hooks.get(signal)?.()
}
