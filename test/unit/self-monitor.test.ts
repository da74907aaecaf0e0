import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/load/histogram.ts';
import { emptyCounters, type ClientHealth, type SecondRecord } from '../../src/load/latency-recorder.ts';
import { DEFAULT_THRESHOLDS, MIN_QUANTILE_SAMPLES, SelfMonitor, type EngineWarning } from '../../src/load/self-monitor.ts';

const hist = (values: number[]) => {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h.toJSON();
};

function second(index: number, client: Partial<ClientHealth>, lag: number[] = [], dropped = 0): SecondRecord {
  const counters = emptyCounters();
  counters.dropped = dropped;
  return {
    index,
    startedAt: 0,
    phase: index < 0 ? 'warmup' : 'measure',
    counters,
    byEndpoint: {},
    latency: hist([]),
    latencyByEndpoint: {},
    scheduleLag: hist(lag),
    client: { cpu: 0.1, eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, eventLoopDelaySamples: 100, maxInFlight: 1, queued: 0, ...client },
  };
}

function monitor() {
  const seen: EngineWarning[] = [];
  const m = new SelfMonitor({ thresholds: { ...DEFAULT_THRESHOLDS }, cap: 10, queueSize: 0, onWarning: (w) => seen.push(w) });
  return { m, seen };
}

describe("the generator's self-monitor", () => {
  it('warns about CPU, event-loop delay, schedule lag and the cap inside the measured window, once per kind', () => {
    const { m, seen } = monitor();
    const late = Array.from({ length: MIN_QUANTILE_SAMPLES }, () => 20);
    m.judgeSecond(second(0, { cpu: 0.95, eventLoopDelayP99Ms: 30, maxInFlight: 10 }, late), true);
    m.judgeSecond(second(1, { cpu: 0.99 }), true);
    const { warnings, client } = m.finish(hist([]), 0, []);
    expect(seen.map((w) => w.kind).sort()).toEqual(['concurrency-cap', 'cpu', 'event-loop-delay', 'schedule-lag']);
    const cpu = warnings.find((w) => w.kind === 'cpu')!;
    expect(cpu.seconds).toBe(2);
    expect(cpu.worst).toBe(0.99);
    expect(cpu.firstSecond).toBe(0);
    expect(client.cpuMean).toBeCloseTo(0.97, 9);
    expect(client.cpuMax).toBe(0.99);
  });

  it('raises nothing from seconds outside the window (warm-up, finalisation)', () => {
    const { m, seen } = monitor();
    const late = Array.from({ length: MIN_QUANTILE_SAMPLES }, () => 20);
    m.judgeSecond(second(-1, { cpu: 0.99, eventLoopDelayP99Ms: 30 }, late, 3), false);
    m.judgeSecond(second(5, { cpu: 0.99, eventLoopDelayP99Ms: 30 }, late, 3), false);
    const { warnings, client } = m.finish(hist([]), 0, []);
    expect(seen).toEqual([]);
    expect(warnings).toEqual([]);
    // CPU outside the window is not the load's either.
    expect(client.cpuMean).toBeNull();
  });

  it('does not trust a p99 without MIN_QUANTILE_SAMPLES behind it (one late request of 15)', () => {
    const { m } = monitor();
    m.judgeSecond(second(0, { eventLoopDelayP99Ms: 30, eventLoopDelaySamples: 20 }, [...Array.from({ length: 14 }, () => 0.1), 11]), true);
    expect(m.finish(hist([]), 0, []).warnings).toEqual([]);
  });

  it('judges the whole window when no second had enough samples, but not lag caused by a queue at the cap', () => {
    const windowLag = hist(Array.from({ length: MIN_QUANTILE_SAMPLES }, () => 20));
    const a = monitor();
    expect(a.m.finish(windowLag, 0, []).warnings.map((w) => w.kind)).toEqual(['schedule-lag']);
    const b = monitor();
    expect(b.m.finish(windowLag, 3, []).warnings).toEqual([]);
  });

  it('reads CPU and event-loop delay of this process into the second it observes', () => {
    const { m } = monitor();
    const s = second(0, {});
    s.client = null;
    m.observeSecond(s, { maxInFlight: 7, queued: 2 }, true);
    expect(s.client).not.toBeNull();
    expect(s.client!.cpu).toBeGreaterThanOrEqual(0);
    expect(s.client!.maxInFlight).toBe(7);
    expect(s.client!.queued).toBe(2);
    const { client } = m.finish(hist([]), 0, [s]);
    expect(client.cpuMean).toBe(s.client!.cpu);
  });
});
