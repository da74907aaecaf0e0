/**
 * `--workers N`: the paced engine in N child processes, each sending its share of the schedule,
 * their results merged into one (run-merge.ts: HDR histograms merged losslessly).
 *
 * One schedule, shared: every worker builds the same full schedule (even, or Poisson from the run's
 * seed) from the same origin, an absolute wall-clock instant chosen by the parent, and worker k of N
 * sends arrivals k, k + N, k + 2N, ... So the workers together send exactly what one generator
 * would, in one measured window with one second numbering, whatever each one's start-up took
 * (a worker that wakes late sends its overdue arrivals late: schedule lag, not extra requests).
 * Each worker draws its workload from its own seed (seed + k·7919).
 *
 * The workload is rebuilt in every worker from its spec (and the library snapshot): each worker
 * models the library on its own, so with several workers two of them can pick the same copy at
 * once and one gets the rejection (the model learns from it, as it does after a timeout).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EsbenchError } from '../core/errors.ts';
import { randomSeed } from '../core/prng.ts';
import type { LibrarySnapshot } from './library-model.ts';
import type { LiveStatus, PacedEngineOptions, PacedRunResult } from './paced-engine.ts';
import type { SecondRecord } from './latency-recorder.ts';
import { mergePacedResults, mergeSecond } from './run-merge.ts';
import type { WorkloadSpec } from './workload.ts';

/** What a worker is told: plain data (it builds its own workload from the spec). */
export interface WorkerTask {
  url: string;
  spec: WorkloadSpec;
  snapshot?: LibrarySnapshot | undefined;
  rate: number;
  durationMs: number;
  warmupMs: number;
  arrival: 'even' | 'poisson';
  seed: number;
  timeoutMs?: number | undefined;
  maxConcurrency?: number | undefined;
  queueSize?: number | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  thresholds?: PacedEngineOptions['thresholds'];
  keepSeconds?: boolean | undefined;
  /** This worker's part of the one schedule (its `rate` is the full rate / of). */
  share: NonNullable<PacedEngineOptions['share']>;
  /** Wall-clock instant (epoch ms) at which the schedule starts, the same for every worker. */
  startAtEpochMs: number;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'second'; record: SecondRecord; live: LiveStatus }
  | { type: 'phase'; phase: 'warmup' | 'measure' | 'drain'; at: number }
  | { type: 'result'; result: PacedRunResult }
  | { type: 'error'; code: string; message: string };

export type ParentMessage = { type: 'run'; task: WorkerTask } | { type: 'abort' };

export interface PacedWorkersOptions extends Omit<PacedEngineOptions, 'workload' | 'share' | 'startAtEpochMs'> {
  workers: number;
  spec: WorkloadSpec;
  snapshot?: LibrarySnapshot | undefined;
  /** Called once the workers are up, with their pids (e.g. to count their CPU). */
  onWorkers?: (pids: readonly number[]) => void;
}

const WORKER_FILE = fileURLToPath(new URL('./paced-worker.ts', import.meta.url));

/** The child runs TypeScript as the parent does: through tsx's loader. */
function spawnWorker(): ChildProcess {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return fork(WORKER_FILE, [], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
}

export async function runPacedWorkers(options: PacedWorkersOptions): Promise<PacedRunResult> {
  const n = options.workers;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new EsbenchError('BAD_FLAG', `--workers must be an integer from 1 to 64 (got ${n})`);
  if (!(options.rate > 0)) throw new EsbenchError('BAD_FLAG', `rate must be a positive number (got ${options.rate})`);
  const seed = options.seed ?? randomSeed();
  const children = Array.from({ length: n }, spawnWorker);
  const results: Array<PacedRunResult | undefined> = Array(n).fill(undefined);
  const pendingSeconds = new Map<number, Array<{ record: SecondRecord; live: LiveStatus }>>();
  const phases = { measure: 0, drain: 0 };
  let failure: Error | undefined;
  const onAbort = (): void => {
    for (const c of children) if (c.connected) c.send({ type: 'abort' } satisfies ParentMessage);
  };
  try {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.once('message', (m: WorkerMessage) => (m.type === 'ready' ? resolve() : reject(new Error('worker did not start'))));
            c.once('exit', (code) => reject(new Error(`worker exited with ${code} before it started`)));
          }),
      ),
    );
    options.onWorkers?.(children.map((c) => c.pid).filter((p): p is number => p !== undefined));
    // Far enough ahead that every worker has its task before the instant, even on a busy machine.
    const startAtEpochMs = Date.now() + 500;
    const done = children.map(
      (c, k) =>
        new Promise<void>((resolve) => {
          c.on('message', (m: WorkerMessage) => {
            if (m.type === 'second') {
              const list = pendingSeconds.get(m.record.index) ?? [];
              list.push({ record: m.record, live: m.live });
              pendingSeconds.set(m.record.index, list);
              // A second is shown once every worker has closed it.
              if (list.length === n) {
                pendingSeconds.delete(m.record.index);
                const live: LiveStatus = {
                  phase: list[0]!.live.phase,
                  inFlight: list.reduce((s, x) => s + x.live.inFlight, 0),
                  queued: list.reduce((s, x) => s + x.live.queued, 0),
                  window: list[0]!.live.window,
                };
                options.onProgress?.(mergeSecond(list.map((x) => x.record)), live);
              }
            } else if (m.type === 'phase') {
              // The window starts when the first worker starts it, and drains when the last one does.
              if (m.phase === 'measure' && phases.measure++ === 0) options.onPhase?.('measure', m.at);
              if (m.phase === 'drain' && ++phases.drain === n) options.onPhase?.('drain', m.at);
            } else if (m.type === 'result') {
              results[k] = m.result;
            } else if (m.type === 'error') {
              failure ??= new EsbenchError(m.code === 'BAD_FLAG' ? 'BAD_FLAG' : 'INTERNAL', `worker ${k}: ${m.message}`);
            }
          });
          c.once('exit', () => resolve());
        }),
    );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const share = options.rate / n;
    children.forEach((c, k) => {
      const task: WorkerTask = {
        url: options.url,
        spec: options.spec,
        snapshot: options.snapshot,
        rate: share,
        durationMs: options.durationMs,
        warmupMs: options.warmupMs ?? 0,
        arrival: options.arrival ?? 'even',
        seed: (seed + k * 7919) | 0,
        timeoutMs: options.timeoutMs,
        maxConcurrency: options.maxConcurrency === undefined ? undefined : Math.max(1, Math.ceil(options.maxConcurrency / n)),
        queueSize: options.queueSize === undefined ? undefined : Math.ceil(options.queueSize / n),
        headers: options.headers,
        thresholds: options.thresholds,
        keepSeconds: options.keepSeconds,
        share: { index: k, of: n, scheduleSeed: seed },
        startAtEpochMs,
      };
      c.send({ type: 'run', task } satisfies ParentMessage);
    });
    await Promise.all(done);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  }
  if (failure) throw failure;
  const missing = results.findIndex((r) => r === undefined);
  if (missing >= 0) throw new EsbenchError('INTERNAL', `generator worker ${missing} ended without a result`);
  const merged = mergePacedResults(results as PacedRunResult[]);
  // The seed the user gave (or drew), not worker 0's.
  merged.config.seed = seed;
  return merged;
}
