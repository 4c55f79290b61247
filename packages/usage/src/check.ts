/**
 * Strict-but-tolerant field reading: fields we need must have the right type,
 * everything else is ignored. Failures name the entry, the field, what was
 * expected and what was found.
 */
import { UsageError } from "./errors.ts"
import { Deferred, PageError, UnknownValue, isRecord, safeGet } from "./hydration/index.ts"

export function describe(v: unknown): string {
  if (v === undefined) return "nothing (field missing)"
  if (v === null) return "null"
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
  if (typeof v === "number") return `number ${v}`
  if (typeof v === "bigint") return `bigint ${v}n`
  if (typeof v === "boolean") return `boolean ${v}`
  if (Array.isArray(v)) return `array of ${v.length}`
  if (v instanceof Date) return "Date"
  if (v instanceof Map) return "Map"
  if (v instanceof Set) return "Set"
  if (v instanceof Deferred) return `promise (${v.state})`
  if (v instanceof PageError) return `error ${JSON.stringify(v.message.slice(0, 60))}`
  if (v instanceof UnknownValue) return `unsupported expression ${JSON.stringify(v.excerpt)}`
  if (isRecord(v)) return `object with keys ${JSON.stringify(Object.keys(v).slice(0, 8))}`
  return typeof v
}

export function fieldError(entry: string, field: string, expected: string, found: unknown): UsageError {
  return new UsageError("parse_failed", `${entry}: field "${field}": expected ${expected}, found ${describe(found)}`)
}

/** Reads fields of one record; a settled promise is looked through, as the page itself would. */
export class FieldReader {
  constructor(
    readonly entry: string,
    readonly record: Record<string, unknown>,
  ) {}

  raw(field: string): unknown {
    let v = safeGet(this.record, field)
    if (v instanceof Deferred && v.state === "fulfilled") v = v.value
    return v
  }

  /** Money arrives as a number, or a bigint for large micro-cent amounts. */
  requiredNumber(field: string): number {
    const v = this.raw(field)
    if (typeof v === "number" && Number.isFinite(v)) return v
    if (typeof v === "bigint") return Number(v)
    throw fieldError(this.entry, field, "a finite number", v)
  }

  optionalNumber(field: string): number | null {
    const v = this.raw(field)
    if (v === undefined || v === null) return null
    return this.requiredNumber(field)
  }

  optionalBoolean(field: string): boolean | null {
    const v = this.raw(field)
    if (v === undefined || v === null) return null
    if (typeof v === "boolean") return v
    throw fieldError(this.entry, field, "a boolean or null", v)
  }

  requiredString(field: string): string {
    const v = this.raw(field)
    if (typeof v === "string") return v
    throw fieldError(this.entry, field, "a string", v)
  }

  optionalString(field: string): string | null {
    const v = this.raw(field)
    if (v === undefined || v === null) return null
    if (typeof v === "string") return v
    throw fieldError(this.entry, field, "a string or null", v)
  }

  /** Plans are strings upstream ("20", "100", "200"); a bare number is the same plan. */
  optionalPlan(field: string): string | null {
    const v = this.raw(field)
    if (v === undefined || v === null) return null
    if (typeof v === "string") return v
    if (typeof v === "number" && Number.isFinite(v)) return String(v)
    throw fieldError(this.entry, field, "a plan string or null", v)
  }

  optionalRecord(field: string): FieldReader | null {
    const v = this.raw(field)
    if (v === undefined || v === null) return null
    if (isRecord(v)) return new FieldReader(`${this.entry}.${field}`, v)
    throw fieldError(this.entry, field, "an object or null", v)
  }

  requiredRecord(field: string): FieldReader {
    const r = this.optionalRecord(field)
    if (!r) throw fieldError(this.entry, field, "an object", this.raw(field))
    return r
  }
}

export function asRecord(entry: string, v: unknown): FieldReader {
  if (isRecord(v)) return new FieldReader(entry, v)
  throw new UsageError("parse_failed", `${entry}: expected an object, found ${describe(v)}`)
}
