/**
 * autocannon as a closed-loop engine: for saturation (how many requests per second the service
 * completes when every connection sends its next request as soon as the previous one is answered),
 * and for users who want autocannon's own figures. Its figures are labelled "autocannon (closed
 * loop)" and never mixed with the paced engine's.
 *
 * What autocannon 9 does (read in its source, lib/run.js, lib/httpClient.js,
 * lib/pipelinedRequestsQueue.js and lib/histUtil.js of mcollina/autocannon, and its README):
 *
 * - Closed loop: each of `connections` clients writes a request, and writes the next one when the
 *   response is complete (httpClient.js: kOnMessageComplete → _doRequest). Offered load therefore
 *   falls when the server slows down; latency is measured from the actual write
 *   (pipelinedRequestsQueue.js: startTime = process.hrtime() at insertRequest). Under saturation
 *   that is the honest service time seen by a closed population, not what an open arrival stream
 *   would see.
 *
 * - `overallRate` is not a pacer. run.js divides it among the connections (distributeNums: each
 *   connection gets floor(rate / connections) or one more), and if the rate is below the number of
 *   connections it lowers `connections` to the rate. Each connection then has a budget of N
 *   requests per second (httpClient.js: `reqsMadeThisSecond++ < this.rate`), spends it back to back
 *   as fast as responses allow, pauses when it is spent, and a 1 s setInterval resets the budget.
 *   So requests leave in bursts at the start of each second, and latency is still measured from
 *   the actual send: a request that could not be sent because the connection was busy is simply
 *   later, i.e. coordinated omission, unless corrected.
 *
 * - Its correction is ON by default when a rate is set (README: "-C/--ignoreCoordinatedOmission
 *   ... NOTE: it is not recommended to enable this option"; PR mcollina/autocannon#274 added it as
 *   opt-in, later made the default). run.js records
 *   `latencies.recordValueWithExpectedInterval(responseTime, Math.ceil(1 / rate))`, with
 *   responseTime in milliseconds and rate in requests per second per connection. 1 / rate is in
 *   seconds, so for any rate ≥ 1 the expected interval is ceil(<1) = 1 ms instead of 1000 / rate
 *   ms: every response of L ms adds synthetic samples at L−1, L−2, ..., 1 ms. The "correction"
 *   therefore inflates the sample count about L-fold and drags the percentiles DOWN (measured here:
 *   a server with a 20 ms delay at overallRate 40 over 2 connections reported p50 = 11 ms and
 *   2562 latency samples for 120 responses; with ignoreCoordinatedOmission p50 = 21 ms, 160 samples).
 *   This engine therefore passes ignoreCoordinatedOmission: true whenever a rate is set, unless
 *   the caller explicitly asks for autocannon's default (`autocannonCorrection: true`, flagged).
 *
 * - Other details that matter when reading its numbers: its latency histogram has a resolution of
 *   1 ms (WASM HdrHistogram, lowestDiscernibleValue 1, values in ms), so sub-millisecond loopback
 *   latencies collapse to 0 or 1; `requests.sent` over-counts (run.js adds `max(rate, pipelining)`
 *   per connection at start "because we will miss the initial request emits"); latencies of non-2xx
 *   responses are included unless excludeErrorStats; `errors` includes timeouts.
 *
 * Beside autocannon's own summary, this engine records every response itself (endpoint, status,
 * Server-Timing, latency from the actual send with microsecond precision) through the same
 * LatencyRecorder as the paced engine, so the split can be computed for a saturation run too.
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { EsbenchError } from '../core/errors.ts';
import type { EncodedHistogram } from './histogram.ts';
import { LatencyRecorder, type EndpointRecord, type ProbeSample, type RequestCounters, type SecondRecord } from './latency-recorder.ts';
import { createRng, randomSeed } from '../core/prng.ts';
import { SecondTicker } from './second-ticker.ts';
import { serviceTiming, type ServiceTiming } from './server-timing.ts';
import { serviceError, type PlannedRequest, type ServiceErrorBody, type Workload, type WorkloadStats } from './workload.ts';

export const AUTOCANNON_LABEL = 'autocannon (closed loop)';

export interface AutocannonEngineOptions {
  url: string;
  workload: Workload;
  /** Concurrent connections (closed-loop population). Default 50 (the study's worker count). */
  connections?: number;
  durationMs: number;
  /** autocannon's per-second budget spread over the connections (not a pacer: see above). */
  overallRate?: number;
  /** Keep autocannon's default coordinated-omission "correction" when a rate is set (see above). Default false. */
  autocannonCorrection?: boolean;
  /** Per-request timeout. Default 1000 ms. */
  timeoutMs?: number;
  seed?: number;
  headers?: Readonly<Record<string, string>>;
  signal?: AbortSignal;
  onProgress?: (second: SecondRecord) => void;
}

