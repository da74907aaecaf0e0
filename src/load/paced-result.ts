/**
 * The result of a paced run, and its assembly from what the engine's parts recorded: the
 * recorder's window, the dispatcher's concurrency figures, the self-monitor's health and warnings,
 * and the measured window's bounds. Pure: no clock, no I/O.
 */
import * as ss from 'simple-statistics';
import type { ArrivalProcess } from './arrival-schedule.ts';
import type { EncodedHistogram } from './histogram.ts';
import type { EndpointRecord, ProbeSample, RecorderResult, RequestCounters, SecondRecord } from './latency-recorder.ts';
import type { ClientSummary, EngineWarning } from './self-monitor.ts';
import type { WorkloadStats } from './workload.ts';

export const PACED_LABEL = 'esbench paced (open model; latency from the intended send time)';

export interface PacedRunConfig {
  url: string;
  workload: string;
  rate: number;
  durationMs: number;
  warmupMs: number;
  arrival: ArrivalProcess;
  seed: number;
  timeoutMs: number;
  maxConcurrency: number;
  queueSize: number;
}

export interface ConcurrencyFigures {
  cap: number;
  queueSize: number;
  maxInFlight: number;
  capReached: boolean;
  /** Requests that found the cap full (queued or dropped). */
  capHits: number;
  maxQueued: number;
}

export interface PacedRunResult {
  engine: 'paced';
  label: string;
  /** Generator processes whose results were merged into this one (1 when absent). */
  workers?: number;
  /** True when stopped by the signal before the schedule ended. */
  partial: boolean;
  config: PacedRunConfig;
  /** Wall-clock times (epoch ms). measureEndedAt is when the schedule ended (before the drain). */
  startedAt: number;
  measureStartedAt: number | null;
  measureEndedAt: number | null;
  finishedAt: number;
  targetRate: number;
  /** Requests sent in the window / the window's actual length. */
  achievedRate: number | null;
  /** Responses completed in the window / the window's actual length. */
  completedRate: number | null;
  /** Requests sent per full measured second. */
  sentPerSecond: { mean: number; stddev: number; min: number; max: number; seconds: number } | null;
  concurrency: ConcurrencyFigures;
  counters: RequestCounters;
  latency: EncodedHistogram;
  scheduleLag: EncodedHistogram;
  byEndpoint: Record<string, EndpointRecord>;
  /** The service's calibration probe readings seen in the window (Server-Timing probe). */
  probes: ProbeSample[];
  seconds: SecondRecord[];
  client: ClientSummary;
  warnings: EngineWarning[];
  workloadStats: WorkloadStats;
}

/** The measured window on the engine's clock (performance.now ms), and how it maps to the wall clock. */
export interface WindowBounds {
  /** Clock reading of second 0's start (the window's intended start). */
  measureAt: number;
  /** When the window started and when the schedule ended; null when it never did. */
  startPerf: number | null;
  endPerf: number | null;
  /** When the drain ended. */
  finishedPerf: number;
  /** Requests sent in the window. */
  sent: number;
  toEpoch: (perfMs: number) => number;
}

export interface PacedResultParts {
  config: PacedRunConfig;
  partial: boolean;
  startedAt: number;
  window: WindowBounds;
  recorded: RecorderResult;
  concurrency: ConcurrencyFigures;
  client: ClientSummary;
  warnings: EngineWarning[];
  workloadStats: WorkloadStats;
}

export function assemblePacedResult(parts: PacedResultParts): PacedRunResult {
  const { config, window: w, recorded } = parts;
  const windowMs = w.startPerf !== null && w.endPerf !== null ? w.endPerf - w.startPerf : null;
  const start = w.startPerf;
  const end = w.endPerf;
  // Full seconds of the window (1 ms of slack for the float arithmetic of the bounds).
  const fullSeconds =
    start === null || end === null
      ? []
      : recorded.seconds.filter((s) => s.phase === 'measure' && w.measureAt + s.index * 1000 >= start - 1 && w.measureAt + (s.index + 1) * 1000 <= end + 1);
  const sentSeries = fullSeconds.map((s) => s.counters.sent);
  const perSecond = (n: number): number | null => (windowMs !== null && windowMs > 0 ? n / (windowMs / 1000) : null);
  return {
    engine: 'paced',
    label: PACED_LABEL,
    partial: parts.partial,
    config,
    startedAt: parts.startedAt,
    measureStartedAt: start === null ? null : w.toEpoch(start),
    measureEndedAt: end === null ? null : w.toEpoch(end),
    finishedAt: w.toEpoch(w.finishedPerf),
    targetRate: config.rate,
    achievedRate: perSecond(w.sent),
    completedRate: perSecond(recorded.counters.completed),
    sentPerSecond:
      sentSeries.length > 0
        ? { mean: ss.mean(sentSeries), stddev: ss.standardDeviation(sentSeries), min: ss.min(sentSeries), max: ss.max(sentSeries), seconds: sentSeries.length }
        : null,
    concurrency: parts.concurrency,
    counters: recorded.counters,
    latency: recorded.latency,
    scheduleLag: recorded.scheduleLag,
    byEndpoint: recorded.byEndpoint,
    probes: recorded.probes,
    seconds: recorded.seconds,
    client: parts.client,
    warnings: parts.warnings,
    workloadStats: parts.workloadStats,
  };
}
