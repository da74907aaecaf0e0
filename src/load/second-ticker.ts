/**
 * The per-second ticker of both load engines: calls `onTick` once right away and then just after
 * every whole second counted from an origin, so the engine closes its per-second records on the
 * same boundaries as the recorder counts them (and as the database samplers started there).
 *
 * Aligned to the origin rather than a setInterval: a late wake-up does not shift the following
 * ticks, and a tick that slept through several boundaries is followed by the next boundary, not by
 * a burst (the recorder closes every second that ended anyway).
 */
import { performance } from 'node:perf_hooks';

/** How long after a boundary a tick comes, ms: the second's last events are then already in. */
export const TICK_AFTER_BOUNDARY_MS = 1;

export interface SecondTickerOptions {
  /** The clock's reading (ms) at which second 0 starts. */
  originMs: number;
  /** Called on every tick, with the clock's reading then. */
  onTick: (nowMs: number) => void;
  /** performance.now by default; tests pass their own. */
  clock?: () => number;
}

export class SecondTicker {
  private readonly originMs: number;
  private readonly onTick: (nowMs: number) => void;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: SecondTickerOptions) {
    this.originMs = options.originMs;
    this.onTick = options.onTick;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Ticks now, then after every boundary until stop(). */
  start(): void {
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The clock's reading at which the tick after `nowMs` is due. */
  nextTickAt(nowMs: number): number {
    return this.originMs + (Math.floor((nowMs - this.originMs) / 1000) + 1) * 1000 + TICK_AFTER_BOUNDARY_MS;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    this.onTick(this.clock());
    // onTick may have stopped the ticker.
    if (!this.running) return;
    const now = this.clock();
    this.timer = setTimeout(this.tick, Math.max(0, this.nextTickAt(now) - now));
  };
}
