/**
 * The simulated clock every window and day boundary is measured against.
 * It is an offset over real time, so it keeps ticking like a wall clock while
 * tests can jump it forward (day rollover, window resets) without sleeping.
 */

export interface SimClock {
  now(): Date;
  set(t: string | Date): void;
  advance(ms: number): void;
}

/**
 * The times the clock may show: 1970 to the end of year 9999. Outside it ISO strings change shape
 * and, far enough, a Date becomes invalid, which would make every request fail instead of one.
 */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time the clock was asked to show that it cannot. */
export class ClockRangeError extends RangeError {
  override readonly name = "ClockRangeError";
}

export function inClockRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS;
}

export const CLOCK_RANGE = "between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z";

export function createClock(start?: string | Date, frozen = false): SimClock {
  // A frozen clock only moves via set/advance: exact retry-after assertions then hold however slow the machine is.
  const frozenAt = Date.now();
  const realNow = () => (frozen ? frozenAt : Date.now());
  let offset = start === undefined ? 0 : toMillis(start) - realNow();
  return {
    now: () => new Date(realNow() + offset),
    set(t) {
      offset = toMillis(t) - realNow();
    },
    advance(ms) {
      if (!Number.isFinite(ms)) throw new TypeError("clock.advance: expected a finite number of milliseconds");
      const target = realNow() + offset + ms;
      if (!inClockRange(target)) throw new ClockRangeError(`clock.advance: ${ms} ms would take the clock out of its range (${CLOCK_RANGE})`);
      offset += ms;
    },
  };
}

function toMillis(t: string | Date): number {
  const ms = typeof t === "string" ? Date.parse(t) : t.getTime();
  if (Number.isNaN(ms)) throw new TypeError("clock: expected an ISO date-time or a valid Date");
  if (!inClockRange(ms)) throw new ClockRangeError(`clock: ${typeof t === "string" ? t.slice(0, 40) : "the time"} is out of range (${CLOCK_RANGE})`);
  return ms;
}
