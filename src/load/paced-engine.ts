/**
 * The paced open-model load engine (the default for fixed-rate runs).
 *
 * - Requests are scheduled at the target rate independently of responses (even spacing like the
 *   study's ticker, or Poisson with a seed), so a slow server cannot slow the offered load down.
 * - Latency is measured from the INTENDED send time, not from when the request actually left: time
 *   a request spent waiting for the generator (a late timer, a full concurrency cap) is latency the
 *   user would have seen. Measuring from the actual send is coordinated omission.
 * - Concurrency grows as needed up to a cap. When the cap is reached, requests wait in a bounded
 *   FIFO queue; when that is full they are dropped and counted (the study's generator: 50 workers,
 *   a queue of 100, overflow counted as "backpressure" — see STUDY_CONCURRENCY).
 * - A client timeout (default 1 s, as in the study), counted from the actual send, counts a timeout.
 * - The engine watches itself: event-loop delay and CPU of this process, and the lateness of its own
 *   sends, and warns when they could distort the figures.
 * - An AbortSignal stops the scheduling; in-flight requests are drained (they end by their timeout
 *   at the latest) and the result is marked partial.
 *
 * HTTP goes through one undici Pool with keep-alive and no pipelining (one request per connection
 * at a time, like a browser or pgx-backed Go client), sized to the cap so undici never queues a
 * request behind our back.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as ss from 'simple-statistics';
import { Pool } from 'undici';
import { EsbenchError } from '../core/errors.ts';
import { createArrivalSchedule, type ArrivalProcess } from './arrival-schedule.ts';
import type { EncodedHistogram } from './histogram.ts';
import { LatencyRecorder, type EndpointRecord, type ProbeSample, type Phase, type RequestCounters, type SecondRecord } from './latency-recorder.ts';
import { createRng, randomSeed } from '../core/prng.ts';
import { serviceTiming } from './server-timing.ts';
import { serviceError, type PlannedRequest, type ServiceErrorBody, type Workload, type WorkloadStats } from './workload.ts';

/** The study's generator: 50 workers, a bounded queue of 100, overflow dropped. */
export const STUDY_CONCURRENCY = Object.freeze({ maxConcurrency: 50, queueSize: 100 });

export const DEFAULT_TIMEOUT_MS = 1000;

export interface DistortionThresholds {
  /** CPU of this process per second, as a fraction of one core (the JS thread is one core). */
  cpu: number;
  /** Event-loop delay p99 within a second, ms. */
  eventLoopDelayP99Ms: number;
  /** Actual send − intended send, p99 within a second, ms (excluding queue waits at the cap). */
  scheduleLagP99Ms: number;
}

export const DEFAULT_THRESHOLDS: Readonly<DistortionThresholds> = Object.freeze({ cpu: 0.8, eventLoopDelayP99Ms: 10, scheduleLagP99Ms: 5 });

/**
 * Samples a p99 needs behind it before it may raise a warning. A second of 15 requests has a "p99"
 * that is its maximum: one late request. Below this, the whole window's histogram is used instead.
 */
export const MIN_QUANTILE_SAMPLES = 100;

export type WarningKind = 'cpu' | 'event-loop-delay' | 'schedule-lag' | 'concurrency-cap';

export interface EngineWarning {
  kind: WarningKind;
  message: string;
  /** First second (index) it happened in. */
  firstSecond: number;
  /** How many seconds it happened in. */
  seconds: number;
  /** Worst value seen, and the threshold (same unit: fraction of a core, ms, or requests). */
  worst: number;
  threshold: number;
}

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
   * Shifts every intended send by this much (ms). Worker k of N runs rate/N shifted by k/rate, so
   * the N even schedules interleave into one even schedule at the full rate (paced-workers.ts).
   */
  scheduleOffsetMs?: number;
}

