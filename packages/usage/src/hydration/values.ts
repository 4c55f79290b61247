/**
 * Value types the hydration parser produces besides plain data. They are
 * inert records: nothing here runs page code.
 */

/** A promise created by the page's resolver helper; settled later, possibly in another script. */
export class Deferred {
  state: "pending" | "fulfilled" | "rejected" = "pending"
  value: unknown = undefined
}

/** `new Error("...")` (optionally decorated by `Object.assign`). */
export class PageError {
  readonly extra: Record<string, unknown> = Object.create(null)
  constructor(
    readonly errorName: string,
    readonly message: string,
  ) {}
}

/** An expression the parser does not model (kept so optional fields may still be ignored). */
export class UnknownValue {
  constructor(readonly excerpt: string) {}
}

/** A function the page defines, reduced to what it does to a promise placeholder. */
export class HelperFn {
  constructor(readonly role: "create" | "resolve" | "reject" | "unknown") {}
}

/** `$R[n]` read before any `$R[n]=`: patched once all scripts are read. */
export class RefHole {
  constructor(readonly id: number) {}
}

export type QueryResult =
  | { status: "fulfilled"; value: unknown }
  | { status: "rejected"; error: unknown }
  | { status: "pending" }

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !(v instanceof Date)
    && !(v instanceof Deferred) && !(v instanceof PageError) && !(v instanceof UnknownValue) && !(v instanceof HelperFn) && !(v instanceof RefHole)
}

const INDEX = /^(?:0|[1-9]\d{0,8})$/

/**
 * Store a property without ever touching a prototype: `__proto__` on an
 * ordinary object or array would otherwise swap its prototype.
 */
export function safeSet(target: unknown, key: string, value: unknown): void {
  if (Array.isArray(target)) {
    if (INDEX.test(key)) target[Number(key)] = value
    return
  }
  if (target instanceof PageError) {
    target.extra[key] = value
    return
  }
  if (typeof target === "object" && target !== null && Object.getPrototypeOf(target) === null) {
    ;(target as Record<string, unknown>)[key] = value
    return
  }
  // Only data objects we built are writable; anything else (Date, Map, ...) ignores stray writes.
}

/** Own-property read that cannot see `Object.prototype`. */
export function safeGet(target: unknown, key: string): unknown {
  if (typeof target !== "object" || target === null) return undefined
  if (target instanceof PageError) return Object.hasOwn(target.extra, key) ? target.extra[key] : key === "message" ? target.message : undefined
  return Object.hasOwn(target, key) ? (target as Record<string, unknown>)[key] : undefined
}
