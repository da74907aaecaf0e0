/** The figures a sweep or a capacity search takes from one trial (run.json). */
import type { TrialResult } from './trial.ts';

export interface TrialSummary {
  /** Client latency (load generator), ms. */
  p50: number | null;
  p99: number | null;
  mean: number | null;
  timeouts: number;
  /** 5xx + transport errors. */
  errors: number;
  sent: number;
  dropped: number;
  achievedRate: number | null;
  /** Service: mean pool wait per request (Server-Timing pool), ms, over all endpoints. */
  poolWaitMs: number | null;
  /** Service: mean DB round trip per request (Server-Timing db, statements summed), ms: a lower bound of the connection hold time. */
  dbRoundTripMs: number | null;
  /** Database: mean DB execution per request (pg_stat_statements), ms. */
  dbExecutionMs: number | null;
  /** CPU per request over the measured window (/proc), ms, and the busiest process's cores. */
  cpuMsPerRequest: number | null;
  busiestProcess: { process: string; cores: number } | null;
  cpus: number;
  generatorWarnings: string[];
  /** Latency spikes the observer tied to (advisory) lock waits, with their evidence. */
  lockWaits: string[];
  partial: boolean;
}

function weightedRow(result: TrialResult, component: string): number | null {
  let sum = 0;
  let n = 0;
  for (const e of result.split?.endpoints ?? []) {
    const row = e.rows.find((r) => r.component === component);
    if (!row || row.mean === null || row.count === null || row.count === 0) continue;
    sum += row.mean * row.count;
    n += row.count;
  }
  return n === 0 ? null : sum / n;
}

export function summarizeTrial(result: TrialResult): TrialSummary {
  const load = result.load;
  const c = load.counters;
  const busiest = (result.cpu?.processes ?? []).filter((p) => p.cores !== null).sort((a, b) => (b.cores ?? 0) - (a.cores ?? 0))[0];
  return {
    p50: load.latency.p50,
    p99: load.latency.p99,
    mean: load.latency.mean,
    timeouts: c.timeouts,
    errors: c.http5xx + c.transportErrors,
    sent: c.sent,
    dropped: c.dropped,
    achievedRate: load.engine === 'paced' ? load.achievedRate : load.completedRate,
    poolWaitMs: weightedRow(result, 'poolWait'),
    dbRoundTripMs: weightedRow(result, 'dbRoundTrip'),
    dbExecutionMs: weightedRow(result, 'dbExecution'),
    cpuMsPerRequest: result.cpu?.totalMsPerRequest ?? null,
    busiestProcess: busiest ? { process: busiest.process, cores: busiest.cores ?? 0 } : null,
    cpus: result.cpu?.cpus ?? result.machine?.cpus ?? 1,
    generatorWarnings: load.engine === 'paced' ? load.warnings.map((w) => w.message) : [],
    lockWaits: (result.spikes?.spikes ?? []).flatMap((s) => s.causes.filter((c) => c.kind === 'lock wait' || c.kind === 'advisory lock wait').map((c) => `${c.kind} on ${c.node ?? '?'}: ${c.evidence}`)),
    partial: result.partial,
  };
}
