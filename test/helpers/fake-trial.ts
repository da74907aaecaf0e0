/** A synthetic TrialResult with the figures the tuner reads (for tests of sweep logic without load). */
import type { TrialConfig, TrialResult } from '../../src/tuner/trial.ts';

export function fakeTrialResult(config: TrialConfig, figures: { p50: number; p99?: number; timeouts?: number; partial?: boolean; dbRoundTripMs?: number }): TrialResult {
  const sent = Math.round(config.rate * (config.durationMs / 1000));
  const counters = { sent, completed: sent, ok: sent, http4xx: 0, http5xx: 0, httpOther: 0, transportErrors: 0, timeouts: figures.timeouts ?? 0, dropped: 0, cancelled: 0, errors: 0 };
  const latency = { unit: 'ms', count: sent, mean: figures.p50, stddev: 1, min: 1, p50: figures.p50, p90: figures.p50, p99: figures.p99 ?? figures.p50 * 2, p999: null, max: null, hdr: null, sumSquares: 0 };
  const row = (component: string, mean: number) => ({ component, label: component, measuredAt: 'test', kind: 'measured', part: true, count: sent, mean, stddev: 0, max: mean });
  return {
    kind: 'run',
    partial: figures.partial ?? false,
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    config,
    machine: { cpus: 2, cpuModel: 'test', memGiB: 1, node: process.version, platform: process.platform },
    service: { url: 'http://test', pid: 0, stderr: [] },
    load: { engine: 'paced', counters, latency, achievedRate: config.rate, warnings: [] },
    observation: null,
    observerError: null,
    split: { endpoints: [{ endpoint: 'x', requests: sent, rows: [row('dbRoundTrip', figures.dbRoundTripMs ?? 2), row('poolWait', 0.1)] }], notes: [] },
    spikes: { outages: [], baselineP99Ms: null, thresholdMs: null, spikes: [], period: null, measuredAt: 'test' },
    cpu: null,
  } as unknown as TrialResult;
}
