/**
 * The figures the study's verdicts read from one saved trial (run.json = TrialResult): client
 * latency and timeouts (generator), app overhead (service, Server-Timing), spikes and their causes,
 * cache hit, replication lag and connections per pool (observer), CPU per process (/proc).
 * Verdicts are computed from these, so they can be recomputed from the saved runs alone.
 */
import { POOL_APPLICATION_NAMES, type SamplerResult } from '../observe/sampler.ts';
import type { TrialResult } from '../tuner/trial.ts';

export type TrialPhase = 'capacity' | 'ablation' | 'study-pair' | 'scaled-pair';

export interface PoolUse {
  /** Pool's connections open on its node (mean / max over the samples). */
  openMean: number;
  openMax: number;
  activeMean: number;
  activeMax: number;
  /** The pool's configured max (MaxConns). */
  poolMax: number;
  poolMin: number;
}

export interface TimeoutSpike {
  firstSecond: number;
  lastSecond: number;
  timeouts: number;
  causes: string[];
}

export interface TrialFigures {
  /** Level key (`original`, `original+pool-min`, `tuned`, ...). */
  key: string;
  phase: TrialPhase;
  rate: number;
  rep: number;
  /** run.json of the trial, relative to the study directory. */
  path: string;
  partial: boolean;
  windowSeconds: number;
  sent: number;
  ok: number;
  timeouts: number;
  dropped: number;
  http5xx: number;
  poolTimeouts: number;
  achievedRate: number | null;
  /** Client latency over the measured window, ms (generator, from the intended send time). */
  meanMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Server time − DB round trip − pool wait, mean over every response (service, Server-Timing), ms. */
  appOverheadMs: number | null;
  poolWaitMs: number | null;
  spikes: number;
  timeoutSpikes: TimeoutSpike[];
  /** Period of the run's spikes (three or more), seconds. */
  spikePeriodSeconds: number | null;
  cacheHit: { primary: number | null; replica: number | null };
  /** p99 of the primary's replay lag (pg_stat_replication), else the replica's own estimate, ms. */
  replicationLagP99Ms: number | null;
  pools: { primary: PoolUse | null; replica: PoolUse | null };
  /** Max GIN pending pages seen on the primary, per index. */
  ginPendingPagesMax: Record<string, number>;
  cpu: { totalMsPerRequest: number | null; cores: Record<string, number | null>; cpuBoundRateEstimate: number | null } | null;
  /** The generator's event-loop delay p99 (ms): large when the machine's CPUs were busy with other work. */
  generatorDelayP99Ms?: number | null;
}

function sampler(run: TrialResult, node: string): SamplerResult | undefined {
  return run.observation?.samplers.find((s) => s.node === node);
}

function poolUse(s: SamplerResult | undefined, app: string, max: number, min: number): PoolUse | null {
  const c = s?.summary.connections[app];
  if (!c) return null;
  return { openMean: c.mean, openMax: c.max, activeMean: c.activeMean, activeMax: c.activeMax, poolMax: max, poolMin: min };
}

/** Mean of a split row over every endpoint, weighted by its requests. */
function splitMean(run: TrialResult, component: 'appOverhead' | 'poolWait'): number | null {
  let sum = 0;
  let n = 0;
  for (const e of run.split.endpoints) {
    const row = e.rows.find((r) => r.component === component);
    if (row?.mean === null || row?.mean === undefined || row.count === null || row.count === 0) continue;
    sum += row.mean * row.count;
    n += row.count;
  }
  return n > 0 ? sum / n : null;
}

export function figuresOf(run: TrialResult, meta: { key: string; phase: TrialPhase; rate: number; rep: number; path: string }): TrialFigures {
  const load = run.load;
  const c = load.counters;
  const primary = sampler(run, 'primary');
  const replica = sampler(run, 'replica');
  const measureStarted = load.engine === 'paced' ? load.measureStartedAt : null;
  const measureEnded = load.engine === 'paced' ? load.measureEndedAt : null;
  const windowSeconds = measureStarted !== null && measureEnded !== null ? (measureEnded - measureStarted) / 1000 : run.config.durationMs / 1000;
  const [primaryApp, replicaApp] = POOL_APPLICATION_NAMES;
  // Replication lag as the primary's WAL sender sees it (src/cluster/replication-lag.ts): the
  // replica's own replay delay is another clock's figure and is not a fallback for it.
  const lag = primary?.summary.replicationLagMs ?? null;
  return {
    ...meta,
    partial: run.partial,
    windowSeconds,
    sent: c.sent,
    ok: c.ok,
    timeouts: c.timeouts,
    dropped: c.dropped,
    http5xx: c.http5xx,
    poolTimeouts: c.errorCodes.POOL_TIMEOUT ?? 0,
    achievedRate: load.engine === 'paced' ? load.achievedRate : load.completedRate,
    meanMs: load.latency.mean,
    p50Ms: load.latency.p50,
    p99Ms: load.latency.p99,
    appOverheadMs: splitMean(run, 'appOverhead'),
    poolWaitMs: splitMean(run, 'poolWait'),
    spikes: run.spikes.spikes.length,
    timeoutSpikes: run.spikes.spikes
      .filter((s) => s.timeouts > 0)
      .map((s) => ({ firstSecond: s.firstSecond, lastSecond: s.lastSecond, timeouts: s.timeouts, causes: s.causes.map((x) => `${x.kind}${x.node ? ` (${x.node})` : ''}: ${x.evidence}`) })),
    spikePeriodSeconds: run.spikes.period?.meanSeconds ?? null,
    cacheHit: { primary: primary?.summary.cacheHitRatio ?? null, replica: replica?.summary.cacheHitRatio ?? null },
    replicationLagP99Ms: lag?.p99 ?? null,
    pools: {
      primary: poolUse(primary, primaryApp, run.config.pools.primary.max, run.config.pools.primary.min),
      replica: poolUse(replica, replicaApp, run.config.pools.replica.max, run.config.pools.replica.min),
    },
    ginPendingPagesMax: primary?.summary.ginPendingPagesMax ?? {},
    generatorDelayP99Ms: load.engine === 'paced' ? load.client.eventLoopDelayP99Ms : null,
    cpu: run.cpu
      ? {
          totalMsPerRequest: run.cpu.totalMsPerRequest,
          cores: Object.fromEntries(run.cpu.processes.map((p) => [p.process, p.cores])),
          cpuBoundRateEstimate: run.cpu.cpuBoundRateEstimate,
        }
      : null,
  };
}
