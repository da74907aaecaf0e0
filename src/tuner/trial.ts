/**
 * One trial: the service in its own process with the trial's pool settings, a load engine against
 * it, the observer on both nodes during the measured window, and the split of the measured time.
 * `esbench run` is one trial; the tuner and the study run many.
 */
import os from 'node:os';
import { resolveConfig, type PoolConfig } from '../core/config.ts';
import { runAutocannon, type AutocannonRunResult } from '../load/autocannon-engine.ts';
import { runPaced, STUDY_CONCURRENCY, type EngineWarning, type LiveStatus, type PacedRunResult } from '../load/paced-engine.ts';
import type { SecondRecord } from '../load/latency-recorder.ts';
import { startServiceProcess } from '../load/service-process.ts';
import { createWorkload, fetchLibrarySnapshot, resolveWorkloadSpec, type WorkloadSpec } from '../load/workload.ts';
import { cpuWindow, readCpu, type CpuReading, type CpuTargets, type CpuWindow } from '../observe/cpu-meter.ts';
import { startObservation, type Observation, type ObservationResult } from '../observe/observation.ts';
import { computeSplit, type SplitResult } from '../analysis/split.ts';
import { detectSpikes, type SpikeReport } from '../analysis/spikes.ts';

export interface TrialConfig {
  engine: 'paced' | 'autocannon';
  rate: number;
  durationMs: number;
  warmupMs: number;
  arrival: 'even' | 'poisson';
  seed: number | undefined;
  timeoutMs: number;
  /** Paced: mimic the study's generator (50 workers, queue of 100, overflow dropped). */
  studyConcurrency: boolean;
  /** autocannon: connections (closed loop). */
  connections: number;
  workload: WorkloadSpec;
  pools: { primary: PoolConfig; replica: PoolConfig };
  /** Extra `serve` flags (strategy, decisions, read-from). */
  serviceArgs: string[];
  sampleIntervalMs: number;
}

/** A trial with esbench's defaults (the study's workload, paced even arrivals, 1 s timeout, default pools). */
export function trialConfig(overrides: Partial<TrialConfig> & Pick<TrialConfig, 'rate' | 'durationMs'>): TrialConfig {
  const pools = resolveConfig({}).pools;
  return {
    engine: 'paced',
    warmupMs: 5000,
    arrival: 'even',
    seed: 1,
    timeoutMs: 1000,
    studyConcurrency: false,
    connections: 50,
    workload: resolveWorkloadSpec({ preset: 'study' }),
    pools: { primary: { ...pools.primary }, replica: { ...pools.replica } },
    serviceArgs: [],
    sampleIntervalMs: 250,
    ...overrides,
  };
}

export interface TrialResult {
  kind: 'run';
  partial: boolean;
  startedAt: string;
  finishedAt: string;
  config: TrialConfig;
  machine: { cpus: number; cpuModel: string | undefined; memGiB: number; node: string; platform: string };
  service: { url: string; pid: number; stderr: string[] };
  load: PacedRunResult | AutocannonRunResult;
  observation: ObservationResult | null;
  /** Why there is no observation (the observer could not start or stop), when there is none. */
  observerError: string | null;
  split: SplitResult;
  /** Latency spikes of the measured window and what the observer saw during each. */
  spikes: SpikeReport;
  /** CPU per process over the measured window; null if the window never started. */
  cpu: CpuWindow | null;
}

export interface TrialHooks {
  signal?: AbortSignal;
  onSecond?: (second: SecondRecord, live: LiveStatus | undefined) => void;
  onWarning?: (warning: EngineWarning) => void;
  onStatus?: (line: string) => void;
  /**
   * Called once the service process is listening, before any load: lets a caller watch that
   * process for the whole trial (the soak samples its memory). Errors thrown here end the trial.
   */
  onServiceStarted?: (service: { url: string; pid: number }) => void;
}

function poolArgs(prefix: '' | 'replica-', p: PoolConfig): string[] {
  const a = [`--${prefix}pool-max`, String(p.max), `--${prefix}pool-min`, String(p.min)];
  if (prefix === '') {
    a.push(
      '--pool-idle-timeout', `${p.idleTimeoutMs}ms`,
      '--pool-max-lifetime', `${p.maxLifetimeMs}ms`,
      '--pool-acquire-timeout', `${p.acquireTimeoutMs}ms`,
      '--statement-timeout', `${p.statementTimeoutMs}ms`,
    );
  }
  return a;
}

/** Where the trial runs; `embedded` (our own cluster) lets it count PostgreSQL's CPU too. */
export interface TrialTarget {
  primaryUrl: string;
  replicaUrl: string;
  embedded?: { pidOf(node: 'primary' | 'replica'): number | null } | undefined;
}

