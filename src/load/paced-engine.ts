/**
 * The paced open-model load engine (the default for fixed-rate runs): the schedule and the
 * measured window. Its parts, one concept each:
 *
 * - arrival-schedule.ts: when each request should leave (even spacing like the study's ticker, or
 *   Poisson with a seed), independent of responses, so a slow server cannot slow the offered load.
 * - request-dispatcher.ts: sends each request at its intended time through a capped pool, and
 *   measures latency from the intended time (no coordinated omission); queue, drops, timeouts.
 * - self-monitor.ts: the generator's own CPU, event-loop delay and schedule lag, and warnings when
 *   they could distort the figures.
 * - second-ticker.ts: the per-second clock that closes the recorder's seconds (shared with the
 *   autocannon engine).
 * - paced-result.ts: the result, assembled from what the parts recorded.
 *
 * An AbortSignal stops the scheduling; in-flight requests are drained (they end by their timeout
 * at the latest) and the result is marked partial.
 */
import { performance } from 'node:perf_hooks';
import { EsbenchError } from '../core/errors.ts';
import { createRng, randomSeed } from '../core/prng.ts';
import { createArrivalSchedule, takeShare, type ArrivalProcess, type ScheduleShare } from './arrival-schedule.ts';
import { LatencyRecorder, type Phase, type RequestCounters, type SecondRecord } from './latency-recorder.ts';
import { assemblePacedResult, type PacedRunResult } from './paced-result.ts';
import { RequestDispatcher } from './request-dispatcher.ts';
import { SecondTicker } from './second-ticker.ts';
import { DEFAULT_THRESHOLDS, SelfMonitor, type DistortionThresholds, type EngineWarning } from './self-monitor.ts';
import type { Workload } from './workload.ts';

export { PACED_LABEL, type PacedRunResult } from './paced-result.ts';
export { DEFAULT_THRESHOLDS, MIN_QUANTILE_SAMPLES, type DistortionThresholds, type EngineWarning, type WarningKind } from './self-monitor.ts';

/** The study's generator: 50 workers, a bounded queue of 100, overflow dropped. */
export const STUDY_CONCURRENCY = Object.freeze({ maxConcurrency: 50, queueSize: 100 });

export const DEFAULT_TIMEOUT_MS = 1000;

export interface LiveStatus {
  phase: Phase;
  inFlight: number;
  queued: number;
  /** Measured-window counters so far. */
  window: RequestCounters;
}

export interface PacedEngineOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080 */
  url: string;
  workload: Workload;
  /** Target requests per second. */
  rate: number;
  /** Length of the measured window, ms. */
  durationMs: number;
  /** Load before the measured window (same rate; not in the window's figures). Default 0. */
  warmupMs?: number;
  arrival?: ArrivalProcess;
  /** Seed of the arrival process and of the workload's draws; random (and reported) if omitted. */
  seed?: number;
  /** Client timeout, from the actual send. Default 1000 ms. */
  timeoutMs?: number;
  /**
   * Concurrency cap. Default: enough that the cap is never the limit while every request ends by
   * its timeout (rate × timeout × 1.25 + 8, at most 4096), so a stalled server shows up as
   * latency and timeouts, not as a lower sent rate. Set STUDY_CONCURRENCY to mimic the study.
   */
  maxConcurrency?: number;
  /** Requests that may wait for a free slot when the cap is reached; beyond it they are dropped. Default 0. */
  queueSize?: number;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  /** Called once per closed second, with the engine's live state. */
  onProgress?: (second: SecondRecord, live: LiveStatus) => void;
  /** Called the first time each kind of warning happens. */
  onWarning?: (warning: EngineWarning) => void;
  /**
   * Called when the measured window starts and when the schedule ends ('drain'), with the wall
   * clock: the runner snapshots pg_stat_statements / starts samplers there. Must not block.
   */
  onPhase?: (phase: Phase | 'drain', atEpochMs: number) => void;
  thresholds?: Partial<DistortionThresholds>;
  /** Keep the per-second series in the result (default true). */
  keepSeconds?: boolean;
  /**
   * This generator's part of a schedule shared by `of` generators (`--workers`, or generators on
   * several hosts): the full schedule runs at rate × of from `scheduleSeed`, and this one sends
   * arrivals index, index + of, ... (arrival-schedule.ts takeShare). `rate` is this one's share.
   */
  share?: ScheduleShare & { scheduleSeed: number };
  /**
   * The wall-clock instant (epoch ms) the schedule starts at: generators given the same instant
   * share one origin, one measured window and one second numbering (their clocks synchronised).
   * Default: now. An instant in the past is started at once, its overdue arrivals sent late.
   */
  startAtEpochMs?: number;
}