export interface PacedRunResult {
  engine: 'paced';
  label: string;
  /** Generator processes whose results were merged into this one (1 when absent). */
  workers?: number;
  /** True when stopped by the signal before the schedule ended. */
  partial: boolean;
  config: {
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
  };
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
  concurrency: {
    cap: number;
    queueSize: number;
    maxInFlight: number;
    capReached: boolean;
    /** Requests that found the cap full (queued or dropped). */
    capHits: number;
    maxQueued: number;
  };
  counters: RequestCounters;
  latency: EncodedHistogram;
  scheduleLag: EncodedHistogram;
  byEndpoint: Record<string, EndpointRecord>;
  /** The service's calibration probe readings seen in the window (Server-Timing probe). */
  probes: ProbeSample[];
  seconds: SecondRecord[];
  client: {
    cpuMean: number | null;
    cpuMax: number | null;
    /** Worst per-second p99 (whatever its sample count) and max. */
    eventLoopDelayP99Ms: number | null;
    eventLoopDelayMaxMs: number | null;
    /** p99 over the measured window, when it had MIN_QUANTILE_SAMPLES samples. */
    eventLoopDelayWindowP99Ms?: number | null;
  };
  warnings: EngineWarning[];
  workloadStats: WorkloadStats;
}

export const PACED_LABEL = 'esbench paced (open model; latency from the intended send time)';

const ELD_RESOLUTION_MS = 10;

interface Waiting {
  req: PlannedRequest;
  intendedAt: number;
}

function transportCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown } | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.name === 'string') return e.name;
  return 'ERROR';
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
  const base = new URL(options.url);
  const basePath = base.pathname.replace(/\/+$/, '');
  const workload = options.workload;

  const schedule = createArrivalSchedule({ rate, process: arrival, seed });
  // A separate stream for the workload's draws, so the arrival times do not depend on the mix.
  const rng = createRng((seed ^ 0x5bd1e995) | 0);
  const pool = new Pool(base.origin, { connections: cap, pipelining: 1, keepAliveTimeout: 30_000 });
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  // The measured window's event-loop delay, for a p99 with enough samples behind it.
  const eldWindow = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });

  const originMs = performance.now();
  const originEpochMs = Date.now();
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

  let inFlight = 0;
  let maxInFlight = 0;
  let secondMaxInFlight = 0;
  let capReached = false;
  let capHits = 0;
  let maxQueued = 0;
  const queue: Waiting[] = [];
  let measuring = warmupMs === 0;
  let measureStartPerf: number | null = measuring ? originMs : null;
  let scheduleEndPerf: number | null = null;
  let sentInWindow = 0;
  let lastWindowSendPerf: number | null = null;
  let partial = false;
  let schedulingDone = false;
  const offsetMs = Math.max(0, options.scheduleOffsetMs ?? 0);
  let nextAt = originMs + offsetMs + schedule.next();
  let tickTimer: NodeJS.Timeout | undefined;
  let rollTimer: NodeJS.Timeout | undefined;
  let resolveDrained: (() => void) | undefined;
  const drained = new Promise<void>((resolve) => (resolveDrained = resolve));

  // Self-observation.
  let cpuMark = process.cpuUsage();
  let cpuMarkAt = performance.now();
  const cpuSeries: number[] = [];
  const warnings = new Map<WarningKind, EngineWarning>();
  const warn = (kind: WarningKind, second: number, value: number, threshold: number, message: string): void => {
    const existing = warnings.get(kind);
    if (existing) {
      existing.seconds += 1;
      existing.worst = Math.max(existing.worst, value);
      return;
    }
    const w: EngineWarning = { kind, message, firstSecond: second, seconds: 1, worst: value, threshold };
    warnings.set(kind, w);
    options.onWarning?.(w);
  };

  const headersFor = (req: PlannedRequest): Record<string, string> =>
    req.body === undefined ? { ...options.headers } : { 'content-type': 'application/json', ...options.headers };

  const maybeDrained = (): void => {
    if (schedulingDone && inFlight === 0 && queue.length === 0) resolveDrained?.();
  };

  const pump = (): void => {
    while (queue.length > 0 && inFlight < cap) {
      const w = queue.shift()!;
      send(w.req, w.intendedAt);
    }
    maybeDrained();
  };

  const send = (req: PlannedRequest, intendedAt: number): void => {
    inFlight += 1;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    if (inFlight > secondMaxInFlight) secondMaxInFlight = inFlight;
    const sentAt = performance.now();
    recorder.sent(req.endpoint, sentAt, sentAt - intendedAt);
    if (measuring && scheduleEndPerf === null) {
      sentInWindow += 1;
      lastWindowSendPerf = sentAt;
    }
    const controller = new AbortController();
    let timedOut = false;
    // Per-request timers are cheap: Node keeps timers of equal duration in one list (O(1) insert).
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    pool
      .request({ path: basePath + req.path, method: req.method, headers: headersFor(req), body: req.body ?? null, signal: controller.signal })
      .then(async (res) => {
        let error: ServiceErrorBody | undefined;
        // Read the whole body: the user's latency ends when the response is complete.
        if (res.statusCode >= 200 && res.statusCode < 300) await res.body.dump({ limit: 64 * 1024 * 1024 });
        else error = serviceError(await res.body.text());
        const doneAt = performance.now();
        clearTimeout(timer);
        recorder.completed(req.endpoint, doneAt, {
          status: res.statusCode,
          latencyMs: doneAt - intendedAt,
          timing: serviceTiming(res.headers['server-timing']),
          errorCode: error?.code,
        });
        workload.complete(req, { kind: 'response', status: res.statusCode, error });
      })
      .catch((error: unknown) => {
        clearTimeout(timer);
        const at = performance.now();
        if (timedOut) {
          recorder.timeout(req.endpoint, at);
          workload.complete(req, { kind: 'timeout' });
        } else {
          recorder.transportError(req.endpoint, at, transportCode(error));
          workload.complete(req, { kind: 'transport-error' });
        }
      })
      .finally(() => {
        inFlight -= 1;
        pump();
      });
  };

  const fire = (intendedAt: number): void => {
    const req = workload.next(rng);
    if (inFlight < cap) {
      send(req, intendedAt);
      return;
    }
    capHits += 1;
    if (!capReached) capReached = true;
    if (queue.length < queueSize) {
      queue.push({ req, intendedAt });
      if (queue.length > maxQueued) maxQueued = queue.length;
      return;
    }
    recorder.dropped(req.endpoint, performance.now());
    workload.complete(req, { kind: 'dropped' });
  };

  const startMeasuring = (now: number): void => {
    measuring = true;
    // The window starts at its intended time (the first measured slot is due then); a late timer
    // shows up as schedule lag, not as a shorter window.
    measureStartPerf = measureAt;
    eldWindow.enable();
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
    eldWindow.disable();
    if (aborted) {
      // Queued requests were never sent: cancelled, not dropped (nothing was full, we stopped).
      for (const w of queue.splice(0)) {
        recorder.cancelled(w.req.endpoint, now);
        workload.complete(w.req, { kind: 'cancelled' });
      }
    }
    options.onPhase?.('drain', toEpoch(now));
    maybeDrained();
  };

  const tick = (): void => {
    tickTimer = undefined;
    if (schedulingDone) return;
    const now = performance.now();
    if (!measuring && now >= measureAt) startMeasuring(now);
    for (;;) {
      if (nextAt >= endAt) {
        if (now >= endAt) return endScheduling(now, false);
        break;
      }
      if (nextAt > now) break;
      if (!measuring && nextAt >= measureAt) startMeasuring(now);
      fire(nextAt);
      nextAt = originMs + offsetMs + schedule.next();
    }
    const wakeAt = Math.min(nextAt, endAt, measuring ? Number.POSITIVE_INFINITY : measureAt);
    tickTimer = setTimeout(tick, Math.max(0, wakeAt - performance.now()));
  };

  const observeSecond = (record: SecondRecord): void => {
    const now = performance.now();
    const usage = process.cpuUsage(cpuMark);
    const cpu = (usage.user + usage.system) / 1000 / Math.max(1, now - cpuMarkAt);
    cpuMark = process.cpuUsage();
    cpuMarkAt = now;
    // monitorEventLoopDelay records whole timer intervals; the delay is the part beyond the resolution.
    const eldP99 = eld.count > 0 ? Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS) : null;
    const eldMax = eld.count > 0 ? Math.max(0, eld.max / 1e6 - ELD_RESOLUTION_MS) : null;
    const eldSamples = eld.count;
    eld.reset();
    record.client = { cpu, eventLoopDelayP99Ms: eldP99, eventLoopDelayMaxMs: eldMax, eventLoopDelaySamples: eldSamples, maxInFlight: secondMaxInFlight, queued: queue.length };
    secondMaxInFlight = inFlight;
    // Warnings come from the measured window only: not from warm-up, and not from the seconds
    // after the schedule ended (draining, then encoding the results: finalisation, not load).
    const secondStart = measureAt + record.index * 1000;
    const inWindow = record.phase === 'measure' && (scheduleEndPerf === null || secondStart + 1000 <= scheduleEndPerf + 1);
    if (!inWindow) return;
    cpuSeries.push(cpu);
    if (cpu > thresholds.cpu) {
      warn('cpu', record.index, cpu, thresholds.cpu, `the load generator used ${(cpu * 100).toFixed(0)}% of a core in a second: its own timing may be distorted (run it on another machine or lower the rate)`);
    }
    if (eldP99 !== null && eldSamples >= MIN_QUANTILE_SAMPLES && eldP99 > thresholds.eventLoopDelayP99Ms) {
      warn('event-loop-delay', record.index, eldP99, thresholds.eventLoopDelayP99Ms, `the generator's event loop was delayed by ${eldP99.toFixed(1)} ms (p99): latencies include that delay`);
    }
    const lagP99 = record.scheduleLag.p99;
    if (lagP99 !== null && record.scheduleLag.count >= MIN_QUANTILE_SAMPLES && lagP99 > thresholds.scheduleLagP99Ms && record.client.queued === 0) {
      warn('schedule-lag', record.index, lagP99, thresholds.scheduleLagP99Ms, `requests left ${lagP99.toFixed(1)} ms (p99) after their intended time: the generator could not keep the pace`);
    }
    if (record.counters.dropped > 0 || record.client.maxInFlight >= cap) {
      warn('concurrency-cap', record.index, record.client.maxInFlight, cap, `the concurrency cap (${cap}) was reached: ${queueSize > 0 ? 'requests queued, and dropped when the queue was full' : 'requests were dropped'}`);
    }
  };

  const roll = (): void => {
    rollTimer = undefined;
    const now = performance.now();
    const closed = recorder.roll(now);
    closed.forEach(observeSecond);
    if (options.onProgress) {
      const live: LiveStatus = { phase: recorder.currentPhase, inFlight, queued: queue.length, window: recorder.windowCounters() };
      for (const record of closed) options.onProgress(record, live);
    }
    // Wake just after the next second boundary.
    const nextBoundary = measureAt + (Math.floor((now - measureAt) / 1000) + 1) * 1000 + 1;
    rollTimer = setTimeout(roll, Math.max(0, nextBoundary - performance.now()));
  };

  const onAbort = (): void => endScheduling(performance.now(), true);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  if (measuring) options.onPhase?.('measure', originEpochMs);
  if (!schedulingDone) tick();
  roll();
  try {
    await drained;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (tickTimer) clearTimeout(tickTimer);
    if (rollTimer) clearTimeout(rollTimer);
    eld.disable();
    await pool.close();
  }

  const finishedPerf = performance.now();
  // The last (partial) seconds: close them so the series is complete.
  const lastClosed = recorder.roll(finishedPerf + 1000);
  lastClosed.forEach(observeSecond);
  if (options.onProgress) {
    const live: LiveStatus = { phase: recorder.currentPhase, inFlight, queued: queue.length, window: recorder.windowCounters() };
    for (const record of lastClosed) options.onProgress(record, live);
  }
  const recorded = recorder.finish();
  // Seconds too sparse for their own p99: the whole window's, when it has enough samples.
  const windowLag = recorded.scheduleLag;
  if (!warnings.has('schedule-lag') && windowLag.count >= MIN_QUANTILE_SAMPLES && windowLag.p99 !== null && windowLag.p99 > thresholds.scheduleLagP99Ms && maxQueued === 0) {
    warn('schedule-lag', 0, windowLag.p99, thresholds.scheduleLagP99Ms, `requests left ${windowLag.p99.toFixed(1)} ms (p99 of the window's ${windowLag.count}) after their intended time: the generator could not keep the pace`);
  }
  const eldWindowP99 = eldWindow.count >= MIN_QUANTILE_SAMPLES ? Math.max(0, eldWindow.percentile(99) / 1e6 - ELD_RESOLUTION_MS) : null;
  eldWindow.disable();
  if (!warnings.has('event-loop-delay') && eldWindowP99 !== null && eldWindowP99 > thresholds.eventLoopDelayP99Ms) {
    warn('event-loop-delay', 0, eldWindowP99, thresholds.eventLoopDelayP99Ms, `the generator's event loop was delayed by ${eldWindowP99.toFixed(1)} ms (p99 of the window): latencies include that delay`);
  }

  const windowMs = measureStartPerf !== null && scheduleEndPerf !== null ? scheduleEndPerf - measureStartPerf : null;
  const fullSeconds = recorded.seconds.filter(
    (s) => s.phase === 'measure' && measureStartPerf !== null && scheduleEndPerf !== null &&
      measureAt + s.index * 1000 >= measureStartPerf - 1 && measureAt + (s.index + 1) * 1000 <= scheduleEndPerf + 1,
  );
  const sentSeries = fullSeconds.map((s) => s.counters.sent);
  const eldP99s = recorded.seconds.map((s) => s.client?.eventLoopDelayP99Ms).filter((v): v is number => typeof v === 'number');
  const eldMaxes = recorded.seconds.map((s) => s.client?.eventLoopDelayMaxMs).filter((v): v is number => typeof v === 'number');

  return {
    engine: 'paced',
    label: PACED_LABEL,
    partial,
    config: { url: options.url, workload: workload.spec.name, rate, durationMs: options.durationMs, warmupMs, arrival, seed, timeoutMs, maxConcurrency: cap, queueSize },
    startedAt: originEpochMs,
    measureStartedAt: measureStartPerf === null ? null : toEpoch(measureStartPerf),
    measureEndedAt: scheduleEndPerf === null ? null : toEpoch(scheduleEndPerf),
    finishedAt: toEpoch(finishedPerf),
    targetRate: rate,
    achievedRate: windowMs !== null && windowMs > 0 ? sentInWindow / (windowMs / 1000) : null,
    completedRate: windowMs !== null && windowMs > 0 ? recorded.counters.completed / (windowMs / 1000) : null,
    sentPerSecond:
      sentSeries.length > 0
        ? { mean: ss.mean(sentSeries), stddev: ss.standardDeviation(sentSeries), min: ss.min(sentSeries), max: ss.max(sentSeries), seconds: sentSeries.length }
        : null,
    concurrency: { cap, queueSize, maxInFlight, capReached, capHits, maxQueued },
    counters: recorded.counters,
    latency: recorded.latency,
    scheduleLag: recorded.scheduleLag,
    byEndpoint: recorded.byEndpoint,
    probes: recorded.probes,
    seconds: recorded.seconds,
    client: {
      cpuMean: cpuSeries.length > 0 ? ss.mean(cpuSeries) : null,
      cpuMax: cpuSeries.length > 0 ? ss.max(cpuSeries) : null,
      eventLoopDelayP99Ms: eldP99s.length > 0 ? ss.max(eldP99s) : null,
      eventLoopDelayMaxMs: eldMaxes.length > 0 ? ss.max(eldMaxes) : null,
      eventLoopDelayWindowP99Ms: eldWindowP99,
    },
    warnings: [...warnings.values()],
    workloadStats: workload.stats(),
  };
}
