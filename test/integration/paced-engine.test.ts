import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArrivalSchedule } from '../../src/load/arrival-schedule.ts';
import { DEFAULT_THRESHOLDS, MIN_QUANTILE_SAMPLES, runPaced, STUDY_CONCURRENCY, type PacedRunResult } from '../../src/load/paced-engine.ts';
import type { Rng } from '../../src/core/prng.ts';
import { WORKLOAD_PRESETS, type PlannedRequest, type RequestOutcome, type Workload } from '../../src/load/workload.ts';
import { startDelayServer, type DelayServer } from '../helpers/delay-server.ts';

/** GET /<name> by weight; counts every outcome so the test can check each request ended once. */
function pathWorkload(weights: Record<string, number>): Workload & { outcomes: Record<string, number> } {
  const names = Object.keys(weights);
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const outcomes: Record<string, number> = {};
  const planned: Record<string, number> = {};
  return {
    spec: { ...WORKLOAD_PRESETS.raw, name: 'paths' },
    outcomes,
    next(rng: Rng): PlannedRequest {
      let u = rng() * total;
      const name = names.find((n) => (u -= weights[n]!) < 0) ?? names[names.length - 1]!;
      planned[name] = (planned[name] ?? 0) + 1;
      return { endpoint: name, method: 'GET', path: `/${name}`, body: undefined, pick: undefined };
    },
    complete(_req: PlannedRequest, outcome: RequestOutcome): void {
      outcomes[outcome.kind] = (outcomes[outcome.kind] ?? 0) + 1;
    },
    stats: () => ({ planned: { ...planned }, model: null }),
  };
}

const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);

/**
 * Measured seconds in which the engine saw its own timing distorted (its event loop delayed, or
 * its sends late). On a shared two-core machine other processes can starve it; then the figures
 * cannot be exact, and what matters is that the engine says so.
 */
function distortedSeconds(r: PacedRunResult): number[] {
  // The engine's own rule: a p99 counts with MIN_QUANTILE_SAMPLES behind it, per second or over the window.
  const windowDistorted =
    (r.scheduleLag.count >= MIN_QUANTILE_SAMPLES && (r.scheduleLag.p99 ?? 0) > DEFAULT_THRESHOLDS.scheduleLagP99Ms) ||
    (r.client.eventLoopDelayWindowP99Ms ?? 0) > DEFAULT_THRESHOLDS.eventLoopDelayP99Ms;
  const seconds = r.seconds
    .filter((s) => s.phase === 'measure' && s.counters.sent > 0)
    .filter(
      (s) =>
        ((s.client?.eventLoopDelaySamples ?? 0) >= MIN_QUANTILE_SAMPLES && (s.client?.eventLoopDelayP99Ms ?? 0) > DEFAULT_THRESHOLDS.eventLoopDelayP99Ms) ||
        (s.scheduleLag.count >= MIN_QUANTILE_SAMPLES && (s.scheduleLag.p99 ?? 0) > DEFAULT_THRESHOLDS.scheduleLagP99Ms),
    )
    .map((s) => s.index);
  return seconds.length === 0 && windowDistorted ? [-1] : seconds;
}

/** Strict when the engine ran undisturbed; otherwise it must have flagged the disturbance. */
function expectAccurate(r: PacedRunResult, strict: () => void, loose: () => void): void {
  const distorted = distortedSeconds(r);
  if (distorted.length === 0) strict();
  else {
    expect(r.warnings.map((w) => w.kind).some((k) => k === 'event-loop-delay' || k === 'schedule-lag')).toBe(true);
    loose();
  }
}

// Timing on a shared two-core machine: another process can delay a wake-up by milliseconds, which
// is real latency but not the engine's error. Timing-sensitive tests get two more attempts (an
// error of the engine itself fails all three), and relax only where the engine flagged it.
const TIMING = { timeout: 10_000, retry: 2 };

