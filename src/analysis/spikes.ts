/**
 * Latency spikes of a run and what the database was doing at the time. The study blamed its
 * "periodic timeout spikes every couple of minutes" on autovacuum without measuring it; here each
 * spike carries the evidence the observer saw in the same window (lock waits, an outage, an
 * autovacuum or analyze run, a checkpoint), or says it is unexplained, and repeated spikes get
 * their period.
 *
 * A spike second: its client p99 exceeds max(factor × the run's median per-second p99,
 * median + floor), or it had a timeout, a 5xx or a transport error. Consecutive spike seconds
 * (gaps of at most one second) form one spike. Causes are searched from one second before the
 * spike (latency counts from the intended send time, so a stall shows up after it began) to its end.
 */
import { mean, median, standardDeviation } from 'simple-statistics';
import type { SecondRecord } from '../load/latency-recorder.ts';
import type { SamplerResult } from '../observe/sampler.ts';

export type SpikeCauseKind = 'outage' | 'lock wait' | 'advisory lock wait' | 'timeout codes' | 'autovacuum' | 'vacuum' | 'checkpoint' | 'unexplained';

export interface SpikeCause {
  kind: SpikeCauseKind;
  node: string | null;
  /** What was seen, in a few words (wait events, table, error codes). */
  evidence: string;
}

export interface Spike {
  /** Epoch ms: start of the first and end of the last spike second. */
  from: number;
  to: number;
  /** Seconds since the start of the measured window. */
  firstSecond: number;
  lastSecond: number;
  worstP99Ms: number | null;
  timeouts: number;
  errors: number;
  causes: SpikeCause[];
}

/** A window in which the observer could not sample a node (down, restarting, unreachable). */
export interface Outage {
  node: string;
  from: number;
  to: number;
  failedSamples: number;
  firstError: string;
}

export interface SpikeReport {
  /** Windows in which a node could not be observed; reported whether or not latency spiked. */
  outages: Outage[];
  /** Median of the per-second client p99 over the measured window (ms). */
  baselineP99Ms: number | null;
  thresholdMs: number | null;
  spikes: Spike[];
  /** With three spikes or more: the interval between spike starts. */
  period: { spikes: number; meanSeconds: number; stddevSeconds: number } | null;
  measuredAt: string;
}

export interface SpikeOptions {
  factor?: number;
  floorMs?: number;
}

const OBSERVER_APP = 'esbench_observer';
const OUTAGE_CODES = new Set(['DB_UNAVAILABLE', 'REPLICA_UNAVAILABLE', 'POOL_TIMEOUT', 'NODE_CRASHED']);
const TIMEOUT_CODES = new Set(['STATEMENT_TIMEOUT', 'LOCK_TIMEOUT']);

function isSpike(s: SecondRecord, threshold: number | null): boolean {
  const c = s.counters;
  if (c.timeouts > 0 || c.http5xx > 0 || c.transportErrors > 0) return true;
  return threshold !== null && s.latency.p99 !== null && s.latency.p99 > threshold;
}