export async function runTrial(
  cluster: TrialTarget,
  config: TrialConfig,
  env: Readonly<Record<string, string | undefined>>,
  hooks: TrialHooks = {},
): Promise<TrialResult> {
  const startedAt = new Date().toISOString();
  hooks.onStatus?.('starting the service (own process)');
  const service = await startServiceProcess({
    primaryUrl: cluster.primaryUrl,
    replicaUrl: cluster.replicaUrl,
    args: [...poolArgs('', config.pools.primary), ...poolArgs('replica-', config.pools.replica), ...config.serviceArgs],
    env,
  });
  let observation: Promise<Observation | undefined> | undefined;
  let observationStopped = false;
  let observerError: string | null = null;
  const observe = () => {
    // Started from the engine's phase callback, so it must never reject unobserved: a failing
    // observer costs the run its database view (recorded), not the load measurement.
    observation ??= startObservation({
      nodes: [
        { node: 'primary', url: cluster.primaryUrl },
        { node: 'replica', url: cluster.replicaUrl },
      ],
      intervalMs: config.sampleIntervalMs,
    }).catch((e: unknown) => {
      observerError = (e as Error).message;
      hooks.onStatus?.(`observer failed to start: ${observerError}`);
      return undefined;
    });
  };
  const cpuTargets: CpuTargets = {
    servicePid: service.pid,
    ...(cluster.embedded ? { postgres: { primary: cluster.embedded.pidOf('primary'), replica: cluster.embedded.pidOf('replica') } } : {}),
  };
  let cpuStart: CpuReading | undefined;
  let cpuEnd: CpuReading | undefined;
  try {
    // Inside the try: a throwing hook still stops the service.
    hooks.onServiceStarted?.({ url: service.url, pid: service.pid });
    hooks.onStatus?.(`reading the library state from ${service.url}`);
    const snapshot = await fetchLibrarySnapshot(service.url, { books: config.workload.books, readers: config.workload.readers });
    const workload = createWorkload(config.workload, { snapshot });
    let load: PacedRunResult | AutocannonRunResult;
    if (config.engine === 'paced') {
      load = await runPaced({
        url: service.url,
        workload,
        rate: config.rate,
        durationMs: config.durationMs,
        warmupMs: config.warmupMs,
        arrival: config.arrival,
        ...(config.seed !== undefined ? { seed: config.seed } : {}),
        timeoutMs: config.timeoutMs,
        ...(config.studyConcurrency ? STUDY_CONCURRENCY : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onProgress: (s, live) => hooks.onSecond?.(s, live),
        ...(hooks.onWarning ? { onWarning: hooks.onWarning } : {}),
        onPhase: (phase) => {
          if (phase === 'measure') {
            cpuStart = readCpu(cpuTargets);
            observe();
          }
          if (phase === 'drain') cpuEnd = readCpu(cpuTargets);
        },
      });
    } else {
      cpuStart = readCpu(cpuTargets);
      observe();
      load = await runAutocannon({
        url: service.url,
        workload,
        connections: config.connections,
        durationMs: config.durationMs,
        ...(config.rate > 0 ? { overallRate: config.rate } : {}),
        timeoutMs: config.timeoutMs,
        ...(config.seed !== undefined ? { seed: config.seed } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      });
    }
    if (cpuStart && !cpuEnd) cpuEnd = readCpu(cpuTargets);
    const cpu = cpuStart && cpuEnd ? cpuWindow(cpuStart, cpuEnd, load.counters.sent) : null;
    const started = observation ? await observation : undefined;
    const observed = started ? await started.stop().catch((e: unknown) => ((observerError = (e as Error).message), null)) : null;
    observationStopped = true;
    const split = computeSplit({
      endpoints: load.byEndpoint,
      ...(observed ? { statements: observed.statements } : {}),
      clientMeasuredAt: load.label,
    });
    const spikes = detectSpikes(load.seconds, observed?.samplers ?? [], { cpu, pools: config.pools, timeoutMs: config.timeoutMs });
    return {
      kind: 'run',
      partial: load.partial,
      startedAt,
      finishedAt: new Date().toISOString(),
      config,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` },
      service: { url: service.url, pid: service.pid, stderr: service.stderr.slice(-50) },
      load,
      observation: observed,
      observerError,
      split,
      spikes,
      cpu,
    };
  } finally {
    // On an error path, leave no sampler connection behind.
    if (observation && !observationStopped) await (await observation)?.stop().catch(() => undefined);
    hooks.onStatus?.('stopping the service');
    await service.stop();
  }
}
