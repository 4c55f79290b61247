/**
 * Per-key, per-model request counter for paid models, in fixed one-minute
 * windows of the simulated clock. Attempts that pass are counted even if a
 * later check refuses them, as a limiter in front of authentication would.
 */

const MINUTE_MS = 60_000;

export class PaidRateLimiter {
  private readonly counters = new Map<string, { minute: number; count: number }>();

  /** Counts the attempt and says whether it is within the limit. */
  tryAcquire(keyHash: string, model: string, now: number, limitPerMinute: number): boolean {
    const id = `${keyHash}\u0000${model}`;
    const minute = Math.floor(now / MINUTE_MS);
    const entry = this.counters.get(id);
    const current = entry && entry.minute === minute ? entry : { minute, count: 0 };
    if (current.count >= limitPerMinute) return false;
    current.count++;
    this.counters.set(id, current);
    return true;
  }

  clear(): void {
    this.counters.clear();
  }
}
