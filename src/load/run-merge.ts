/**
 * Merging the results of several paced generators that drove the same service over the same
 * window: the `--workers N` processes of one host, or generators on several hosts.
 *
 * Lossless where it matters: every latency figure is an HdrHistogram (encoded in the result), and
 * merging histograms is exact to their precision (3 significant digits); counts, sums and sums of
 * squares add, so means and standard deviations stay exact. Seconds are merged by their index
 * (seconds since the start of the measured window), which lines up when the generators started
 * their windows at the same wall-clock time: paced-workers.ts hands every worker one absolute start
 * instant and its share of one schedule (runPaced's `startAtEpochMs` and `share`); generators on
 * several hosts do the same with synchronised clocks (NTP/chrony), see the README.
 *
 * Figures that are not additive are labelled: the concurrency maximum is the sum of each
 * generator's maximum (an upper bound: they need not coincide), the CPU is the sum of the
 * generators' cores.
 */
import type { EncodedHistogram, LatencySummary } from './histogram.ts';
import { mergeHistograms } from './histogram.ts';
import { addCounters, emptyCounters, type ClientHealth, type EndpointRecord, type ProbeSample, type SecondRecord } from './latency-recorder.ts';
import type { EngineWarning, PacedRunResult } from './paced-engine.ts';
import * as ss from 'simple-statistics';

const merge = (parts: ReadonlyArray<EncodedHistogram | undefined>): EncodedHistogram =>
  mergeHistograms(parts.filter((p): p is EncodedHistogram => p !== undefined)).toJSON();

function mergeEndpoint(parts: readonly EndpointRecord[]): EndpointRecord {
  const counters = emptyCounters();
  for (const p of parts) addCounters(counters, p.counters);
  const calls: Record<string, number> = {};
  let responses = 0;
  for (const p of parts) {
    responses += p.statementCalls?.responses ?? 0;
    for (const [k, n] of Object.entries(p.statementCalls?.calls ?? {})) calls[k] = (calls[k] ?? 0) + n;
  }
  const drivers = parts.map((p) => p.driver).filter((d): d is NonNullable<EndpointRecord['driver']> => d !== undefined);
  return {
    counters,
    latency: merge(parts.map((p) => p.latency)),
    scheduleLag: merge(parts.map((p) => p.scheduleLag)),
    server: {
      total: merge(parts.map((p) => p.server.total)),
      pool: merge(parts.map((p) => p.server.pool)),
      db: merge(parts.map((p) => p.server.db)),
      app: merge(parts.map((p) => p.server.app)),
    },
    serverTimingMissing: ss.sum(parts.map((p) => p.serverTimingMissing)),
    transport: merge(parts.map((p) => p.transport)),
    appDerived: merge(parts.map((p) => p.appDerived)),
    negativeTransport: ss.sum(parts.map((p) => p.negativeTransport)),
    statementCalls: { responses, calls },
    ...(drivers.length > 0
      ? {
          driver: {
            responses: ss.sum(drivers.map((d) => d.responses)),
            decode: merge(drivers.map((d) => d.decode)),
            roundTrips: ss.sum(drivers.map((d) => d.roundTrips)),
            rows: ss.sum(drivers.map((d) => d.rows)),
            bytes: ss.sum(drivers.map((d) => d.bytes)),
          },
        }
      : {}),
  };
}

function mergeByKey<T>(parts: ReadonlyArray<Readonly<Record<string, T>>>, fn: (xs: T[]) => T): Record<string, T> {
  const keys = new Set(parts.flatMap((p) => Object.keys(p)));
  const out: Record<string, T> = {};
  for (const k of [...keys].sort()) out[k] = fn(parts.map((p) => p[k]).filter((x): x is T => x !== undefined));
  return out;
}

function mergeClient(parts: ReadonlyArray<ClientHealth | null>): ClientHealth | null {
  const cs = parts.filter((c): c is ClientHealth => c !== null);
  if (cs.length === 0) return null;
  const worst = (xs: Array<number | null>): number | null => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length > 0 ? ss.max(v) : null;
  };
  return {
    // Cores used by all generator processes together.
    cpu: ss.sum(cs.map((c) => c.cpu)),
    eventLoopDelayP99Ms: worst(cs.map((c) => c.eventLoopDelayP99Ms)),
    eventLoopDelayMaxMs: worst(cs.map((c) => c.eventLoopDelayMaxMs)),
    // The least-sampled loop decides whether its p99 may warn.
    eventLoopDelaySamples: ss.min(cs.map((c) => c.eventLoopDelaySamples ?? 0)),
    maxInFlight: ss.sum(cs.map((c) => c.maxInFlight)),
    queued: ss.sum(cs.map((c) => c.queued)),
  };
}