function causesIn(from: number, to: number, seconds: SecondRecord[], samplers: readonly SamplerResult[]): SpikeCause[] {
  const causes: SpikeCause[] = [];
  const codes = new Map<string, number>();
  for (const s of seconds) for (const [code, n] of Object.entries(s.counters.errorCodes)) codes.set(code, (codes.get(code) ?? 0) + n);
  const outageCodes = [...codes].filter(([c]) => OUTAGE_CODES.has(c));
  for (const sampler of samplers) {
    const errors = sampler.errors.filter((e) => e.at >= from && e.at <= to);
    if (errors.length > 0) causes.push({ kind: 'outage', node: sampler.node, evidence: `observer could not sample ${sampler.node}: ${errors[0]!.message}` });
    const inWindow = sampler.samples.filter((x) => x.at >= from && x.at <= to);
    const locks = new Map<string, number>();
    for (const sample of inWindow) {
      for (const b of sample.backends) {
        if (b.application === OBSERVER_APP || b.waitEventType !== 'Lock') continue;
        const name = `Lock:${b.waitEvent ?? '?'}`;
        locks.set(name, Math.max(locks.get(name) ?? 0, b.count));
      }
    }
    const advisory = locks.get('Lock:advisory');
    locks.delete('Lock:advisory');
    if (locks.size > 0) {
      causes.push({ kind: 'lock wait', node: sampler.node, evidence: [...locks].map(([w, n]) => `${n} backend(s) waiting on ${w}`).join(', ') });
    }
    if (advisory) causes.push({ kind: 'advisory lock wait', node: sampler.node, evidence: `${advisory} backend(s) waiting on boundary locks (overlapping appends)` });
    const maintenance = new Map<string, boolean>();
    for (const sample of inWindow) for (const m of sample.maintenance) maintenance.set(`${m.kind} ${m.relation ?? '?'}`, m.auto);
    for (const e of sampler.events) {
      if (e.kind !== 'maintenance') continue;
      const start = e.startedAt ?? e.seenFrom;
      const end = e.endedAt ?? e.seenTo ?? start;
      if (start !== null && end !== null && start <= to && end >= from) maintenance.set(`${e.operation} ${e.relation}`, e.auto);
    }
    for (const [what, auto] of maintenance) {
      causes.push({ kind: auto ? 'autovacuum' : 'vacuum', node: sampler.node, evidence: `${auto ? 'auto' : 'manual '}${what} running` });
    }
    for (const e of sampler.events) {
      if (e.kind !== 'checkpoint') continue;
      const start = e.startedAt ?? e.completedBetween[0];
      if (start <= to && e.completedBetween[1] >= from) {
        causes.push({ kind: 'checkpoint', node: sampler.node, evidence: `${e.reason} ${e.type}${e.buffersWritten === null ? '' : `, ${e.buffersWritten} buffers written`}` });
      }
    }
  }
  if (outageCodes.length > 0 && !causes.some((c) => c.kind === 'outage')) {
    causes.push({ kind: 'outage', node: null, evidence: outageCodes.map(([c, n]) => `${n}× ${c}`).join(', ') });
  }
  const timeoutCodes = [...codes].filter(([c]) => TIMEOUT_CODES.has(c));
  if (timeoutCodes.length > 0) causes.push({ kind: 'timeout codes', node: null, evidence: timeoutCodes.map(([c, n]) => `${n}× ${c}`).join(', ') });
  return causes.length > 0 ? causes : [{ kind: 'unexplained', node: null, evidence: 'no lock wait, outage, vacuum or checkpoint seen by the observer' }];
}

/** Consecutive sampler errors of a node (gaps below 2 s) form one outage window. */
export function outagesOf(samplers: readonly SamplerResult[]): Outage[] {
  const out: Outage[] = [];
  for (const sampler of samplers) {
    let current: Outage | undefined;
    for (const e of [...sampler.errors].sort((a, b) => a.at - b.at)) {
      if (current && e.at - current.to <= Math.max(2000, 2 * sampler.intervalMs)) {
        current.to = e.at;
        current.failedSamples++;
      } else {
        current = { node: sampler.node, from: e.at, to: e.at, failedSamples: 1, firstError: e.message };
        out.push(current);
      }
    }
  }
  return out.sort((a, b) => a.from - b.from);
}

export function detectSpikes(seconds: readonly SecondRecord[], samplers: readonly SamplerResult[] = [], options: SpikeOptions = {}): SpikeReport {
  const measured = seconds.filter((s) => s.phase === 'measure' && s.counters.sent + s.counters.completed + s.counters.timeouts > 0);
  const p99s = measured.map((s) => s.latency.p99).filter((v): v is number => v !== null);
  const baseline = p99s.length > 0 ? median(p99s) : null;
  const threshold = baseline === null ? null : Math.max((options.factor ?? 3) * baseline, baseline + (options.floorMs ?? 50));
  const groups: SecondRecord[][] = [];
  for (const s of measured) {
    if (!isSpike(s, threshold)) continue;
    const last = groups.at(-1);
    if (last && s.index - last.at(-1)!.index <= 2) last.push(s);
    else groups.push([s]);
  }
  const spikes = groups.map((g): Spike => {
    const from = g[0]!.startedAt;
    const to = g.at(-1)!.startedAt + 1000;
    const p99 = g.map((s) => s.latency.p99).filter((v): v is number => v !== null);
    return {
      from,
      to,
      firstSecond: g[0]!.index,
      lastSecond: g.at(-1)!.index,
      worstP99Ms: p99.length > 0 ? Math.max(...p99) : null,
      timeouts: g.reduce((n, s) => n + s.counters.timeouts, 0),
      errors: g.reduce((n, s) => n + s.counters.http5xx + s.counters.transportErrors, 0),
      causes: causesIn(from - 1000, to, g, samplers),
    };
  });
  let period: SpikeReport['period'] = null;
  if (spikes.length >= 3) {
    const intervals = spikes.slice(1).map((s, i) => (s.from - spikes[i]!.from) / 1000);
    period = { spikes: spikes.length, meanSeconds: mean(intervals), stddevSeconds: intervals.length > 1 ? standardDeviation(intervals) : 0 };
  }
  return {
    outages: outagesOf(samplers),
    baselineP99Ms: baseline,
    thresholdMs: threshold,
    spikes,
    period,
    measuredAt: 'client per-second p99 / timeouts / errors (load generator) against what the observer sampled on both nodes in the same seconds',
  };
}
