/**
 * The load generator watching itself: the CPU of its process, the delay of its event loop and the
 * lateness of its own sends (schedule lag), second by second, with a warning when they could
 * distort the figures.
 *
 * A warning must be true of the load it describes, so:
 * - it comes from the measured window only: not from the warm-up, and not from the seconds after
 *   the schedule ended (draining, then encoding the results: finalisation, not load);
 * - a p99 raises it only with MIN_QUANTILE_SAMPLES samples behind it. A second of 15 requests has
 *   a "p99" that is its maximum: one late request. When no second had enough, the whole window's
 *   histogram is judged once at the end.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import * as ss from 'simple-statistics';
import type { LatencySummary } from './histogram.ts';
import type { ClientHealth, SecondRecord } from './latency-recorder.ts';

export interface DistortionThresholds {
  /** CPU of this process per second, as a fraction of one core (the JS thread is one core). */
  cpu: number;
  /** Event-loop delay p99 within a second, ms. */
  eventLoopDelayP99Ms: number;
  /** Actual send − intended send, p99 within a second, ms (excluding queue waits at the cap). */
  scheduleLagP99Ms: number;
}

export const DEFAULT_THRESHOLDS: Readonly<DistortionThresholds> = Object.freeze({ cpu: 0.8, eventLoopDelayP99Ms: 10, scheduleLagP99Ms: 5 });

/** Samples a p99 needs behind it before it may raise a warning (see the file's comment). */
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

/** The generator's health over the run, as the result reports it. */
export interface ClientSummary {
  cpuMean: number | null;
  cpuMax: number | null;
  /** Worst per-second p99 (whatever its sample count) and max. */
  eventLoopDelayP99Ms: number | null;
  eventLoopDelayMaxMs: number | null;
  /** p99 over the measured window, when it had MIN_QUANTILE_SAMPLES samples. */
  eventLoopDelayWindowP99Ms?: number | null;
}

/** What the dispatcher saw in a second: the concurrency side of the client's health. */
export interface SecondLoad {
  maxInFlight: number;
  queued: number;
}

export interface SelfMonitorOptions {
  thresholds: DistortionThresholds;
  /** Concurrency cap and queue size (the cap warning names them). */
  cap: number;
  queueSize: number;
  /** Called the first time each kind of warning happens. */
  onWarning?: ((warning: EngineWarning) => void) | undefined;
}

const ELD_RESOLUTION_MS = 10;

/** monitorEventLoopDelay records whole timer intervals; the delay is the part beyond the resolution. */
const delayMs = (nanos: number): number => Math.max(0, nanos / 1e6 - ELD_RESOLUTION_MS);

export class SelfMonitor {
  private readonly thresholds: DistortionThresholds;
  private readonly cap: number;
  private readonly queueSize: number;
  private readonly onWarning: ((warning: EngineWarning) => void) | undefined;
  private readonly eld: IntervalHistogram = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  /** The measured window's event-loop delay, for a p99 with enough samples behind it. */
  private readonly eldWindow: IntervalHistogram = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  private cpuMark = process.cpuUsage();
  private cpuMarkAt = performance.now();
  private readonly cpuSeries: number[] = [];
  private readonly warnings = new Map<WarningKind, EngineWarning>();

  constructor(options: SelfMonitorOptions) {
    this.thresholds = options.thresholds;
    this.cap = options.cap;
    this.queueSize = options.queueSize;
    this.onWarning = options.onWarning;
    this.eld.enable();
  }

  startWindow(): void {
    this.eldWindow.enable();
  }

  endWindow(): void {
    this.eldWindow.disable();
  }

  /** Reads this process's CPU and event-loop delay since the last call into `record.client`, then judges the second. */
  observeSecond(record: SecondRecord, load: SecondLoad, inWindow: boolean): void {
    const now = performance.now();
    const usage = process.cpuUsage(this.cpuMark);
    const cpu = (usage.user + usage.system) / 1000 / Math.max(1, now - this.cpuMarkAt);
    this.cpuMark = process.cpuUsage();
    this.cpuMarkAt = now;
    const eld = this.eld;
    const sampled = eld.count > 0;
    record.client = {
      cpu,
      eventLoopDelayP99Ms: sampled ? delayMs(eld.percentile(99)) : null,
      eventLoopDelayMaxMs: sampled ? delayMs(eld.max) : null,
      eventLoopDelaySamples: eld.count,
      maxInFlight: load.maxInFlight,
      queued: load.queued,
    };
    eld.reset();
    this.judgeSecond(record, inWindow);
  }