/** Seconds with the same index, merged; the series stays ordered and continuous. */
export function mergeSeconds(parts: ReadonlyArray<readonly SecondRecord[]>): SecondRecord[] {
  const byIndex = new Map<number, SecondRecord[]>();
  for (const series of parts) {
    for (const s of series) {
      const list = byIndex.get(s.index) ?? [];
      list.push(s);
      byIndex.set(s.index, list);
    }
  }
  return [...byIndex.keys()].sort((a, b) => a - b).map((index) => mergeSecond(byIndex.get(index)!));
}

export function mergeSecond(same: readonly SecondRecord[]): SecondRecord {
  const counters = emptyCounters();
  for (const s of same) addCounters(counters, s.counters);
  const first = same[0]!;
  return {
    index: first.index,
    startedAt: ss.min(same.map((s) => s.startedAt)),
    phase: first.phase,
    counters,
    byEndpoint: mergeByKey(
      same.map((s) => s.byEndpoint),
      (cs) => cs.reduce((acc, c) => addCounters(acc, c), emptyCounters()),
    ),
    latency: merge(same.map((s) => s.latency)),
    latencyByEndpoint: mergeByKey(
      same.map((s) => s.latencyByEndpoint),
      (hs) => merge(hs),
    ),
    // Seconds recorded without their histogram (older results) cannot merge their lag: dropped.
    scheduleLag: merge(same.map((s) => ('hdr' in s.scheduleLag ? s.scheduleLag : undefined))),
    client: mergeClient(same.map((s) => s.client)),
    ...mergeSecondServer(same),
  };
}

/** The per-second Server-Timing histograms of the workers (only those saved with their histogram merge). */
function mergeSecondServer(same: readonly SecondRecord[]): Pick<SecondRecord, 'server'> {
  const encoded = (h: LatencySummary | EncodedHistogram | undefined) => (h && 'hdr' in h ? h : undefined);
  const withServer = same.filter((s) => s.server !== undefined);
  if (withServer.length === 0) return {};
  return {
    server: {
      total: merge(withServer.map((s) => encoded(s.server?.total))),
      pool: merge(withServer.map((s) => encoded(s.server?.pool))),
    },
  };
}

function mergeWarnings(parts: ReadonlyArray<readonly EngineWarning[]>): EngineWarning[] {
  const byKind = new Map<string, EngineWarning>();
  for (const list of parts) {
    for (const w of list) {
      const e = byKind.get(w.kind);
      if (!e) byKind.set(w.kind, { ...w });
      else {
        e.seconds += w.seconds;
        e.worst = Math.max(e.worst, w.worst);
        e.firstSecond = Math.min(e.firstSecond, w.firstSecond);
      }
    }
  }
  return [...byKind.values()];
}

const sumOrNull = (xs: ReadonlyArray<number | null>): number | null => (xs.some((x) => x === null) ? null : ss.sum(xs as number[]));
const minOrNull = (xs: ReadonlyArray<number | null>): number | null => (xs.some((x) => x === null) ? null : ss.min(xs as number[]));
const maxOrNull = (xs: ReadonlyArray<number | null>): number | null => (xs.some((x) => x === null) ? null : ss.max(xs as number[]));

/**
 * A rate over the merged window: each generator's count (its rate × its own window) over the
 * window from the first generator's start to the last one's end. Generators that shared one start
 * instant (paced-workers.ts, or `startAtEpochMs` on several hosts) have the same start; their ends
 * differ only by how late each sent its last request.
 */
function mergedRate(parts: readonly PacedRunResult[], rate: (p: PacedRunResult) => number | null): number | null {
  let count = 0;
  for (const p of parts) {
    const r = rate(p);
    if (r === null || p.measureStartedAt === null || p.measureEndedAt === null) return null;
    count += (r * (p.measureEndedAt - p.measureStartedAt)) / 1000;
  }
  const start = ss.min(parts.map((p) => p.measureStartedAt!));
  const end = ss.max(parts.map((p) => p.measureEndedAt!));
  return end > start ? count / ((end - start) / 1000) : null;
}

