/**
 * The paced engine's dispatcher: sends each planned request at its intended time and records its
 * latency from that INTENDED time, not from when it actually left: time a request spent waiting
 * for the generator (a late timer, a full concurrency cap) is latency the user would have seen.
 * Measuring from the actual send is coordinated omission.
 *
 * - Concurrency grows as needed up to a cap. When the cap is reached, requests wait in a bounded
 *   FIFO queue; when that is full they are dropped and counted (the study's generator: 50 workers,
 *   a queue of 100, overflow counted as "backpressure").
 * - A client timeout, counted from the actual send, counts a timeout.
 *
 * HTTP goes through one undici Pool with keep-alive and no pipelining (one request per connection
 * at a time, like a browser or pgx-backed Go client), sized to the cap so undici never queues a
 * request behind our back.
 *
 * The generator's own CPU is part of what a run costs the machine (issue 15), so a request costs
 * one small object here: an Exchange is undici's dispatch handler (no promise chain, no body
 * stream, no AbortController), and timeouts come from one timer over a FIFO of deadlines (every
 * request has the same timeout, so deadlines are in send order) instead of a timer per request.
 */
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import type { LatencyRecorder, Phase } from './latency-recorder.ts';
import { serviceTiming } from './server-timing.ts';
import { serviceError, type PlannedRequest, type Workload } from './workload.ts';

export interface RequestDispatcherOptions {
  /** Base URL of the service; request paths are appended to its path. */
  url: string;
  /** Concurrency cap (requests in flight at once). */
  cap: number;
  /** Requests that may wait for a free slot at the cap; beyond it they are dropped. */
  queueSize: number;
  /** Client timeout from the actual send, ms. */
  timeoutMs: number;
  headers?: Readonly<Record<string, string>> | undefined;
  recorder: LatencyRecorder;
  workload: Workload;
  /** Called with the send time of every request that leaves (the engine counts its window). */
  onSent?: ((sentAtMs: number) => void) | undefined;
  /** Called whenever a request ends and nothing is in flight or queued any more. */
  onIdle?: (() => void) | undefined;
  /** performance.now by default: the clock of intended times. */
  clock?: () => number;
}

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

/** Raised into undici to abort a request that outlived its timeout. */
class ClientTimeout extends Error {
  readonly code = 'CLIENT_TIMEOUT';
}

/**
 * One instance for every timeout: an Error captures (and, under tsx, source-maps) a stack when it
 * is made, which cost more than the request itself when a stalled server timed out thousands.
 */
const TIMEOUT = new ClientTimeout('client timeout');

const SERVER_TIMING = 'server-timing';

/** The Server-Timing header value(s) among undici's raw headers ([name, value, name, value, ...]). */
function serverTimingOf(raw: Buffer[] | string[] | null): string | undefined {
  if (!raw) return undefined;
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap length test first: most headers are not this one.
    if (name.length !== SERVER_TIMING.length || name.toString().toLowerCase() !== SERVER_TIMING) continue;
    const v = raw[i + 1]!.toString();
    value = value === undefined ? v : `${value}, ${v}`;
  }
  return value;
}

/**
 * One request and its response: undici's (legacy, unwrapped) dispatch handler. Reads the whole
 * body (the user's latency ends when the response is complete); keeps it only for a non-2xx,
 * whose service error code is counted.
 */
class Exchange implements Dispatcher.DispatchHandler {
  /** performance.now() after which the request is aborted as a timeout. */
  readonly deadline: number;
  done = false;
  timedOut = false;
  private abortFn: ((err: Error) => void) | undefined;
  private status = 0;
  private timing: string | undefined;
  private chunks: Buffer[] | undefined;

  constructor(
    private readonly owner: RequestDispatcher,
    readonly req: PlannedRequest,
    readonly intendedAt: number,
    /** The recorder's phase when it was sent: its outcome counts in that phase's figures. */
    readonly sentIn: Phase,
    timeoutMs: number,
  ) {
    this.deadline = performance.now() + timeoutMs;
  }

  /** Called by the deadline sweep. */
  expire(): void {
    if (this.timedOut || this.done) return;
    this.timedOut = true;
    this.abortFn?.(TIMEOUT);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.timedOut) abort(TIMEOUT);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    this.timing = serverTimingOf(rawHeaders);
    if (statusCode < 200 || statusCode >= 300) this.chunks = [];
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks?.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.owner.responded(this, this.status, this.timing, this.chunks ? Buffer.concat(this.chunks).toString() : undefined);
  }

  onError(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.owner.failed(this, error);
  }
}

export class RequestDispatcher {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly cap: number;
  private readonly queueSize: number;
  private readonly timeoutMs: number;
  private readonly recorder: LatencyRecorder;
  private readonly workload: Workload;
  private readonly onSent: ((sentAtMs: number) => void) | undefined;
  private readonly onIdle: (() => void) | undefined;
  private readonly clock: () => number;
  private readonly headersNoBody: Readonly<Record<string, string>>;
  private readonly headersJson: Readonly<Record<string, string>>;
  private readonly queue: Waiting[] = [];
  private secondMaxInFlight = 0;
  /** Requests in flight in send order (so in deadline order); `deadlineHead` is the first not yet swept. */
  private deadlines: Exchange[] = [];
  private deadlineHead = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;

  inFlight = 0;
  maxInFlight = 0;
  /** Requests that found the cap full (queued or dropped). */
  capHits = 0;
  maxQueued = 0;

