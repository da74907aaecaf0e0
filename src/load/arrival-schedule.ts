/**
 * Intended send times of an open-model load: when each request *should* leave, independent of how
 * fast responses come back. Latency is measured from these times, so a stalled server or a late
 * generator shows up as latency instead of silently lowering the offered rate (coordinated omission).
 */
import { createRng } from '../core/prng.ts';

/** even: one request every 1/rate s (the study's ticker); poisson: exponential gaps with mean 1/rate. */
export type ArrivalProcess = 'even' | 'poisson';

export interface ArrivalScheduleOptions {
  /** Requests per second (> 0). */
  rate: number;
  process: ArrivalProcess;
  /** Seed of the Poisson gaps (ignored for even spacing). */
  seed: number;
}

export interface ArrivalSchedule {
  /** Offset in ms (from the schedule's origin) of the next intended send; strictly non-decreasing. */
  next(): number;
}

export function createArrivalSchedule(options: ArrivalScheduleOptions): ArrivalSchedule {
  const { rate } = options;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number (got ${rate})`);
  const intervalMs = 1000 / rate;
  if (options.process === 'even') {
    let i = 0;
    // i * interval rather than a running sum: no floating-point drift over millions of requests.
    return { next: () => i++ * intervalMs };
  }
  const rng = createRng(options.seed);
  let t = 0;
  return {
    next: () => {
      const current = t;
      // Inverse transform of the exponential distribution; 1 - u is in (0, 1], so log never sees 0.
      t += -Math.log(1 - rng()) * intervalMs;
      return current;
    },
  };
}

/** A generator's part of a schedule shared by several: arrivals `index`, `index + of`, `index + 2·of`, ... */
export interface ScheduleShare {
  /** This generator's place, 0 ≤ index < of. */
  index: number;
  /** How many generators share the schedule. */
  of: number;
}

/**
 * Every `of`-th arrival of `full`, starting at the `index`-th. The shares of 0..of−1 are disjoint
 * and together are exactly `full`: N generators on one schedule send what one would, neither
 * more nor less, however their timers drift (a per-worker schedule at rate/N with its own origin
 * would not line up with the others' windows).
 */
export function takeShare(full: ArrivalSchedule, share: ScheduleShare): ArrivalSchedule {
  const { index, of } = share;
  if (!Number.isInteger(of) || of < 1 || !Number.isInteger(index) || index < 0 || index >= of) {
    throw new RangeError(`a schedule share must be 0 <= index < of (got ${index} of ${of})`);
  }
  let skip = index;
  return {
    next: () => {
      for (; skip > 0; skip -= 1) full.next();
      skip = of - 1;
      return full.next();
    },
  };
}
