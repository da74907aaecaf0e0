import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecondTicker, TICK_AFTER_BOUNDARY_MS } from '../../src/load/second-ticker.ts';

describe('the per-second ticker of both engines', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks at once, then just after every second boundary counted from its origin', () => {
    vi.useFakeTimers({ now: 0 });
    const ticks: number[] = [];
    // Origin 250: boundaries at 250 (end of second -1), 1250, 2250, ...
    const ticker = new SecondTicker({ originMs: 250, clock: () => Date.now(), onTick: (now) => ticks.push(now) });
    vi.advanceTimersByTime(100);
    ticker.start();
    expect(ticks).toEqual([100]);
    vi.advanceTimersByTime(3200);
    expect(ticks).toEqual([100, 250 + TICK_AFTER_BOUNDARY_MS, 1250 + TICK_AFTER_BOUNDARY_MS, 2250 + TICK_AFTER_BOUNDARY_MS, 3250 + TICK_AFTER_BOUNDARY_MS]);
    ticker.stop();
    vi.advanceTimersByTime(5000);
    expect(ticks).toHaveLength(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a late tick does not shift the following ones off the boundaries', () => {
    vi.useFakeTimers({ now: 0 });
    const ticks: number[] = [];
    let busy = 0;
    // The callback takes 700 ms once (a blocked event loop): the next tick is still at the boundary.
    const ticker = new SecondTicker({
      originMs: 0,
      clock: () => Date.now() + busy,
      onTick: (now) => {
        ticks.push(now);
        if (ticks.length === 2) busy = 700;
      },
    });
    ticker.start();
    vi.advanceTimersByTime(2000);
    expect(ticks).toEqual([0, 1001, 2001]);
    ticker.stop();
  });

  it('stops when its callback stops it', () => {
    vi.useFakeTimers({ now: 0 });
    let n = 0;
    const ticker: SecondTicker = new SecondTicker({ originMs: 0, clock: () => Date.now(), onTick: () => (++n === 2 ? ticker.stop() : undefined) });
    ticker.start();
    vi.advanceTimersByTime(10_000);
    expect(n).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});
