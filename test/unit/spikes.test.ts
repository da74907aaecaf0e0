import { describe, expect, it } from 'vitest';
import { detectSpikes } from '../../src/analysis/spikes.ts';
import { emptyCounters, type SecondRecord } from '../../src/load/latency-recorder.ts';
import type { EncodedHistogram } from '../../src/load/histogram.ts';
import type { Sample, SamplerResult } from '../../src/observe/sampler.ts';

const T0 = 1_700_000_000_000;

function second(index: number, p99: number, extra: Partial<SecondRecord['counters']> = {}): SecondRecord {
  const latency = { unit: 'ms', count: 10, mean: p99 / 2, stddev: 1, min: 1, p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, hdr: null, sumSquares: 0 } as EncodedHistogram;
  return {
    index,
    startedAt: T0 + index * 1000,
    phase: 'measure',
    counters: { ...emptyCounters(), sent: 10, completed: 10, ok: 10, ...extra },
    byEndpoint: {},
    latency,
    latencyByEndpoint: {},
    scheduleLag: latency,
    client: null,
  };
}

function sample(at: number, parts: Partial<Sample>): Sample {
  return { at, serverAt: at, costMs: 1, backends: [], maintenance: [], checkpoint: null, gin: [], walBytes: null, replication: { primary: [] }, database: null, tables: [], ...parts };
}

function sampler(node: string, samples: Sample[], extra: Partial<SamplerResult> = {}): SamplerResult {
  return { node, serverVersionNum: 170000, inRecovery: node === 'replica', intervalMs: 250, startedAt: T0, stoppedAt: T0 + 60_000, samples, missedTicks: 0, errors: [], notes: [], cost: null, events: [], summary: {} as SamplerResult['summary'], ...extra };
}

describe('spike detection', () => {
  it('finds spikes against the run median and attributes each to what the observer saw', () => {
    const seconds = Array.from({ length: 60 }, (_, i) => second(i, 20));
    seconds[10] = second(10, 400); // lock wait
    seconds[11] = second(11, 350);
    seconds[30] = second(30, 30, { timeouts: 2, http5xx: 3, errorCodes: { DB_UNAVAILABLE: 3 } }); // outage
    seconds[50] = second(50, 500); // nothing seen
    const primary = sampler('primary', [
      sample(T0 + 10_200, { backends: [{ application: 'esbench_primary_pool', state: 'active', backendType: 'client backend', waitEventType: 'Lock', waitEvent: 'relation', count: 7 }] }),
      // The observer's own waits never count.
      sample(T0 + 50_300, { backends: [{ application: 'esbench_observer', state: 'active', backendType: 'client backend', waitEventType: 'Lock', waitEvent: 'relation', count: 1 }] }),
    ]);
    const replica = sampler('replica', [], { errors: [{ at: T0 + 30_400, message: 'connect ECONNREFUSED' }] });
    const report = detectSpikes(seconds, [primary, replica]);
    expect(report.baselineP99Ms).toBe(20);
    expect(report.spikes.map((s) => [s.firstSecond, s.lastSecond])).toEqual([
      [10, 11],
      [30, 30],
      [50, 50],
    ]);
    expect(report.spikes[0]!.causes).toEqual([{ kind: 'lock wait', node: 'primary', evidence: '7 backend(s) waiting on Lock:relation' }]);
    expect(report.spikes[1]!.causes.map((c) => [c.kind, c.node])).toEqual([['outage', 'replica']]);
    expect(report.spikes[1]!.timeouts).toBe(2);
    expect(report.spikes[2]!.causes[0]!.kind).toBe('unexplained');
    expect(report.period).toMatchObject({ spikes: 3, meanSeconds: 20 });
  });

  it('attributes autovacuum runs and checkpoints in the window, and reports no spike on a flat run', () => {
    const seconds = Array.from({ length: 20 }, (_, i) => second(i, 10));
    expect(detectSpikes(seconds).spikes).toEqual([]);
    seconds[5] = second(5, 200);
    const primary = sampler('primary', [sample(T0 + 5_100, { maintenance: [{ pid: 1, kind: 'vacuum', auto: true, relation: 'public.events', phase: 'scanning heap' } as Sample['maintenance'][number]] })], {
      events: [{ kind: 'checkpoint', node: 'primary', type: 'checkpoint', startedAt: T0 + 4_000, completedBetween: [T0 + 5_000, T0 + 5_250], reason: 'timed', buffersWritten: 1200, redoLsn: null }],
    });
    const [spike] = detectSpikes(seconds, [primary]).spikes;
    expect(spike!.causes.map((c) => c.kind).sort()).toEqual(['autovacuum', 'checkpoint']);
    expect(spike!.causes.find((c) => c.kind === 'autovacuum')!.evidence).toContain('public.events');
  });
});
