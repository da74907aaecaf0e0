/**
 * Records what a load engine observes: per second (a series for plots and the live display) and
 * per endpoint over the measured window (for the summary and the split).
 *
 * Attribution: a request is counted as sent / dropped in the second it was sent or dropped, and its
 * outcome (latency, status, timeout) in the second the outcome happened — the HdrHistogram
 * interval-log convention. Only the current second is open; a closed second is encoded once
 * (compressed HdrHistogram, a few hundred bytes) and its live histograms are reused, so memory does
 * not grow with the run's length.
 *
 * The measured window: outcomes recorded while the phase is 'measure' (requests sent in warm-up
 * that complete after it are few and counted in the window; requests sent in the window that
 * complete during the drain are counted too — they are the window's requests).
 */
import { LatencyHistogram, type EncodedHistogram, type LatencySummary } from './histogram.ts';
import type { ServiceTiming } from './server-timing.ts';

export type Phase = 'warmup' | 'measure';

export interface RequestCounters {
  /** Requests written to the network. */
  sent: number;
  /** Responses received (any status). */
  completed: number;
  /** 2xx responses. */
  ok: number;
  http4xx: number;
  http5xx: number;
  /** 1xx / 3xx: not expected from the service. */
  httpOther: number;
  /** Connection refused / reset / closed before a response (timeouts are counted apart). */
  transportErrors: number;
  /** No response within the client timeout. */
  timeouts: number;
  /** Could not be sent: the concurrency cap was reached and the queue was full (the study's "backpressure"). */
  dropped: number;
  /** Scheduled or queued but never sent because the run was stopped. */
  cancelled: number;
  /** Non-2xx responses + transport errors (timeouts are reported apart). */
  errors: number;
  statusCodes: Record<string, number>;
  /** The service's error `code` of non-2xx responses (BOOK_ALREADY_LENT, POOL_TIMEOUT, ...). */
  errorCodes: Record<string, number>;
}

/** The client's own health during a second (filled in by the engine). */
export interface ClientHealth {
  /** CPU time of this process (all its threads) / wall time; 1.0 = one core fully busy. */
  cpu: number;
  /** Event-loop delay beyond the monitor's resolution, p99 and max, ms. */
  eventLoopDelayP99Ms: number | null;
  eventLoopDelayMaxMs: number | null;
  /** Event-loop delay samples behind the p99 (about one per 10 ms of an idle loop). */
  eventLoopDelaySamples?: number;
  maxInFlight: number;
  queued: number;
}

export interface SecondRecord {
  /** Second since the start of the measured window (warm-up seconds are negative). */
  index: number;
  /** Wall-clock start of the second (epoch ms). */
  startedAt: number;
  /** 'warmup' for the seconds before the measured window (negative index), 'measure' from second 0. */
  phase: Phase;
  counters: RequestCounters;
  byEndpoint: Record<string, RequestCounters>;
  /** Client latency of the responses completed in this second, all endpoints. */
  latency: EncodedHistogram;
  latencyByEndpoint: Record<string, EncodedHistogram>;
  /** Actual send − intended send of the requests sent in this second (with its histogram, so workers merge). */
  scheduleLag: LatencySummary | EncodedHistogram;
  client: ClientHealth | null;
  /**
   * The service's Server-Timing figures of the responses completed in this second (all
   * endpoints): `total` and the pool acquire wait. Lets the spike analysis tell a slow service or
   * an exhausted pool from the generator, second by second. Absent in runs saved before it; a
   * summary without its histogram in runs saved before generator workers merged them.
   */
  server?: { total: LatencySummary | EncodedHistogram; pool: LatencySummary | EncodedHistogram };
}

/** What an endpoint showed over the measured window. */
export interface EndpointRecord {
  counters: RequestCounters;
  /** Client latency (from the intended send time for the paced engine), all responses. */
  latency: EncodedHistogram;
  /** Actual send − intended send (generator lateness + queue wait). */
  scheduleLag: EncodedHistogram;
  /** The service's Server-Timing figures of the responses that carried the header. */
  server: { total: EncodedHistogram; pool: EncodedHistogram; db: EncodedHistogram; app: EncodedHistogram };
  /** Responses without a usable Server-Timing header. */
  serverTimingMissing: number;
  /** Per response: client latency − Server-Timing total (network, HTTP parsing, client scheduling). */
  transport: EncodedHistogram;
  /** Per response: total − pool − db, computed here (the service's `app` may be rounded). */
  appDerived: EncodedHistogram;
  /** Responses whose client latency was below their server total (clock granularity); recorded as 0. */
  negativeTransport: number;
  /** Statements run by `responses` responses, by `pool.statement[@endpoint]` (Server-Timing db desc). */
  statementCalls: { responses: number; calls: Record<string, number> };
  /**
   * The driver's part of the DB round trip (Server-Timing decode) over `responses` responses:
   * first result message → result per statement, and the round trips, rows and bytes received.
   */
  driver?: { responses: number; decode: EncodedHistogram; roundTrips: number; rows: number; bytes: number };
}

