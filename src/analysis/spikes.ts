/**
 * Latency spikes of a run and what caused them. The study blamed its "periodic timeout spikes
 * every couple of minutes" on autovacuum without measuring it; here each episode of high latency
 * carries the evidence the run holds (spike-causes.ts), strongest first, or says it is unexplained,
 * and repeated episodes get their period next to the period of their causes.
 *
 * Detection, on ln(per-second client p99) of the measured window:
 * - the run's normal level is the median of the seconds without timeouts or errors, or, when
 *   their half-sample mode (in ms) lies more than one noise sigma below it, that mode: the densest
 *   level, right even when a degradation covers most of the run, where a median is not;
 * - the noise is the MAD of first differences (second-to-second jitter; a slow trend or a level
 *   shift does not inflate it, where a plain MAD or stddev would);
 * - a spike second is above level + k·noise (k = 4) and above max(factor × the level, level +
 *   floor), or has a timeout, a 5xx or a transport error;
 * - an episode is a run of elevated seconds (above level + 2·noise), gaps of up to 3 s bridged,
 *   that holds at least one spike second: a degradation that builds over tens of seconds is one
 *   episode, not a scatter of spikes.
 * Causes are searched from one second before an episode (latency counts from the intended send
 * time, so a stall shows up after it began) to its end; the GIN pending list looks back to its
 * last flush, since it builds up before it hurts.
 */
import { mean, median, standardDeviation } from 'simple-statistics';
import type { SecondRecord } from '../load/latency-recorder.ts';
import type { CpuWindow } from '../observe/cpu-meter.ts';
import type { SamplerResult } from '../observe/sampler.ts';
import { ginFlushes, ginSeries, type LatencySecond } from './gin-pending.ts';
import { differenceSigma, halfSampleMode } from './robust-stats.ts';
import { causesOf, type CauseContext, type EpisodeWindow } from './spike-causes.ts';
import { periodicityOf } from './spike-periodicity.ts';
import { nodeTimeline } from './spike-timeline.ts';
import type { Outage, Spike, SpikeReport } from './spike-types.ts';

export type {
  Detection,
  GinFlush,
  Outage,
  PeriodicCause,
  Periodicity,
  Spike,
  SpikeCause,
  SpikeCauseKind,
  SpikeCauseRole,
  SpikeReport,
} from './spike-types.ts';

export interface SpikeOptions {
  /** A spike second's p99 is at least this multiple of the run's level (default 1.5). */
  factor?: number;
  /** ... and at least the level + this many ms (default 20). */
  floorMs?: number;
  /** Noise multiples above the level for a spike second (default 4) and for an elevated one (default 2). */
  k?: number;
  kElevated?: number;
  /** Elevated seconds this far apart (s) or closer belong to one episode (default 3). */
  mergeGapSeconds?: number;
  /** Smallest GIN pending list (entries) that can be a cause (default 2000). */
  minPendingTuples?: number;
  /** Pool sizes of the run (to see a pool with every connection active). */
  pools?: { primary?: { max: number } | undefined; replica?: { max: number } | undefined } | undefined;
  /** CPU per process over the measured window (whole window only). */
  cpu?: CpuWindow | null | undefined;
  /** The client timeout of the run (default 1000 ms): a second with timeouts was at least that slow. */
  timeoutMs?: number | undefined;
}

const MIN_SIGMA = 0.05;