export type CoordinatedOmissionHandling = 'not applicable (closed loop, no rate)' | 'not corrected (latency from actual send)' | 'autocannon default correction (1 ms expected interval)';

export interface AutocannonSummary {
  /** Completed requests per second, as autocannon samples them. */
  requestsPerSecond: { mean: number; stddev: number; min: number; max: number };
  /** autocannon's latency histogram, ms (1 ms resolution). */
  latencyMs: { mean: number; stddev: number; p50: number; p90: number; p99: number; p999: number | null; max: number; samples: number };
  completed: number;
  /** autocannon's own count; over-counts by up to one request per connection. */
  sent: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  durationS: number;
}

export interface AutocannonRunResult {
  engine: 'autocannon';
  label: string;
  partial: boolean;
  config: {
    url: string;
    workload: string;
    connections: number;
    durationMs: number;
    overallRate: number | null;
    timeoutMs: number;
    seed: number;
    coordinatedOmission: CoordinatedOmissionHandling;
  };
  /** Caveats to print next to the figures. */
  notes: string[];
  startedAt: number;
  finishedAt: number;
  /** Responses recorded by esbench / run length. */
  completedRate: number;
  autocannon: AutocannonSummary;
  /** esbench's own recording of the same responses (latency from the actual send). */
  counters: RequestCounters;
  latency: EncodedHistogram;
  byEndpoint: Record<string, EndpointRecord>;
  /** The service's calibration probe readings seen in the window (Server-Timing probe). */
  probes: ProbeSample[];
  seconds: SecondRecord[];
  workloadStats: WorkloadStats;
}

interface ClientContext {
  planned?: PlannedRequest;
  sentAt?: number;
  answered?: boolean;
  timing?: ServiceTiming | undefined;
  /** The service's error body of a non-2xx response. */
  error?: ServiceErrorBody | undefined;
  status?: number;
}