/** A calibration probe reading the service reported (Server-Timing probe), by sequence number. */
export interface ProbeSample {
  seq: number;
  ms: number;
}

export interface RecorderResult {
  startedAt: number;
  seconds: SecondRecord[];
  counters: RequestCounters;
  latency: EncodedHistogram;
  scheduleLag: EncodedHistogram;
  byEndpoint: Record<string, EndpointRecord>;
  /** Distinct probe readings carried by the window's responses, by sequence number. */
  probes: ProbeSample[];
}

export interface CompletionSample {
  status: number;
  /** Client latency in ms. */
  latencyMs: number;
  scheduleLagMs?: number;
  timing?: ServiceTiming | undefined;
  /** The service's error code from a non-2xx body, when there was one. */
  errorCode?: string | undefined;
}

export function emptyCounters(): RequestCounters {
  return {
    sent: 0,
    completed: 0,
    ok: 0,
    http4xx: 0,
    http5xx: 0,
    httpOther: 0,
    transportErrors: 0,
    timeouts: 0,
    dropped: 0,
    cancelled: 0,
    errors: 0,
    statusCodes: {},
    errorCodes: {},
  };
}

export function addCounters(into: RequestCounters, from: RequestCounters): RequestCounters {
  into.sent += from.sent;
  into.completed += from.completed;
  into.ok += from.ok;
  into.http4xx += from.http4xx;
  into.http5xx += from.http5xx;
  into.httpOther += from.httpOther;
  into.transportErrors += from.transportErrors;
  into.timeouts += from.timeouts;
  into.dropped += from.dropped;
  into.cancelled += from.cancelled;
  into.errors += from.errors;
  for (const [k, v] of Object.entries(from.statusCodes)) into.statusCodes[k] = (into.statusCodes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.errorCodes)) into.errorCodes[k] = (into.errorCodes[k] ?? 0) + v;
  return into;
}

function countCompletion(c: RequestCounters, sample: CompletionSample): void {
  c.completed += 1;
  const s = sample.status;
  c.statusCodes[s] = (c.statusCodes[s] ?? 0) + 1;
  if (s >= 200 && s < 300) c.ok += 1;
  else {
    c.errors += 1;
    if (s >= 400 && s < 500) c.http4xx += 1;
    else if (s >= 500) c.http5xx += 1;
    else c.httpOther += 1;
    if (sample.errorCode) c.errorCodes[sample.errorCode] = (c.errorCodes[sample.errorCode] ?? 0) + 1;
  }
}

type CounterEvent = 'sent' | 'dropped' | 'cancelled' | 'timeouts' | 'transportErrors';

class EndpointWindow {
  readonly counters = emptyCounters();
  readonly latency = new LatencyHistogram();
  readonly lag = new LatencyHistogram();
  readonly total = new LatencyHistogram();
  readonly pool = new LatencyHistogram();
  readonly db = new LatencyHistogram();
  readonly app = new LatencyHistogram();
  readonly appDerived = new LatencyHistogram();
  readonly transport = new LatencyHistogram();
  timingMissing = 0;
  negativeTransport = 0;
  readonly calls: Record<string, number> = {};
  callsReported = 0;
  readonly decode = new LatencyHistogram();
  driverResponses = 0;
  roundTrips = 0;
  rows = 0;
  bytes = 0;

  toJSON(): EndpointRecord {
    return {
      counters: this.counters,
      latency: this.latency.toJSON(),
      scheduleLag: this.lag.toJSON(),
      server: { total: this.total.toJSON(), pool: this.pool.toJSON(), db: this.db.toJSON(), app: this.app.toJSON() },
      serverTimingMissing: this.timingMissing,
      transport: this.transport.toJSON(),
      appDerived: this.appDerived.toJSON(),
      negativeTransport: this.negativeTransport,
      statementCalls: { responses: this.callsReported, calls: { ...this.calls } },
      ...(this.driverResponses > 0
        ? { driver: { responses: this.driverResponses, decode: this.decode.toJSON(), roundTrips: this.roundTrips, rows: this.rows, bytes: this.bytes } }
        : {}),
    };
  }
}

/** One open second; its histograms come from (and go back to) the recorder's free list. */
interface OpenSecond {
  index: number;
  phase: Phase;
  counters: Map<string, RequestCounters>;
  latency: Map<string, LatencyHistogram>;
  all: LatencyHistogram;
  lag: LatencyHistogram;
  serverTotal: LatencyHistogram;
  serverPool: LatencyHistogram;
}