function hasErrors(s: SecondRecord): boolean {
  const c = s.counters;
  return c.timeouts > 0 || c.http5xx > 0 || c.transportErrors > 0;
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

function notMeasured(measured: readonly SecondRecord[], samplers: readonly SamplerResult[], options: SpikeOptions): string[] {
  const out = ['the service\'s GC / event-loop delay: its process is not sampled per second'];
  if (samplers.length === 0) out.push('database-side causes (locks, vacuum, GIN, checkpoints, replication): the observer did not run');
  else if (!samplers.some((s) => s.samples.some((x) => (x.gin ?? []).length > 0))) {
    const note = samplers.flatMap((s) => s.notes ?? []).find((n) => /GIN/.test(n));
    out.push(`GIN pending lists: ${note ?? 'no GIN index was sampled'}`);
  }
  if (measured.some((s) => s.counters.completed > 0) && !measured.some((s) => s.server)) out.push('per-second pool acquire wait and server time: not in this run\'s per-second records (window figures only)');
  if (measured.length > 0 && !measured.some((s) => s.client)) out.push('the generator\'s event-loop delay and CPU per second: not recorded by this engine');
  out.push(options.cpu ? 'CPU per process: whole window only (not per second)' : 'CPU per process: not measured in this run');
  return out;
}

export function detectSpikes(seconds: readonly SecondRecord[], samplers: readonly SamplerResult[] = [], options: SpikeOptions = {}): SpikeReport {
  const factor = options.factor ?? 1.5;
  const floorMs = options.floorMs ?? 20;
  const k = options.k ?? 4;
  const kLo = options.kElevated ?? 2;
  const mergeGap = options.mergeGapSeconds ?? 3;
  const measured = seconds
    .filter((s) => s.phase === 'measure' && s.counters.sent + s.counters.completed + s.counters.timeouts > 0)
    .sort((a, b) => a.index - b.index);

  const quiet = measured.filter((s) => !hasErrors(s) && s.latency.p99 !== null && s.latency.p99 > 0);
  const logs = quiet.map((s) => Math.log(s.latency.p99!));
  const sigma = Math.max(differenceSigma(logs) ?? MIN_SIGMA, MIN_SIGMA);
  // The mode on the ms scale: a build-up spreads its seconds thinly over many ms, while the normal
  // regime is tight in ms (on a log scale a linear ramp crowds its high end and can win). The
  // median is steadier on a clean run, so it is used unless the mode lies more than one noise
  // sigma below it: then more than half the run is degraded and the median sits inside it.
  const mode = halfSampleMode(quiet.map((s) => s.latency.p99!));
  const mid = logs.length > 0 ? median(logs) : null;
  const level = mode === null || mid === null ? null : Math.log(mode) < mid - sigma ? Math.log(mode) : mid;
  const levelFrom = mode === null || mid === null ? null : Math.log(mode) < mid - sigma ? 'half-sample mode' : 'median';
  const baseline = level === null ? null : Math.exp(level);
  const spikeThreshold = level === null ? null : Math.max(Math.exp(level + k * sigma), factor * baseline!, baseline! + floorMs);
  const elevatedThreshold = level === null ? null : Math.max(Math.exp(level + kLo * sigma), (1 + (factor - 1) / 2) * baseline!, baseline! + floorMs / 2);

  const isSpike = (s: SecondRecord): boolean => hasErrors(s) || (spikeThreshold !== null && s.latency.p99 !== null && s.latency.p99 > spikeThreshold);
  const isElevated = (s: SecondRecord): boolean => isSpike(s) || (elevatedThreshold !== null && s.latency.p99 !== null && s.latency.p99 > elevatedThreshold);

  // Runs of elevated seconds with small gaps bridged; only those holding a spike second count.
  const groups: SecondRecord[][] = [];
  for (const s of measured) {
    if (!isElevated(s)) continue;
    const last = groups.at(-1);
    if (last && s.index - last.at(-1)!.index <= mergeGap + 1) last.push(s);
    else groups.push([s]);
  }
  const episodes = groups.filter((g) => g.some(isSpike));

  const timelines = samplers.map(nodeTimeline);
  const origin = measured.length > 0 ? measured[0]!.startedAt - measured[0]!.index * 1000 : 0;
  const secondOf = (at: number): number => Math.floor((at - origin) / 1000);
  const gin = ginSeries(timelines);
  const flushes = ginFlushes(gin, timelines, secondOf);
  const latency: LatencySecond[] = measured.map((s) => ({
    index: s.index,
    p99: s.latency.p99,
    serverP99: s.server?.total.p99 ?? null,
    timeoutShare: s.counters.timeouts > 0 ? s.counters.timeouts / (s.counters.timeouts + s.counters.completed) : 0,
  }));
  const windows: EpisodeWindow[] = episodes.map((g) => ({ from: g[0]!.startedAt, to: g.at(-1)!.startedAt + 1000, firstSecond: g[0]!.index, lastSecond: g.at(-1)!.index }));
  const ctx: CauseContext = {
    timelines,
    gin,
    flushes,
    latency,
    secondOf,
    baselineP99Ms: baseline ?? 0,
    episodes: windows,
    pools: options.pools,
    cpu: options.cpu,
    minPendingTuples: options.minPendingTuples,
    timeoutMs: options.timeoutMs,
  };

  const spikes = episodes.map((g, i): Spike => {
    const w = windows[i]!;
    // The episode's seconds, gaps included (bridged seconds belong to it).
    const all = measured.filter((s) => s.index >= w.firstSecond && s.index <= w.lastSecond);
    const p99 = all.map((s) => s.latency.p99).filter((v): v is number => v !== null);
    const worst = p99.length > 0 ? Math.max(...p99) : null;
    const peak = all.reduce((m, s) => ((s.counters.timeouts > m.counters.timeouts || (s.counters.timeouts === m.counters.timeouts && (s.latency.p99 ?? 0) > (m.latency.p99 ?? 0))) ? s : m));
    return {
      from: w.from,
      to: w.to,
      firstSecond: w.firstSecond,
      lastSecond: w.lastSecond,
      worstP99Ms: worst,
      timeouts: all.reduce((n, s) => n + s.counters.timeouts, 0),
      errors: all.reduce((n, s) => n + s.counters.http5xx + s.counters.transportErrors, 0),
      causes: causesOf(w, all, ctx),
      spikeSeconds: all.filter(isSpike).length,
      peakSecond: peak.index,
      severity: worst !== null && baseline ? Number((worst / baseline).toFixed(2)) : null,
      requests: all.reduce((n, s) => n + s.counters.sent, 0),
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
    thresholdMs: spikeThreshold,
    spikes,
    period,
    measuredAt: 'client per-second p99 / timeouts / errors (load generator) against what the observer sampled on both nodes in the same seconds, the per-second Server-Timing figures and the generator\'s own health',
    version: 2,
    detection: {
      method: `level = median of ln(per-second client p99) over seconds without timeouts/errors, or their half-sample mode (ms) when it lies more than one noise sigma below the median (here: ${levelFrom ?? 'none'}); noise = MAD of first differences of ln(p99); spike second > level + ${k}·noise and > max(${factor}× level, level + ${floorMs} ms), or with timeouts/errors; episode = elevated seconds (> level + ${kLo}·noise) with gaps ≤ ${mergeGap} s bridged`,
      baselineP99Ms: baseline,
      noiseSigmaLog: level === null ? null : Number(sigma.toFixed(4)),
      spikeThresholdMs: spikeThreshold,
      elevatedThresholdMs: elevatedThreshold,
      measuredSeconds: measured.length,
    },
    periodicity: periodicityOf(spikes, timelines, flushes),
    ginFlushes: flushes,
    notMeasured: notMeasured(measured, samplers, options),
  };
}
