/**
 * The anonymous free-model allowance: a counter per client identity (IP /64,
 * or install token) per UTC day of the simulated clock, whether or not a key
 * is sent. Because the window is the UTC day, everyone who runs out at the
 * same moment gets the same `retry-after`.
 */

const DAY_MS = 86_400_000;
const NEW_CLIENT_MS = 7 * DAY_MS;

export interface FreeQuotaRules {
  freeDailyLimit: number;
  fallbackDailyLimit: number;
  newClientBonus: boolean;
}

export type FreeQuotaVerdict = { allowed: true } | { allowed: false; retryAfterSec: number };

export class FreeQuota {
  private readonly used = new Map<string, { day: number; count: number }>();
  private readonly firstSeen = new Map<string, number>();

  check(identity: string, identifiedClient: boolean, now: number, rules: FreeQuotaRules): FreeQuotaVerdict {
    if (!this.firstSeen.has(identity)) this.firstSeen.set(identity, now);
    if (this.usedToday(identity, now) < this.allowance(identity, identifiedClient, now, rules)) return { allowed: true };
    return { allowed: false, retryAfterSec: Math.ceil((nextUTCMidnight(now) - now) / 1000) };
  }

  record(identity: string, now: number): void {
    const today = utcDay(now);
    const entry = this.used.get(identity);
    if (entry && entry.day === today) entry.count++;
    else this.used.set(identity, { day: today, count: 1 });
  }

  clear(): void {
    this.used.clear();
    this.firstSeen.clear();
  }

  private allowance(identity: string, identifiedClient: boolean, now: number, rules: FreeQuotaRules): number {
    const base = identifiedClient ? rules.freeDailyLimit : rules.fallbackDailyLimit;
    const isNew = now - (this.firstSeen.get(identity) ?? now) < NEW_CLIENT_MS;
    return rules.newClientBonus && isNew ? base * 2 : base;
  }

  private usedToday(identity: string, now: number): number {
    const entry = this.used.get(identity);
    return entry && entry.day === utcDay(now) ? entry.count : 0;
  }
}

function utcDay(now: number): number {
  return Math.floor(now / DAY_MS);
}

function nextUTCMidnight(now: number): number {
  return (utcDay(now) + 1) * DAY_MS;
}
