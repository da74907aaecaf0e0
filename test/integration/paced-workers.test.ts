import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/load/histogram.ts';
import { runPacedWorkers } from '../../src/load/paced-workers.ts';
import { mergePacedResults, mergeSecond } from '../../src/load/run-merge.ts';
import { emptyCounters, type SecondRecord } from '../../src/load/latency-recorder.ts';
import { runPaced } from '../../src/load/paced-engine.ts';
import { createWorkload, WORKLOAD_PRESETS } from '../../src/load/workload.ts';
import { startDelayServer, type DelayServer } from '../helpers/delay-server.ts';

describe('paced engine in worker processes', () => {
  let server: DelayServer;
  beforeAll(async () => {
    server = await startDelayServer({});
  });
  afterAll(async () => server.close());

  it('two workers send the full rate between them, and their results merge into one', { timeout: 30_000, retry: 1 }, async () => {
    const rate = 200;
    const seconds: number[] = [];
    const phases: string[] = [];
    const r = await runPacedWorkers({
      workers: 2,
      url: server.url,
      spec: WORKLOAD_PRESETS['raw-query'],
      rate,
      durationMs: 2000,
      warmupMs: 300,
      seed: 5,
      onProgress: (s) => seconds.push(s.index),
      onPhase: (p) => phases.push(p),
    });
    expect(r.workers).toBe(2);
    expect(r.targetRate).toBe(rate);
    expect(r.config.seed).toBe(5);
    const why = JSON.stringify({ c: r.counters, w: r.warnings.map((w) => w.message), a: r.achievedRate, lag: r.scheduleLag.p99 });
    // Every response is in the merged histogram, and per endpoint.
    expect(r.latency.count).toBe(r.counters.completed);
    expect(Object.values(r.byEndpoint).reduce((s, e) => s + e.latency.count, 0)).toBe(r.counters.completed);
    if (r.warnings.length === 0) {
      // Undisturbed (a shared two-core machine often is not; then the engine must have said so).
      expect(r.counters.sent, why).toBeGreaterThanOrEqual(2 * rate - 2);
      expect(r.counters.sent, why).toBeLessThanOrEqual(2 * rate + 2);
      expect(Math.abs(r.achievedRate! - rate) / rate, why).toBeLessThan(0.02);
      // The per-second series is the sum of the workers' seconds: each full second carries the full rate.
      expect(r.sentPerSecond!.min, why).toBeGreaterThanOrEqual(rate * 0.95);
    }
    expect(seconds).toContain(0);
    expect(seconds).toContain(1);
    expect(phases).toEqual(['measure', 'drain']);
  });

  // Regression: 2 workers at 1,000 req/s counted 1,020 requests. Each worker started its own
  // schedule when its timer woke, and a late first tick opened the window before sending the
  // warm-up arrivals it found overdue. Now every worker sends its share (arrivals k, k+N, ...) of
  // one schedule from one absolute instant, so the count is exact however late the workers are.
  it('two workers at 1,000 req/s offer exactly rate × duration in the merged window', { timeout: 30_000 }, async () => {
    const rate = 1000;
    const durationMs = 1000;
    const r = await runPacedWorkers({ workers: 2, url: server.url, spec: WORKLOAD_PRESETS['raw-query'], rate, durationMs, warmupMs: 500, seed: 9 });
    const offered = r.counters.sent + r.counters.dropped + r.counters.cancelled;
    expect(offered, JSON.stringify(r.counters)).toBeGreaterThanOrEqual((rate * durationMs) / 1000 - 2);
    expect(offered, JSON.stringify(r.counters)).toBeLessThanOrEqual((rate * durationMs) / 1000 + 2);
    // One window for all: the merged window starts when each worker's did.
    expect(r.measureStartedAt).not.toBeNull();
    expect(r.measureEndedAt! - r.measureStartedAt!).toBeGreaterThanOrEqual(durationMs);
  });

  it('generators given one start instant and their shares of one schedule share one window and send it exactly', async () => {
    const spec = WORKLOAD_PRESETS['raw-query'];
    const startAtEpochMs = Date.now() + 100;
    const run = (index: number) =>
      runPaced({ url: server.url, workload: createWorkload(spec), rate: 150, durationMs: 1000, warmupMs: 200, seed: 3 + index, share: { index, of: 2, scheduleSeed: 3 }, startAtEpochMs });
    const [a, b] = await Promise.all([run(0), run(1)]);
    expect(a!.startedAt).toBe(startAtEpochMs);
    expect(a!.measureStartedAt).toBe(startAtEpochMs + 200);
    expect(b!.measureStartedAt).toBe(a!.measureStartedAt);
    const m = mergePacedResults([a!, b!]);
    expect(m.counters.sent + m.counters.dropped).toBe(300);
    expect(a!.counters.sent + a!.counters.dropped).toBe(150);
    expect(m.targetRate).toBe(300);
  });

  it('merges histograms losslessly: the merge of two runs equals one histogram of all their values', async () => {
    const spec = WORKLOAD_PRESETS['raw-query'];
    const a = await runPaced({ url: server.url, workload: createWorkload(spec), rate: 100, durationMs: 600, seed: 1 });
    const b = await runPaced({ url: server.url, workload: createWorkload(spec), rate: 100, durationMs: 600, seed: 2 });
    const m = mergePacedResults([a, b]);
    const all = new LatencyHistogram();
    all.add(LatencyHistogram.fromJSON(a.latency));
    all.add(LatencyHistogram.fromJSON(b.latency));
    expect(m.latency.count).toBe(a.latency.count + b.latency.count);
    expect(m.latency.p99).toBe(all.percentile(99));
    expect(m.latency.max).toBe(Math.max(a.latency.max!, b.latency.max!));
    expect(m.latency.mean!).toBeCloseTo((a.latency.mean! * a.latency.count + b.latency.mean! * b.latency.count) / m.latency.count, 9);
    expect(m.counters.sent).toBe(a.counters.sent + b.counters.sent);
    expect(m.workers).toBe(2);
  });
});

describe('merging one second of several workers', () => {
  const hist = (values: number[]) => {
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    return h.toJSON();
  };
  const second = (values: number[], server: number[] | null): SecondRecord => ({
    index: 3,
    startedAt: 1000,
    phase: 'measure',
    counters: emptyCounters(),
    byEndpoint: {},
    latency: hist(values),
    latencyByEndpoint: {},
    scheduleLag: hist([1]),
    client: null,
    ...(server ? { server: { total: hist(server), pool: hist(server.map(() => 0.1)) } } : {}),
  });

  // Regression: the per-second Server-Timing figures (the spike analysis reads them) were dropped
  // when generator workers' seconds were merged.
  it("keeps the service's per-second Server-Timing figures of every worker", () => {
    const merged = mergeSecond([second([10, 20], [5, 15]), second([30], [25]), second([40], null)]);
    expect(merged.latency.count).toBe(4);
    expect(merged.server?.total.count).toBe(3);
    expect(merged.server?.total.max).toBeCloseTo(25, 1);
    expect(merged.server?.pool.count).toBe(3);
  });

  it('has no server figures when no worker had any', () => {
    expect(mergeSecond([second([10], null), second([20], null)]).server).toBeUndefined();
  });
});
