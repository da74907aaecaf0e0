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