export interface LatencyRecorderOptions {
  /** performance.now() at which second 0 begins (the start of the measured window). */
  originMs: number;
  /** Date.now() at the same instant (to stamp seconds with wall-clock time). */
  originEpochMs: number;
  /** Index of the first second (negative when a warm-up precedes second 0). Default 0. */
  firstIndex?: number;
  phase: Phase;
  /** Keep per-second histograms (encoded) in the result; on by default. */
  keepSeconds?: boolean;
}

export class LatencyRecorder {
  private readonly originMs: number;
  private readonly originEpochMs: number;
  private readonly keepSeconds: boolean;
  private phase: Phase;
  private open: OpenSecond | undefined;
  /** Index of the first second not yet closed. */
  private next: number;
  private readonly firstIndex: number;
  private readonly closedEarly: SecondRecord[] = [];
  private readonly free: LatencyHistogram[] = [];
  private readonly seconds: SecondRecord[] = [];
  private readonly window = new Map<string, EndpointWindow>();
  private readonly windowLatency = new LatencyHistogram();
  private readonly windowLag = new LatencyHistogram();
  private readonly probes = new Map<number, number>();

  constructor(options: LatencyRecorderOptions) {
    this.originMs = options.originMs;
    this.originEpochMs = options.originEpochMs;
    this.phase = options.phase;
    this.keepSeconds = options.keepSeconds ?? true;
    this.firstIndex = options.firstIndex ?? 0;
    this.next = this.firstIndex;
  }

  get currentPhase(): Phase {
    return this.phase;
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
  }

  sent(endpoint: string, atMs: number, scheduleLagMs?: number): void {
    const s = this.bump(endpoint, atMs, 'sent');
    if (scheduleLagMs !== undefined) {
      s.lag.record(scheduleLagMs);
      if (this.phase === 'measure') {
        this.windowLag.record(scheduleLagMs);
        this.endpointWindow(endpoint).lag.record(scheduleLagMs);
      }
    }
  }

  dropped(endpoint: string, atMs: number): void {
    this.bump(endpoint, atMs, 'dropped');
  }

  cancelled(endpoint: string, atMs: number): void {
    this.bump(endpoint, atMs, 'cancelled');
  }

  /**
   * The outcome of a request belongs to the window of its SEND: pass the phase it was sent in
   * (default: the current one). A warm-up request answered after the window opened is not one of
   * the window's (with a late generator, those made "completed" exceed "sent").
   */
  timeout(endpoint: string, atMs: number, sentIn?: Phase): void {
    this.bump(endpoint, atMs, 'timeouts', sentIn);
  }

  transportError(endpoint: string, atMs: number, code: string, sentIn?: Phase): void {
    const s = this.bump(endpoint, atMs, 'transportErrors', sentIn);
    const c = this.countersOf(s, endpoint);
    c.errors += 1;
    c.errorCodes[code] = (c.errorCodes[code] ?? 0) + 1;
    if ((sentIn ?? this.phase) === 'measure') {
      const w = this.endpointWindow(endpoint).counters;
      w.errors += 1;
      w.errorCodes[code] = (w.errorCodes[code] ?? 0) + 1;
    }
  }

  completed(endpoint: string, atMs: number, sample: CompletionSample, sentIn?: Phase): void {
    const s = this.secondAt(atMs);
    countCompletion(this.countersOf(s, endpoint), sample);
    this.latencyOf(s, endpoint).record(sample.latencyMs);
    s.all.record(sample.latencyMs);
    if (sample.timing) {
      s.serverTotal.record(sample.timing.totalMs);
      s.serverPool.record(sample.timing.poolMs);
    }
    if ((sentIn ?? this.phase) !== 'measure') return;
    const w = this.endpointWindow(endpoint);
    countCompletion(w.counters, sample);
    w.latency.record(sample.latencyMs);
    this.windowLatency.record(sample.latencyMs);
    const t = sample.timing;
    if (!t) {
      w.timingMissing += 1;
      return;
    }
    w.total.record(t.totalMs);
    w.pool.record(t.poolMs);
    w.db.record(t.dbMs);
    w.app.record(t.appMs);
    w.appDerived.record(t.totalMs - t.poolMs - t.dbMs);
    if (t.driver) {
      w.driverResponses += 1;
      w.decode.record(t.driver.decodeMs);
      w.roundTrips += t.driver.roundTrips;
      w.rows += t.driver.rows;
      w.bytes += t.driver.bytes;
    }
    if (t.probe && !this.probes.has(t.probe.seq)) this.probes.set(t.probe.seq, t.probe.ms);
    if (t.calls) {
      w.callsReported += 1;
      for (const [k, n] of Object.entries(t.calls)) w.calls[k] = (w.calls[k] ?? 0) + n;
    }
    const transport = sample.latencyMs - t.totalMs;
    if (transport < 0) w.negativeTransport += 1;
    w.transport.record(transport);
  }