  constructor(options: RequestDispatcherOptions) {
    const base = new URL(options.url);
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.cap = options.cap;
    this.queueSize = options.queueSize;
    this.timeoutMs = options.timeoutMs;
    this.recorder = options.recorder;
    this.workload = options.workload;
    this.onSent = options.onSent;
    this.onIdle = options.onIdle;
    this.clock = options.clock ?? (() => performance.now());
    this.headersNoBody = Object.freeze({ ...options.headers });
    this.headersJson = Object.freeze({ 'content-type': 'application/json', ...options.headers });
    this.pool = new Pool(base.origin, { connections: this.cap, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  get capReached(): boolean {
    return this.capHits > 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Nothing in flight and nothing waiting. */
  get idle(): boolean {
    return this.inFlight === 0 && this.queue.length === 0;
  }

  /** The most requests in flight at once since the last call (then starts over from the current count). */
  takeSecondMaxInFlight(): number {
    const max = this.secondMaxInFlight;
    this.secondMaxInFlight = this.inFlight;
    return max;
  }

  /** Sends `req` now (its latency counted from `intendedAt`), or queues or drops it at the cap. */
  dispatch(req: PlannedRequest, intendedAt: number): void {
    if (this.inFlight < this.cap) {
      this.send(req, intendedAt);
      return;
    }
    this.capHits += 1;
    if (this.queue.length < this.queueSize) {
      this.queue.push({ req, intendedAt });
      if (this.queue.length > this.maxQueued) this.maxQueued = this.queue.length;
      return;
    }
    this.recorder.dropped(req.endpoint, this.clock());
    this.workload.complete(req, { kind: 'dropped' });
  }

  /** Queued requests that will never be sent (the run was stopped): cancelled, not dropped. */
  cancelQueued(atMs: number): void {
    for (const w of this.queue.splice(0)) {
      this.recorder.cancelled(w.req.endpoint, atMs);
      this.workload.complete(w.req, { kind: 'cancelled' });
    }
  }

  /** Closes the connections (after the last request ended). */
  async close(): Promise<void> {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    await this.pool.close();
  }

  /** A complete response (called by its Exchange). */
  responded(x: Exchange, status: number, serverTiming: string | undefined, errorBody: string | undefined): void {
    const doneAt = this.clock();
    const error = errorBody === undefined ? undefined : serviceError(errorBody);
    this.recorder.completed(x.req.endpoint, doneAt, {
      status,
      latencyMs: doneAt - x.intendedAt,
      timing: serviceTiming(serverTiming),
      errorCode: error?.code,
    }, x.sentIn);
    this.workload.complete(x.req, { kind: 'response', status, error });
    this.ended();
  }

  /** No response: the timeout, or the connection failed (called by its Exchange). */
  failed(x: Exchange, error: unknown): void {
    const at = this.clock();
    if (x.timedOut) {
      this.recorder.timeout(x.req.endpoint, at, x.sentIn);
      this.workload.complete(x.req, { kind: 'timeout' });
    } else {
      this.recorder.transportError(x.req.endpoint, at, transportCode(error), x.sentIn);
      this.workload.complete(x.req, { kind: 'transport-error' });
    }
    this.ended();
  }

  private ended(): void {
    this.inFlight -= 1;
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.cap) {
      const w = this.queue.shift()!;
      this.send(w.req, w.intendedAt);
    }
    if (this.idle) this.onIdle?.();
  }

  private send(req: PlannedRequest, intendedAt: number): void {
    this.inFlight += 1;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (this.inFlight > this.secondMaxInFlight) this.secondMaxInFlight = this.inFlight;
    const sentAt = this.clock();
    this.recorder.sent(req.endpoint, sentAt, sentAt - intendedAt);
    this.onSent?.(sentAt);
    const x = new Exchange(this, req, intendedAt, this.recorder.currentPhase, this.timeoutMs);
    this.deadlines.push(x);
    if (!this.deadlineTimer) this.armDeadline(x.deadline);
    this.pool.dispatch(
      { path: this.basePath + req.path, method: req.method, headers: req.body === undefined ? this.headersNoBody : this.headersJson, body: req.body ?? null },
      x,
    );
  }

  /** One timer at a time: a sweep's aborts can end requests and send queued ones, which arm it too. */
  private armDeadline(at: number): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(this.sweepDeadlines, Math.max(0, at - performance.now()));
  }

  /** Aborts every request past its deadline, forgets the ended ones, and sleeps until the next deadline. */
  private readonly sweepDeadlines = (): void => {
    this.deadlineTimer = undefined;
    const now = performance.now();
    const list = this.deadlines;
    let next: Exchange | undefined;
    for (let i = this.deadlineHead; i < list.length; i++) {
      const x = list[i]!;
      if (x.done || x.timedOut) continue;
      if (x.deadline > now) {
        next = x;
        break;
      }
      x.expire();
    }
    // An expired request stays until its onError (from the abort, at once or at its onConnect).
    while (this.deadlineHead < list.length && list[this.deadlineHead]!.done) this.deadlineHead += 1;
    // Drop the swept prefix now and then, so the array does not grow with the run.
    if (this.deadlineHead > 1024 && this.deadlineHead * 2 > list.length) {
      this.deadlines = list.slice(this.deadlineHead);
      this.deadlineHead = 0;
    }
    if (next) this.armDeadline(next.deadline);
  };
}
