/**
 * Spend measured over a window of time, for Go and Black subscription limits.
 *
 * A window opens at the first spend after the previous one closed and covers
 * the period containing that moment; it closes at the period's end, when the
 * spend starts again from zero. For the 5-hour window that period starts at
 * the first spend (the gateway calls it "rolling", but it resets as a block,
 * so `retry-after` is simply the time left in the block).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface Period {
  /** The [start, end) period that contains `now`. */
  containing(now: number): { start: number; end: number };
}

export const fiveHours: Period = { containing: (now) => ({ start: now, end: now + 5 * HOUR_MS }) };

/** Calendar week from Monday 00:00 UTC. */
export const calendarWeek: Period = {
  containing(now) {
    const day = new Date(now);
    const midnight = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
    const daysSinceMonday = (day.getUTCDay() + 6) % 7;
    const start = midnight - daysSinceMonday * DAY_MS;
    return { start, end: start + 7 * DAY_MS };
  },
};

/** Months counted from an anchor (subscription start), like a billing cycle: the 31st falls back to the month's last day. */
export function monthsFrom(anchor: number): Period {
  return {
    containing(now) {
      const a = new Date(anchor);
      const n = new Date(now);
      let k = (n.getUTCFullYear() - a.getUTCFullYear()) * 12 + (n.getUTCMonth() - a.getUTCMonth());
      while (addMonths(a, k) > now) k--;
      while (addMonths(a, k + 1) <= now) k++;
      return { start: addMonths(a, k), end: addMonths(a, k + 1) };
    },
  };
}

function addMonths(anchor: Date, months: number): number {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(anchor.getUTCDate(), lastDay),
    anchor.getUTCHours(),
    anchor.getUTCMinutes(),
    anchor.getUTCSeconds(),
    anchor.getUTCMilliseconds(),
  );
}

export interface WindowUsage {
  spentUSD: number;
  /** When the current window closes; for an idle window, when one opened now would close. */
  resetsAt: number;
}

export class SpendWindow {
  private open: { end: number; spent: number } | null = null;

  constructor(private readonly period: Period) {}

  usage(now: number): WindowUsage {
    const open = this.current(now);
    return open ? { spentUSD: open.spent, resetsAt: open.end } : { spentUSD: 0, resetsAt: this.period.containing(now).end };
  }

  spend(now: number, usd: number): void {
    const open = this.current(now) ?? { end: this.period.containing(now).end, spent: 0 };
    open.spent += usd;
    this.open = open;
  }

  private current(now: number): { end: number; spent: number } | null {
    if (this.open && now >= this.open.end) this.open = null;
    return this.open;
  }
}

export interface LimitedWindow<Name extends string> {
  name: Name;
  limitUSD: number;
  window: SpendWindow;
}

export interface WindowStatus<Name extends string> extends WindowUsage {
  name: Name;
  limitUSD: number;
  exhausted: boolean;
  percent: number;
}

/**
 * A subscription's set of windows; a request is refused while any of them is used up.
 * `status` lists them in the order given; `firstExhausted` looks in `checkOrder`, the order the
 * gateway checks them in, so with several spent the one it names is the first of that order.
 */
export class SubscriptionWindows<Name extends string> {
  constructor(
    private readonly windows: LimitedWindow<Name>[],
    private readonly checkOrder: readonly Name[] = windows.map((w) => w.name),
  ) {}

  status(now: number): WindowStatus<Name>[] {
    return this.windows.map(({ name, limitUSD, window }) => {
      const usage = window.usage(now);
      const exhausted = usage.spentUSD >= limitUSD;
      const percent = limitUSD === 0 ? 100 : Math.min(100, Math.round((usage.spentUSD / limitUSD) * 100));
      return { name, limitUSD, exhausted, percent, ...usage };
    });
  }

  firstExhausted(now: number): WindowStatus<Name> | undefined {
    const exhausted = this.status(now).filter((s) => s.exhausted);
    for (const name of this.checkOrder) {
      const found = exhausted.find((s) => s.name === name);
      if (found) return found;
    }
    return undefined;
  }

  spend(now: number, usd: number): void {
    for (const { window } of this.windows) window.spend(now, usd);
  }
}
