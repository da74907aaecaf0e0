/**
 * One trial: the service in its own process with the trial's pool settings, a load engine against
 * it, the observer on both nodes during the measured window, and the split of the measured time.
 * `esbench run` is one trial; the tuner and the study run many.
 */
import os from 'node:os';
import { mergeDeep, resolveConfig, type Config, type ConfigInput, type PoolConfig, type ServiceConfig } from '../core/config.ts';
import { runAutocannon, type AutocannonRunResult } from '../load/autocannon-engine.ts';
import { runPaced, STUDY_CONCURRENCY, type EngineWarning, type LiveStatus, type PacedEngineOptions, type PacedRunResult } from '../load/paced-engine.ts';
import { runPacedWorkers } from '../load/paced-workers.ts';
import type { SecondRecord } from '../load/latency-recorder.ts';
import { startServiceProcess } from '../load/service-process.ts';
import { createWorkload, fetchLibrarySnapshot, resolveWorkloadSpec, type WorkloadSpec } from '../load/workload.ts';
import { cpuWindow, readCpu, type CpuReading, type CpuTargets, type CpuWindow } from '../observe/cpu-meter.ts';
import { startObservation, type Observation, type ObservationResult } from '../observe/observation.ts';
import { DEFAULT_SAMPLE_INTERVAL_MS } from '../observe/sampler.ts';
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
  /** Paced: generator processes sharing the schedule (1 = in this process). */
  workers?: number;
  /** autocannon: connections (closed loop). */
  connections: number;
  workload: WorkloadSpec;
  /** The service's pools, whole (handed to its process as `serve --config -`). */
  pools: { primary: PoolConfig; replica: PoolConfig };
  /** The service's settings, whole (strategy, decisions, snapshot threshold, read-from, retries...). */
  service: ServiceConfig;
  sampleIntervalMs: number;
}

/** A trial with esbench's defaults (the study's workload, paced even arrivals, 1 s timeout, default pools). */
export function trialConfig(overrides: Partial<TrialConfig> & Pick<TrialConfig, 'rate' | 'durationMs'>): TrialConfig {
  const { pools, service } = resolveConfig({});
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
    service: structuredClone(service) as ServiceConfig,
    sampleIntervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
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

/** A trial's pools and service settings with a patch applied (a sweep level's), validated. */
export function withServicePatch(config: TrialConfig, patch: ConfigInput): TrialConfig {
  const merged = resolveConfig(mergeDeep<ConfigInput>({ pools: config.pools, service: config.service }, { pools: patch.pools, service: patch.service }), {});
  return { ...config, pools: structuredClone(merged.pools) as Config['pools'], service: structuredClone(merged.service) as ServiceConfig };
}

/** The whole config the trial's service runs with. */
export function serviceProcessConfig(config: TrialConfig, target: { primaryUrl: string; replicaUrl: string }): Readonly<Config> {
  return resolveConfig({ cluster: { primaryUrl: target.primaryUrl, replicaUrl: target.replicaUrl }, pools: config.pools, service: { ...config.service, port: 0 } }, {});
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
    config: serviceProcessConfig(config, cluster),
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
  let generatorPids: number[] = [];
  const cpuTargets: CpuTargets = {
    servicePid: service.pid,
    get generatorPids() {
      return generatorPids;
    },
    ...(cluster.embedded ? { postgres: { primary: cluster.embedded.pidOf('primary'), replica: cluster.embedded.pidOf('replica') } } : {}),
  };
  let cpuStart: CpuReading | undefined;
  let cpuEnd: CpuReading | undefined;
  try {
    // Inside the try: a throwing hook still stops the service.
    hooks.onServiceStarted?.({ url: service.url, pid: service.pid });
    hooks.onStatus?.(`reading the library state from ${service.url}`);
    // No more requests at once than the primary pool keeps open: a burst here opened connections that
    // outlived the window by the idle timeout and counted against the pool (the study's "connection
    // use balanced" criterion saw 11 open with MinConns 2).
    const concurrency = Math.max(1, Math.min(8, config.pools.primary.min));
    const snapshot = await fetchLibrarySnapshot(service.url, { books: config.workload.books, readers: config.workload.readers, concurrency });
    const workload = createWorkload(config.workload, { snapshot });
    let load: PacedRunResult | AutocannonRunResult;
    if (config.engine === 'paced') {
      const workers = config.workers ?? 1;
      load = await (workers > 1
        ? (o: Omit<PacedEngineOptions, 'workload'>) =>
            runPacedWorkers({ ...o, workers, spec: config.workload, snapshot, onWorkers: (pids) => (generatorPids = [...pids]) })
        : (o: Omit<PacedEngineOptions, 'workload'>) => runPaced({ ...o, workload }))({
        url: service.url,
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
      probes: load.probes ?? [],
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