describe('paced open-model engine', () => {
  let server: DelayServer;

  beforeAll(async () => {
    server = await startDelayServer({ '/base': 10, '/slow': 40, '/stall': 0 });
  });

  afterAll(async () => {
    await server.close();
  });

  it('hits the target rate within 1% and measures a 30 ms added server delay within 1 ms', TIMING, async () => {
    const rate = 300;
    const workload = pathWorkload({ base: 1, slow: 1 });
    const r = await runPaced({ url: server.url, workload, rate, durationMs: 2000, warmupMs: 500, seed: 7 });

    expect(r.partial).toBe(false);
    expect(r.sentPerSecond!.seconds).toBe(2);
    expect(r.counters.sent).toBeGreaterThanOrEqual(rate * 2 - 1);
    const rateError = Math.abs(r.achievedRate! - rate) / rate;
    expect(r.counters.timeouts + r.counters.dropped + r.counters.errors).toBe(0);

    // The added delay as the client sees it (slow − base, the same run, the same conditions: both
    // leave the client idle while the server holds them), against what the server itself measured
    // holding the requests.
    const base = r.byEndpoint.base!;
    const slow = r.byEndpoint.slow!;
    const measuredDelay = slow.latency.p50! - base.latency.p50!;
    const heldDelay = slow.server.total.p50! - base.server.total.p50!;
    const delayError = Math.abs(measuredDelay - heldDelay);
    const why = `client saw ${measuredDelay.toFixed(3)} ms, server held ${heldDelay.toFixed(3)} ms; rate ${r.achievedRate!.toFixed(2)}/s`;
    expect(heldDelay).toBeGreaterThanOrEqual(29);
    // Per response, the client never reports less than the server held.
    expect(slow.negativeTransport + base.negativeTransport).toBe(0);
    expect(slow.latency.min!).toBeGreaterThanOrEqual(slow.server.total.min!);
    expectAccurate(
      r,
      () => {
        expect(rateError, why).toBeLessThan(0.01);
        // Every full second of the window sent its share, not just the average.
        expect(r.sentPerSecond!.min).toBeGreaterThanOrEqual(rate * 0.99);
        expect(r.sentPerSecond!.max).toBeLessThanOrEqual(rate * 1.01);
        expect(delayError, why).toBeLessThan(1);
      },
      () => {
        // Disturbed: the error stays within the distortion the engine itself reported.
        const reported = Math.max(r.scheduleLag.p99 ?? 0, r.client.eventLoopDelayP99Ms ?? 0);
        expect(rateError, why).toBeLessThan(0.05);
        expect(delayError, `${why}; reported distortion ${reported.toFixed(1)} ms`).toBeLessThan(1 + reported);
      },
    );
    // Server-Timing was parsed for every response; the transport part is what lies between.
    expect(slow.serverTimingMissing).toBe(0);
    expect(slow.transport.count).toBe(slow.latency.count);
    // Each planned request ended exactly once.
    expect(sum(workload.outcomes)).toBe(sum(workload.stats().planned));
  });

  it('shows a stalled server as latency and timeouts, not as a lower sent rate', TIMING, async () => {
    const rate = 200;
    const workload = pathWorkload({ stall: 1 });
    const stallMs = 700;
    const timeoutMs = 250;
    const done = runPaced({ url: server.url, workload, rate, durationMs: 2000, timeoutMs, seed: 1 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await server.stall(stallMs);
    const r = await done;

    const rateError = Math.abs(r.achievedRate! - rate) / rate;
    expectAccurate(
      r,
      () => {
        expect(rateError).toBeLessThan(0.01);
        expect(r.sentPerSecond!.min).toBeGreaterThanOrEqual(rate * 0.99);
      },
      () => expect(rateError).toBeLessThan(0.05),
    );
    expect(r.counters.dropped).toBe(0);
    // Requests sent during the first (stall − timeout) ms of the stall cannot be answered in time.
    expect(r.counters.timeouts).toBeGreaterThanOrEqual(Math.floor((rate * (stallMs - timeoutMs)) / 1000) * 0.8);
    // Those sent in the last part of the stall are answered when it ends: late, and measured so.
    expect(r.latency.max!).toBeGreaterThan(timeoutMs * 0.5);
    expect(r.latency.p99!).toBeGreaterThan(50);
    expect(r.counters.completed + r.counters.timeouts).toBe(r.counters.sent);
    expect(sum(workload.outcomes)).toBe(sum(workload.stats().planned));
  });

  it('counts requests beyond the concurrency cap and a full queue as dropped, and reports the cap', async () => {
    expect(STUDY_CONCURRENCY).toEqual({ maxConcurrency: 50, queueSize: 100 });
    const workload = pathWorkload({ slow: 1 });
    const warnings: string[] = [];
    // 5 slots x 30 ms serve ~166 req/s; 300 req/s are offered.
    const r = await runPaced({
      url: server.url,
      workload,
      rate: 300,
      durationMs: 1000,
      maxConcurrency: 5,
      queueSize: 10,
      seed: 3,
      onWarning: (w) => warnings.push(w.kind),
    });
    expect(r.concurrency.capReached).toBe(true);
    expect(r.concurrency.maxInFlight).toBe(5);
    expect(r.concurrency.maxQueued).toBe(10);
    expect(r.counters.dropped).toBeGreaterThan(50);
    expect(r.counters.sent + r.counters.dropped).toBe(sum(workload.stats().planned));
    expect(warnings).toContain('concurrency-cap');
    // Queue waits count: latency is from the intended send time, so it exceeds the server's 30 ms.
    expect(r.latency.p90!).toBeGreaterThan(45);
    expect(r.scheduleLag.max!).toBeGreaterThan(10);
  }, 10_000);

  it('stops on abort, drains what is in flight, and marks the result partial', async () => {
    const workload = pathWorkload({ slow: 1 });
    const controller = new AbortController();
    const seconds: number[] = [];
    const started = Date.now();
    setTimeout(() => controller.abort(), 600);
    const r: PacedRunResult = await runPaced({
      url: server.url,
      workload,
      rate: 100,
      durationMs: 10_000,
      seed: 5,
      signal: controller.signal,
      onProgress: (s) => seconds.push(s.index),
    });
    expect(r.partial).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.counters.sent).toBeGreaterThan(40);
    expect(r.counters.sent).toBeLessThan(80);
    expect(r.counters.completed).toBe(r.counters.sent);
    expect(seconds).toContain(0);
    expect(sum(workload.outcomes)).toBe(sum(workload.stats().planned));
  }, 10_000);

  it('raises no warning at a low rate: a p99 needs 100 samples, and finalisation is not load', { timeout: 15_000, retry: 2 }, async () => {
    // Issue 11: at 15 req/s every run warned — a per-second "p99" of 15 samples is their maximum,
    // and the CPU of the second after the window (encoding the results) was counted as load.
    const workload = pathWorkload({ base: 1 });
    const r = await runPaced({ url: server.url, workload, rate: 15, durationMs: 3000, warmupMs: 500, seed: 3 });
    expect(r.counters.sent).toBeGreaterThanOrEqual(44);
    expect(r.scheduleLag.count).toBeLessThan(100);
    expect(r.warnings, JSON.stringify(r.warnings)).toEqual([]);
    // The per-second series still has every second's figures; only the warnings are gated.
    expect(r.seconds.filter((s) => s.phase === 'measure').every((s) => s.client !== null)).toBe(true);
  });

  it('Poisson arrivals are reproducible from the seed and have the target mean rate', () => {
    const draw = (seed: number) => {
      const s = createArrivalSchedule({ rate: 1000, process: 'poisson', seed });
      return Array.from({ length: 50_000 }, () => s.next());
    };
    const a = draw(42);
    expect(draw(42)).toEqual(a);
    expect(draw(43)).not.toEqual(a);
    // 50 000 arrivals at 1000/s: the last one near 50 s (sd of the sum ≈ 0.45 %).
    expect(Math.abs(a[a.length - 1]! / 50_000 - 1)).toBeLessThan(0.02);
    const even = createArrivalSchedule({ rate: 300, process: 'even', seed: 0 });
    const times = Array.from({ length: 301 }, () => even.next());
    expect(times[300]).toBeCloseTo(1000, 9);
  });
});
