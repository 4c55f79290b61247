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
      offset += ms;
    },
  };
}

function toMillis(t: string | Date): number {
  const ms = typeof t === "string" ? Date.parse(t) : t.getTime();
  if (Number.isNaN(ms)) throw new TypeError("clock: expected an ISO date-time or a valid Date");
  return ms;
}