  /** Closes every second that ended before `nowMs`; returns the newly closed ones (oldest first). */
  roll(nowMs: number): SecondRecord[] {
    const index = this.indexOf(nowMs);
    // Seconds closed by an event that arrived before the caller's roll are handed over now.
    const closed: SecondRecord[] = this.closedEarly.splice(0);
    while (this.next < index) {
      // A second without any event still gets a (zero) record, so the series stays continuous.
      const s = this.open && this.open.index === this.next ? this.open : this.newSecond(this.next);
      closed.push(this.close(s));
      this.open = undefined;
      this.next += 1;
    }
    return closed;
  }

  /** Closes the open second and returns everything. The recorder must not be used afterwards. */
  finish(): RecorderResult {
    if (this.open) this.close(this.open);
    this.open = undefined;
    this.next = Number.POSITIVE_INFINITY;
    const counters = emptyCounters();
    const byEndpoint: Record<string, EndpointRecord> = {};
    for (const [name, w] of this.window) {
      addCounters(counters, w.counters);
      byEndpoint[name] = w.toJSON();
    }
    return {
      startedAt: this.originEpochMs,
      seconds: this.seconds,
      counters,
      latency: this.windowLatency.toJSON(),
      scheduleLag: this.windowLag.toJSON(),
      byEndpoint,
      probes: [...this.probes].sort(([a], [b]) => a - b).map(([seq, ms]) => ({ seq, ms })),
    };
  }

  /** Measured-window counters so far (for progress displays). */
  windowCounters(): RequestCounters {
    const total = emptyCounters();
    for (const w of this.window.values()) addCounters(total, w.counters);
    return total;
  }

  private indexOf(atMs: number): number {
    return Math.max(this.firstIndex, Math.floor((atMs - this.originMs) / 1000));
  }

  private bump(endpoint: string, atMs: number, event: CounterEvent, sentIn?: Phase): OpenSecond {
    const s = this.secondAt(atMs);
    this.countersOf(s, endpoint)[event] += 1;
    if ((sentIn ?? this.phase) === 'measure') this.endpointWindow(endpoint).counters[event] += 1;
    return s;
  }

  private secondAt(atMs: number): OpenSecond {
    if (this.indexOf(atMs) > this.next) this.closedEarly.push(...this.roll(atMs));
    // An event stamped in an already-closed second (a timer firing late) goes to the open one.
    this.open ??= this.newSecond(this.next);
    return this.open;
  }

  private newSecond(index: number): OpenSecond {
    // Seconds are counted from the start of the measured window: negative ones are the warm-up.
    // (Not the phase at the first event: a warm-up response can arrive just after the boundary.)
    const phase: Phase = index < 0 ? 'warmup' : 'measure';
    return { index, phase, counters: new Map(), latency: new Map(), all: this.take(), lag: this.take(), serverTotal: this.take(), serverPool: this.take() };
  }

  private take(): LatencyHistogram {
    return this.free.pop() ?? new LatencyHistogram();
  }

  private give(h: LatencyHistogram): void {
    h.reset();
    this.free.push(h);
  }

  private countersOf(s: OpenSecond, endpoint: string): RequestCounters {
    let c = s.counters.get(endpoint);
    if (!c) s.counters.set(endpoint, (c = emptyCounters()));
    return c;
  }

  private latencyOf(s: OpenSecond, endpoint: string): LatencyHistogram {
    let h = s.latency.get(endpoint);
    if (!h) s.latency.set(endpoint, (h = this.take()));
    return h;
  }

  private endpointWindow(endpoint: string): EndpointWindow {
    let w = this.window.get(endpoint);
    if (!w) this.window.set(endpoint, (w = new EndpointWindow()));
    return w;
  }

  private close(s: OpenSecond): SecondRecord {
    const counters = emptyCounters();
    const byEndpoint: Record<string, RequestCounters> = {};
    for (const [name, c] of s.counters) {
      byEndpoint[name] = c;
      addCounters(counters, c);
    }
    const latencyByEndpoint: Record<string, EncodedHistogram> = {};
    for (const [name, h] of s.latency) {
      latencyByEndpoint[name] = h.toJSON();
      this.give(h);
    }
    const record: SecondRecord = {
      index: s.index,
      startedAt: this.originEpochMs + s.index * 1000,
      phase: s.phase,
      counters,
      byEndpoint,
      latency: s.all.toJSON(),
      latencyByEndpoint,
      scheduleLag: s.lag.toJSON(),
      client: null,
      ...(s.serverTotal.count > 0 ? { server: { total: s.serverTotal.toJSON(), pool: s.serverPool.toJSON() } } : {}),
    };
    this.give(s.all);
    this.give(s.lag);
    this.give(s.serverTotal);
    this.give(s.serverPool);
    if (this.keepSeconds) this.seconds.push(record);
    return record;
  }
}