export function defaultConcurrencyCap(rate: number, timeoutMs: number): number {
  return Math.min(4096, Math.ceil(rate * (timeoutMs / 1000) * 1.25) + 8);
}

export async function runPaced(options: PacedEngineOptions): Promise<PacedRunResult> {
  const rate = options.rate;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new EsbenchError('BAD_FLAG', `rate must be a positive number (got ${rate})`);
  if (!(options.durationMs > 0)) throw new EsbenchError('BAD_FLAG', 'duration must be positive');
  const warmupMs = Math.max(0, options.warmupMs ?? 0);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cap = options.maxConcurrency ?? defaultConcurrencyCap(rate, timeoutMs);
  const queueSize = options.queueSize ?? 0;
  if (!Number.isInteger(cap) || cap < 1) throw new EsbenchError('BAD_FLAG', 'the concurrency cap must be a positive integer');
  if (!Number.isInteger(queueSize) || queueSize < 0) throw new EsbenchError('BAD_FLAG', 'the queue size must be a non-negative integer');
  const arrival = options.arrival ?? 'even';
  const seed = options.seed ?? randomSeed();
  const thresholds: DistortionThresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const workload = options.workload;

  const share = options.share;
  const schedule = share
    ? takeShare(createArrivalSchedule({ rate: rate * share.of, process: arrival, seed: share.scheduleSeed }), share)
    : createArrivalSchedule({ rate, process: arrival, seed });
  // A separate stream for the workload's draws, so the arrival times do not depend on the mix.
  const rng = createRng((seed ^ 0x5bd1e995) | 0);

  // The origin on this process's monotonic clock: now, or the instant the caller handed over.
  const nowEpochMs = Date.now();
  const originMs = performance.now() + (options.startAtEpochMs === undefined ? 0 : options.startAtEpochMs - nowEpochMs);
  const originEpochMs = options.startAtEpochMs ?? nowEpochMs;
  const toEpoch = (perfMs: number): number => originEpochMs + (perfMs - originMs);
  const measureAt = originMs + warmupMs;
  const endAt = measureAt + options.durationMs;
  // Seconds are counted from the start of the measured window (warm-up seconds are negative), so
  // the series lines up with the window and with the database samplers started at that moment.
  const recorder = new LatencyRecorder({
    originMs: measureAt,
    originEpochMs: toEpoch(measureAt),
    firstIndex: -Math.ceil(warmupMs / 1000),
    phase: warmupMs > 0 ? 'warmup' : 'measure',
    keepSeconds: options.keepSeconds ?? true,
  });

  // The measured window: when it started, when the schedule ended, and what was sent in it.
  let measuring = warmupMs === 0;
  let measureStartPerf: number | null = measuring ? originMs : null;
  let scheduleEndPerf: number | null = null;
  let sentInWindow = 0;
  let lastWindowSendPerf: number | null = null;
  let partial = false;
  let schedulingDone = false;
  let nextAt = originMs + schedule.next();
  let tickTimer: NodeJS.Timeout | undefined;
  let resolveDrained: (() => void) | undefined;
  const drained = new Promise<void>((resolve) => (resolveDrained = resolve));
  const maybeDrained = (): void => {
    if (schedulingDone && dispatcher.idle) resolveDrained?.();
  };

  const monitor = new SelfMonitor({ thresholds, cap, queueSize, onWarning: options.onWarning });
  const dispatcher = new RequestDispatcher({
    url: options.url,
    cap,
    queueSize,
    timeoutMs,
    headers: options.headers,
    recorder,
    workload,
    onSent: (sentAt) => {
      if (measuring && scheduleEndPerf === null) {
        sentInWindow += 1;
        lastWindowSendPerf = sentAt;
      }
    },
    onIdle: maybeDrained,
  });

  const startMeasuring = (now: number): void => {
    measuring = true;
    // The window starts at its intended time (the first measured slot is due then); a late timer
    // shows up as schedule lag, not as a shorter window.
    measureStartPerf = measureAt;
    monitor.startWindow();
    recorder.setPhase('measure');
    options.onPhase?.('measure', toEpoch(Math.max(now, measureAt)));
  };

  const endScheduling = (now: number, aborted: boolean): void => {
    if (schedulingDone) return;
    schedulingDone = true;
    partial = aborted;
    if (tickTimer) clearTimeout(tickTimer);
    tickTimer = undefined;
    // The window ends when it was meant to, or when its last request actually left if that was
    // later (a late generator lowers the achieved rate). Not when this timer happened to fire: a
    // stall after every request was sent on time is not a lower rate.
    if (measuring) scheduleEndPerf = aborted ? now : Math.max(endAt, lastWindowSendPerf ?? endAt);
    monitor.endWindow();
    // Queued requests were never sent: cancelled, not dropped (nothing was full, we stopped).
    if (aborted) dispatcher.cancelQueued(now);
    options.onPhase?.('drain', toEpoch(now));
    maybeDrained();
  };

  const tick = (): void => {
    tickTimer = undefined;
    if (schedulingDone) return;
    const now = performance.now();
    for (;;) {
      if (nextAt >= endAt) {
        if (now >= endAt) {
          // A window no arrival fell into (a rate below one per window) still opened and closed.
          if (!measuring) startMeasuring(now);
          return endScheduling(now, false);
        }
        break;
      }
      if (nextAt > now) break;
      if (!measuring && nextAt >= measureAt) startMeasuring(now);
      dispatcher.dispatch(workload.next(rng), nextAt);
      nextAt = originMs + schedule.next();
    }
    // Opened only now: warm-up arrivals a late timer found overdue went out above, still in the
    // warm-up. Opening the window first counted them in it (2 workers at 1,000/s counted 1,020).
    if (!measuring && now >= measureAt) startMeasuring(now);
    const wakeAt = Math.min(nextAt, endAt, measuring ? Number.POSITIVE_INFINITY : measureAt);
    tickTimer = setTimeout(tick, Math.max(0, wakeAt - performance.now()));
  };

  /** Fills in and judges the generator's health of each closed second, then reports it. */
  const closeSeconds = (closed: readonly SecondRecord[]): void => {
    for (const record of closed) {
      // Warnings come from the measured window only: not from warm-up, and not from the seconds
      // after the schedule ended (draining, then encoding the results: finalisation, not load).
      const secondStart = measureAt + record.index * 1000;
      const inWindow = record.phase === 'measure' && (scheduleEndPerf === null || secondStart + 1000 <= scheduleEndPerf + 1);
      monitor.observeSecond(record, { maxInFlight: dispatcher.takeSecondMaxInFlight(), queued: dispatcher.queued }, inWindow);
    }
    if (options.onProgress) {
      const live: LiveStatus = { phase: recorder.currentPhase, inFlight: dispatcher.inFlight, queued: dispatcher.queued, window: recorder.windowCounters() };
      for (const record of closed) options.onProgress(record, live);
    }
  };
  const ticker = new SecondTicker({ originMs: measureAt, onTick: (now) => closeSeconds(recorder.roll(now)) });

  const onAbort = (): void => endScheduling(performance.now(), true);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  if (measuring) options.onPhase?.('measure', originEpochMs);
  if (!schedulingDone) tick();
  ticker.start();
  try {
    await drained;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (tickTimer) clearTimeout(tickTimer);
    ticker.stop();
    monitor.close();
    await dispatcher.close();
  }

  const finishedPerf = performance.now();
  // The last (partial) seconds: close them so the series is complete.
  closeSeconds(recorder.roll(finishedPerf + 1000));
  const recorded = recorder.finish();
  const health = monitor.finish(recorded.scheduleLag, dispatcher.maxQueued, recorded.seconds);
  return assemblePacedResult({
    config: { url: options.url, workload: workload.spec.name, rate, durationMs: options.durationMs, warmupMs, arrival, seed, timeoutMs, maxConcurrency: cap, queueSize },
    partial,
    startedAt: originEpochMs,
    window: { measureAt, startPerf: measureStartPerf, endPerf: scheduleEndPerf, finishedPerf, sent: sentInWindow, toEpoch },
    recorded,
    concurrency: { cap, queueSize, maxInFlight: dispatcher.maxInFlight, capReached: dispatcher.capReached, capHits: dispatcher.capHits, maxQueued: dispatcher.maxQueued },
    client: health.client,
    warnings: health.warnings,
    workloadStats: workload.stats(),
  });
}
