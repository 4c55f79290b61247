/**
 * Console money: signed micro-cent amounts (1e8 per US dollar) sent as decimal strings. Kept as
 * BigInt from the wire to the screen so no figure ever passes through a float: a float has 53 bits,
 * and 1e18 micro-cents ($10 billion) already needs 60.
 */
import { fieldError } from "../check.ts"

export const MICRO_CENTS_PER_USD = 100_000_000n
const MICRO_CENTS_PER_CENT = 1_000_000n

/** Longer than any balance can be; bounds the BigInt a hostile body can make us build. */
const MAX_DIGITS = 30
const DECIMAL = new RegExp(`^-?(?:0|[1-9][0-9]{0,${MAX_DIGITS - 1}})$`)

/**
 * A money field: a decimal string of micro-cents, or a JSON number only when it is a safe integer
 * (then it is exact too). Anything else is drift, reported as parse_failed naming the field.
 */
export function readMicroCents(entry: string, field: string, v: unknown): bigint {
  if (typeof v === "string" && DECIMAL.test(v)) return BigInt(v)
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v)
  throw fieldError(entry, field, "micro-cents as a decimal string", v)
}

/** The exact dollar amount as a decimal string: "12.34", "-0.00000001", "0.00". */
export function microCentsToUSD(microCents: bigint): string {
  const negative = microCents < 0n
  const abs = negative ? -microCents : microCents
  const whole = abs / MICRO_CENTS_PER_USD
  const frac = (abs % MICRO_CENTS_PER_USD).toString().padStart(8, "0").replace(/0+$/, "").padEnd(2, "0")
  return `${negative ? "-" : ""}${whole}.${frac}`
}

/** The inverse of microCentsToUSD: an exact decimal dollar string back to micro-cents. */
export function usdToMicroCents(usd: string): bigint {
  const m = /^(-?)([0-9]{1,30})(?:\.([0-9]{1,8}))?$/.exec(usd)
  if (!m) throw new RangeError(`not a dollar amount with at most 8 decimals: ${JSON.stringify(usd.slice(0, 40))}`)
  const value = BigInt(m[2] ?? "0") * MICRO_CENTS_PER_USD + BigInt((m[3] ?? "").padEnd(8, "0"))
  return m[1] === "-" ? -value : value
}

/**
 * Dollars and cents for a person: "$12.35", "-$0.01", with thousands separators. Half a cent
 * rounds away from zero; the exact figure is in the JSON.
 */
export function formatUSD(microCents: bigint): string {
  const negative = microCents < 0n
  const abs = negative ? -microCents : microCents
  const cents = (abs + MICRO_CENTS_PER_CENT / 2n) / MICRO_CENTS_PER_CENT
  const dollars = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",")
  const rest = (cents % 100n).toString().padStart(2, "0")
  return `${negative && cents > 0n ? "-" : ""}$${dollars}.${rest}`
}

/**
 * used / limit as a percent with one decimal, computed in integers (rounded half up). A zero limit
 * is fully used when anything was spent. Not capped: over 100 means over the limit.
 */
export function percentOf(used: bigint, limit: bigint): number {
  if (limit <= 0n) return used > 0n ? 100 : 0
  const tenths = (used * 1000n + limit / 2n) / limit
  return Number(tenths) / 10
}
