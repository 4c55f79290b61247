/**
 * The free-model allowance, as the gateway's source counts it (gateway-drift-2026.md, section 3,
 * rows 3 and 4): a counter per client identity (IP key, or install token) per UTC day of the
 * simulated clock, whether or not a key is sent. Because the window is the UTC day, everyone who
 * runs out at the same moment gets the same `retry-after`.
 *
 * - A model with its own `dailyLimit` has its own bucket per identity per day, and that limit is
 *   its allowance for identified clients.
 * - A client without the expected identification gets the smaller fallback allowance, on either.
 * - New-client doubling: an identified client on a model without its own limit gets twice the
 *   allowance while its lifetime count of such requests is under 7 × the daily limit.
 *
 * `check` decides; the returned `count` is called once the request has reached a provider
 * (whatever the provider answers), so refusals by later gateway checks cost nothing.
 */

const DAY_MS = 86_400_000;
const NEW_CLIENT_LIFETIME_DAYS = 7;

export interface FreeQuotaRules {
  freeDailyLimit: number;
  fallbackDailyLimit: number;
  newClientBonus: boolean;
}

export interface FreeRequest {
  identity: string;
  identifiedClient: boolean;
  modelID: string;
  /** The model's own daily limit, or null for the shared allowance. */
  modelDailyLimit: number | null;
}

export type FreeQuotaVerdict = { allowed: true; count: () => void } | { allowed: false; retryAfterSec: number };

export class FreeQuota {
  private readonly daily = new Map<string, { day: number; count: number }>();
  private readonly lifetime = new Map<string, number>();

  check(request: FreeRequest, now: number, rules: FreeQuotaRules): FreeQuotaVerdict {
    const ownLimit = request.modelDailyLimit;
    const dailyLimit = !request.identifiedClient ? rules.fallbackDailyLimit : (ownLimit ?? rules.freeDailyLimit);
    const sharedBucket = request.identifiedClient && ownLimit === null;
    // An identity (an address or a header value) never holds a NUL, so no two buckets collide.
    const bucket = ownLimit === null ? request.identity : `${request.identity}\u0000${request.modelID}`;
    const isNew =
      rules.newClientBonus && sharedBucket && (this.lifetime.get(request.identity) ?? 0) < NEW_CLIENT_LIFETIME_DAYS * dailyLimit;
    const allowance = isNew ? dailyLimit * 2 : dailyLimit;
    if (this.usedToday(bucket, now) >= allowance) {
      return { allowed: false, retryAfterSec: Math.ceil((nextUTCMidnight(now) - now) / 1000) };
    }
    return {
      allowed: true,
      count: () => {
        this.addToday(bucket, now);
        if (sharedBucket) this.lifetime.set(request.identity, (this.lifetime.get(request.identity) ?? 0) + 1);
      },
    };
  }

  clear(): void {
    this.daily.clear();
    this.lifetime.clear();
  }

  private usedToday(bucket: string, now: number): number {
    const entry = this.daily.get(bucket);
    return entry && entry.day === utcDay(now) ? entry.count : 0;
  }

  private addToday(bucket: string, now: number): void {
    const today = utcDay(now);
    const entry = this.daily.get(bucket);
    if (entry && entry.day === today) entry.count++;
    else this.daily.set(bucket, { day: today, count: 1 });
  }
}

function utcDay(now: number): number {
  return Math.floor(now / DAY_MS);
}

function nextUTCMidnight(now: number): number {
  return (utcDay(now) + 1) * DAY_MS;
}
