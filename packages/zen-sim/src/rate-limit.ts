/**
 * Per-key, per-model request counter for paid models, in fixed one-minute windows of the
 * simulated clock. The check runs before authentication, but only requests that reached a
 * provider are counted (gateway-drift-2026.md, section 3, row 7): an unknown key or a refused
 * billing check uses none of the minute's allowance.
 */

const MINUTE_MS = 60_000;

export type RateLimitVerdict = { allowed: true; count: () => void } | { allowed: false };

export class PaidRateLimiter {
  private readonly counters = new Map<string, { minute: number; count: number }>();

  /** Whether the key is within the limit; `count` records the request once it reaches a provider. */
  check(keyHash: string, model: string, now: number, limitPerMinute: number): RateLimitVerdict {
    const id = `${keyHash}\u0000${model}`;
    const minute = Math.floor(now / MINUTE_MS);
    const entry = this.counters.get(id);
    const used = entry && entry.minute === minute ? entry.count : 0;
    if (used >= limitPerMinute) return { allowed: false };
    return {
      allowed: true,
      count: () => {
        const current = this.counters.get(id);
        if (current && current.minute === minute) current.count++;
        else this.counters.set(id, { minute, count: 1 });
      },
    };
  }

  clear(): void {
    this.counters.clear();
  }
}