function headerValue(headers: Record<string, string | string[] | undefined> | undefined, name: string): string | string[] | undefined {
  if (!headers) return undefined;
  // autocannon hands over the raw header names as the server sent them (any case).
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

export async function runAutocannon(options: AutocannonEngineOptions): Promise<AutocannonRunResult> {
  const connections = options.connections ?? 50;
  const timeoutMs = options.timeoutMs ?? 1000;
  if (!Number.isInteger(connections) || connections < 1) throw new EsbenchError('BAD_FLAG', 'connections must be a positive integer');
  if (!(options.durationMs > 0)) throw new EsbenchError('BAD_FLAG', 'duration must be positive');
  const rate = options.overallRate;
  if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1)) throw new EsbenchError('BAD_FLAG', 'autocannon needs an integer rate >= 1');
  const seed = options.seed ?? randomSeed();
  const rng = createRng(seed);
  const workload = options.workload;
  const keepCorrection = rate !== undefined && options.autocannonCorrection === true;
  const coordinatedOmission: CoordinatedOmissionHandling =
    rate === undefined ? 'not applicable (closed loop, no rate)' : keepCorrection ? 'autocannon default correction (1 ms expected interval)' : 'not corrected (latency from actual send)';

  const base = new URL(options.url);
  const basePath = base.pathname.replace(/\/+$/, '');
  const originMs = performance.now();
  const originEpochMs = Date.now();
  const recorder = new LatencyRecorder({ originMs, originEpochMs, phase: 'measure' });

  /** A request that got no response (timeout or connection error: autocannon does not say which). */
  const settleUnanswered = (ctx: ClientContext, at: number): void => {
    if (!ctx.planned || ctx.answered) return;
    recorder.transportError(ctx.planned.endpoint, at, 'NO_RESPONSE');
    workload.complete(ctx.planned, { kind: 'timeout' });
    ctx.answered = true;
  };

  const request: autocannon.Request = {
    method: 'GET',
    path: `${basePath}/`,
    // Called by autocannon right before each request is written (and once per connection at setup).
    setupRequest: (req: autocannon.Request, context: object): autocannon.Request => {
      const ctx = context as ClientContext;
      contexts.add(ctx);
      const now = performance.now();
      settleUnanswered(ctx, now);
      const planned = workload.next(rng);
      ctx.planned = planned;
      ctx.sentAt = now;
      ctx.answered = false;
      recorder.sent(planned.endpoint, now);
      const headers: Record<string, string> = { ...options.headers };
      if (planned.body !== undefined) headers['content-type'] = 'application/json';
      return { ...req, method: planned.method, path: basePath + planned.path, body: planned.body ?? '', headers };
    },
    // Called with the complete response, synchronously before autocannon's 'response' event.
    onResponse: (status: number, body: string, context: object, headers?: Record<string, string | string[] | undefined>): void => {
      const ctx = context as ClientContext;
      ctx.status = status;
      ctx.timing = serviceTiming(headerValue(headers, 'server-timing'));
      ctx.error = status >= 200 && status < 300 ? undefined : serviceError(body);
      lastAnswered = ctx;
    },
  };
  let lastAnswered: ClientContext | undefined;
  const contexts = new Set<ClientContext>();

  const instanceOptions: autocannon.Options = {
    url: options.url,
    connections,
    pipelining: 1,
    duration: options.durationMs / 1000,
    timeout: timeoutMs / 1000,
    requests: [request],
    ...(rate !== undefined ? { overallRate: rate, ignoreCoordinatedOmission: !keepCorrection } : {}),
  };

  let partial = false;
  const ticker = new SecondTicker({ originMs, onTick: (now) => recorder.roll(now).forEach((s) => options.onProgress?.(s)) });

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(instanceOptions, (err: unknown, res: autocannon.Result) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(res);
    });
    const onAbort = (): void => {
      partial = true;
      instance.stop();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    // The tracker's 'response' comes right after the request's onResponse, in the same call.
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      const ctx = lastAnswered;
      lastAnswered = undefined;
      if (!ctx?.planned) return;
      const at = performance.now();
      ctx.answered = true;
      recorder.completed(ctx.planned.endpoint, at, { status: statusCode, latencyMs: responseTime, timing: ctx.timing, errorCode: ctx.error?.code });
      workload.complete(ctx.planned, { kind: 'response', status: statusCode, error: ctx.error });
    });
    ticker.start();
  });
  ticker.stop();
  // Requests cut off when autocannon stopped its clients: the model cannot know their outcome.
  let inFlightAtStop = 0;
  for (const ctx of contexts) {
    if (ctx.planned && !ctx.answered) {
      inFlightAtStop += 1;
      workload.complete(ctx.planned, { kind: 'timeout' });
      ctx.answered = true;
    }
  }
  const finishedPerf = performance.now();
  for (const s of recorder.roll(finishedPerf + 1000)) options.onProgress?.(s);
  const recorded = recorder.finish();

  const statusCodes: Record<string, number> = {};
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, v] of Object.entries(stats)) statusCodes[code] = v.count;
  const lat = result.latency as autocannon.Histogram & { p99_9?: number; totalCount?: number };

  const notes = [
    'closed loop: each connection sends its next request only after the previous response, so offered load falls when the service slows down',
    'latency is measured from the actual send (not from an intended schedule)',
    "autocannon's own latency histogram has 1 ms resolution; esbench's per-endpoint figures have microsecond resolution",
  ];
  if (inFlightAtStop > 0) notes.push(`${inFlightAtStop} request(s) were in flight when autocannon stopped its connections (sent, never answered)`);
  if (rate !== undefined) {
    notes.push('overallRate is a per-connection budget per second, spent in bursts, not evenly paced requests');
    if (keepCorrection) notes.push("autocannon's default coordinated-omission correction is ON: it uses a 1 ms expected interval, inflating sample counts and lowering percentiles");
  }

  const durationS = (finishedPerf - originMs) / 1000;
  return {
    engine: 'autocannon',
    label: AUTOCANNON_LABEL,
    partial,
    config: { url: options.url, workload: workload.spec.name, connections, durationMs: options.durationMs, overallRate: rate ?? null, timeoutMs, seed, coordinatedOmission },
    notes,
    startedAt: originEpochMs,
    finishedAt: originEpochMs + (finishedPerf - originMs),
    completedRate: recorded.counters.completed / Math.max(durationS, 1e-9),
    autocannon: {
      requestsPerSecond: { mean: result.requests.mean, stddev: result.requests.stddev, min: result.requests.min, max: result.requests.max },
      latencyMs: {
        mean: lat.mean,
        stddev: lat.stddev,
        p50: lat.p50,
        p90: lat.p90,
        p99: lat.p99,
        p999: lat.p99_9 ?? null,
        max: lat.max,
        samples: lat.totalCount ?? result.requests.total,
      },
      completed: result.requests.total,
      sent: result.requests.sent,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      statusCodes,
      durationS: result.duration,
    },
    counters: recorded.counters,
    latency: recorded.latency,
    byEndpoint: recorded.byEndpoint,
    probes: recorded.probes,
    seconds: recorded.seconds,
    workloadStats: workload.stats(),
  };
}
