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
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { LatencyRecorder } from './latency-recorder.ts';
import { serviceTiming } from './server-timing.ts';
import { serviceError, type PlannedRequest, type ServiceErrorBody, type Workload } from './workload.ts';

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
    await this.pool.close();
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.cap) {
      const w = this.queue.shift()!;
      this.send(w.req, w.intendedAt);
    }
    if (this.idle) this.onIdle?.();
  }

  private send(req: PlannedRequest, intendedAt: number): void {
    const { recorder, workload } = this;
    this.inFlight += 1;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (this.inFlight > this.secondMaxInFlight) this.secondMaxInFlight = this.inFlight;
    const sentAt = this.clock();
    recorder.sent(req.endpoint, sentAt, sentAt - intendedAt);
    this.onSent?.(sentAt);
    const controller = new AbortController();
    let timedOut = false;
    // Per-request timers are cheap: Node keeps timers of equal duration in one list (O(1) insert).
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    this.pool
      .request({
        path: this.basePath + req.path,
        method: req.method,
        headers: req.body === undefined ? this.headersNoBody : this.headersJson,
        body: req.body ?? null,
        signal: controller.signal,
      })
      .then(async (res) => {
        let error: ServiceErrorBody | undefined;
        // Read the whole body: the user's latency ends when the response is complete.
        if (res.statusCode >= 200 && res.statusCode < 300) await res.body.dump({ limit: 64 * 1024 * 1024 });
        else error = serviceError(await res.body.text());
        const doneAt = this.clock();
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
        const at = this.clock();
        if (timedOut) {
          recorder.timeout(req.endpoint, at);
          workload.complete(req, { kind: 'timeout' });
        } else {
          recorder.transportError(req.endpoint, at, transportCode(error));
          workload.complete(req, { kind: 'transport-error' });
        }
      })
      .finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
  }
}