  /** Judges a second whose `client` is filled in (pure: no reading of the process). */
  judgeSecond(record: SecondRecord, inWindow: boolean): void {
    const c: ClientHealth | null = record.client;
    if (!c) return;
    if (!inWindow) return;
    const t = this.thresholds;
    this.cpuSeries.push(c.cpu);
    if (c.cpu > t.cpu) {
      this.warn('cpu', record.index, c.cpu, t.cpu, `the load generator used ${(c.cpu * 100).toFixed(0)}% of a core in a second: its own timing may be distorted (run it on another machine or lower the rate)`);
    }
    const eldP99 = c.eventLoopDelayP99Ms;
    if (eldP99 !== null && (c.eventLoopDelaySamples ?? 0) >= MIN_QUANTILE_SAMPLES && eldP99 > t.eventLoopDelayP99Ms) {
      this.warn('event-loop-delay', record.index, eldP99, t.eventLoopDelayP99Ms, `the generator's event loop was delayed by ${eldP99.toFixed(1)} ms (p99): latencies include that delay`);
    }
    const lagP99 = record.scheduleLag.p99;
    if (lagP99 !== null && record.scheduleLag.count >= MIN_QUANTILE_SAMPLES && lagP99 > t.scheduleLagP99Ms && c.queued === 0) {
      this.warn('schedule-lag', record.index, lagP99, t.scheduleLagP99Ms, `requests left ${lagP99.toFixed(1)} ms (p99) after their intended time: the generator could not keep the pace`);
    }
    if (record.counters.dropped > 0 || c.maxInFlight >= this.cap) {
      this.warn('concurrency-cap', record.index, c.maxInFlight, this.cap, `the concurrency cap (${this.cap}) was reached: ${this.queueSize > 0 ? 'requests queued, and dropped when the queue was full' : 'requests were dropped'}`);
    }
  }

  /**
   * Ends the watch: judges the whole window where no second could (too few samples each), and
   * returns the client summary (the per-second figures from the `seconds` kept) and every warning.
   */
  finish(windowLag: LatencySummary, maxQueued: number, seconds: readonly SecondRecord[]): { client: ClientSummary; warnings: EngineWarning[] } {
    const t = this.thresholds;
    if (!this.warnings.has('schedule-lag') && windowLag.count >= MIN_QUANTILE_SAMPLES && windowLag.p99 !== null && windowLag.p99 > t.scheduleLagP99Ms && maxQueued === 0) {
      this.warn('schedule-lag', 0, windowLag.p99, t.scheduleLagP99Ms, `requests left ${windowLag.p99.toFixed(1)} ms (p99 of the window's ${windowLag.count}) after their intended time: the generator could not keep the pace`);
    }
    const eldWindowP99 = this.eldWindow.count >= MIN_QUANTILE_SAMPLES ? delayMs(this.eldWindow.percentile(99)) : null;
    this.close();
    if (!this.warnings.has('event-loop-delay') && eldWindowP99 !== null && eldWindowP99 > t.eventLoopDelayP99Ms) {
      this.warn('event-loop-delay', 0, eldWindowP99, t.eventLoopDelayP99Ms, `the generator's event loop was delayed by ${eldWindowP99.toFixed(1)} ms (p99 of the window): latencies include that delay`);
    }
    const cpu = this.cpuSeries;
    const eldP99s = seconds.map((s) => s.client?.eventLoopDelayP99Ms).filter((v): v is number => typeof v === 'number');
    const eldMaxes = seconds.map((s) => s.client?.eventLoopDelayMaxMs).filter((v): v is number => typeof v === 'number');
    return {
      client: {
        cpuMean: cpu.length > 0 ? ss.mean(cpu) : null,
        cpuMax: cpu.length > 0 ? ss.max(cpu) : null,
        eventLoopDelayP99Ms: eldP99s.length > 0 ? ss.max(eldP99s) : null,
        eventLoopDelayMaxMs: eldMaxes.length > 0 ? ss.max(eldMaxes) : null,
        eventLoopDelayWindowP99Ms: eldWindowP99,
      },
      warnings: [...this.warnings.values()],
    };
  }

  /** Stops the event-loop monitors (idempotent). */
  close(): void {
    this.eld.disable();
    this.eldWindow.disable();
  }

  private warn(kind: WarningKind, second: number, value: number, threshold: number, message: string): void {
    const existing = this.warnings.get(kind);
    if (existing) {
      existing.seconds += 1;
      existing.worst = Math.max(existing.worst, value);
      return;
    }
    const w: EngineWarning = { kind, message, firstSecond: second, seconds: 1, worst: value, threshold };
    this.warnings.set(kind, w);
    this.onWarning?.(w);
  }
}