/** One result from the results of generators that shared the load (each with its share of the rate). */
export function mergePacedResults(parts: readonly PacedRunResult[]): PacedRunResult {
  if (parts.length === 0) throw new RangeError('nothing to merge');
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const counters = emptyCounters();
  for (const p of parts) addCounters(counters, p.counters);
  const seconds = mergeSeconds(parts.map((p) => p.seconds));
  const durationS = Math.floor(first.config.durationMs / 1000);
  const full = seconds.filter((s) => s.phase === 'measure' && s.index >= 0 && s.index < durationS).map((s) => s.counters.sent);
  const probes = new Map<number, ProbeSample>();
  for (const p of parts) for (const x of p.probes ?? []) probes.set(x.seq, x);
  const cpuMeans = parts.map((p) => p.client.cpuMean);
  const workers = ss.sum(parts.map((p) => p.workers ?? 1));
  return {
    engine: 'paced',
    label: `${first.label}, ${workers} generator processes merged`,
    workers,
    partial: parts.some((p) => p.partial),
    config: {
      ...first.config,
      rate: ss.sum(parts.map((p) => p.config.rate)),
      maxConcurrency: ss.sum(parts.map((p) => p.config.maxConcurrency)),
      queueSize: ss.sum(parts.map((p) => p.config.queueSize)),
    },
    startedAt: ss.min(parts.map((p) => p.startedAt)),
    measureStartedAt: minOrNull(parts.map((p) => p.measureStartedAt)),
    measureEndedAt: maxOrNull(parts.map((p) => p.measureEndedAt)),
    finishedAt: ss.max(parts.map((p) => p.finishedAt)),
    targetRate: ss.sum(parts.map((p) => p.targetRate)),
    // Over the one merged window: from the first start to the last end.
    achievedRate: mergedRate(parts, (p) => p.achievedRate),
    completedRate: mergedRate(parts, (p) => p.completedRate),
    sentPerSecond:
      full.length > 0 ? { mean: ss.mean(full), stddev: ss.standardDeviation(full), min: ss.min(full), max: ss.max(full), seconds: full.length } : null,
    concurrency: {
      cap: ss.sum(parts.map((p) => p.concurrency.cap)),
      queueSize: ss.sum(parts.map((p) => p.concurrency.queueSize)),
      // Sum of each generator's maximum: an upper bound of the merged maximum.
      maxInFlight: ss.sum(parts.map((p) => p.concurrency.maxInFlight)),
      capReached: parts.some((p) => p.concurrency.capReached),
      capHits: ss.sum(parts.map((p) => p.concurrency.capHits)),
      maxQueued: ss.sum(parts.map((p) => p.concurrency.maxQueued)),
    },
    counters,
    latency: merge(parts.map((p) => p.latency)),
    scheduleLag: merge(parts.map((p) => p.scheduleLag)),
    byEndpoint: mergeByKey(
      parts.map((p) => p.byEndpoint),
      mergeEndpoint,
    ),
    probes: [...probes.values()].sort((a, b) => a.seq - b.seq),
    seconds,
    client: {
      cpuMean: cpuMeans.every((c) => c !== null) ? ss.sum(cpuMeans as number[]) : null,
      cpuMax: sumOrNull(parts.map((p) => p.client.cpuMax)),
      eventLoopDelayP99Ms: maxOrNull(parts.map((p) => p.client.eventLoopDelayP99Ms)),
      eventLoopDelayMaxMs: maxOrNull(parts.map((p) => p.client.eventLoopDelayMaxMs)),
      eventLoopDelayWindowP99Ms: maxOrNull(parts.map((p) => p.client.eventLoopDelayWindowP99Ms ?? null)),
    },
    warnings: mergeWarnings(parts.map((p) => p.warnings)),
    workloadStats: {
      planned: mergeByKey(
        parts.map((p) => p.workloadStats.planned),
        (xs) => ss.sum(xs),
      ),
      // Each worker models the library on its own; the first one's view is kept as an example.
      model: first.workloadStats.model,
    },
  };
}
