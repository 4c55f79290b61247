/**
 * Reads an `x-opencode-session` value the way the gateway's free-tier gate is reported to
 * (gateway-drift-2026.md, sections 1 and 2): OpenCode's own id shape, `ses_` + 12 lower-case hex
 * + 14 base62. The hex part is the low 48 bits of `milliseconds × 4096 + counter`, every bit
 * inverted for sessions (they sort newest first), so the time an id was minted can be read back
 * from it, modulo 2^36 ms (about 795 days).
 */

export const CANONICAL_SESSION_ID = /^ses_[0-9a-f]{12}[0-9A-Za-z]{14}$/;

const HEX_START = "ses_".length;
const HEX_END = HEX_START + 12;
const MASK_48 = (1n << 48n) - 1n;
/** The 48 bits hold milliseconds × 4096, so only 36 bits of milliseconds survive. */
const MS_WRAP = 2 ** 36;

export function isCanonicalSessionID(value: string | null): value is string {
  return value !== null && CANONICAL_SESSION_ID.test(value);
}

/**
 * How far the time inside a canonical (descending) session id is from `now`, in milliseconds,
 * either way; read modulo the 2^36 ms the id can hold, so the answer is the nearer distance.
 */
export function sessionIDSkewMs(id: string, now: number): number {
  const inverted = BigInt(`0x${id.slice(HEX_START, HEX_END)}`);
  const minted = Number((~inverted & MASK_48) >> 12n);
  const distance = Math.abs((now % MS_WRAP) - minted);
  return Math.min(distance, MS_WRAP - distance);
}
