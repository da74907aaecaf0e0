/**
 * What a node did over a run, from its observer samples (sampler.ts) and the events derived from
 * them (events.ts): cache hits, WAL, replication lag, connections per pool, waits, GIN pending
 * lists, dead tuples, maintenance runs and checkpoints.
 */
import * as ss from 'simple-statistics';
import type { TimelineEvent } from './events.ts';
import type { Sample } from './sample.ts';

export interface SeriesStats {
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export interface NodeSummary {
  samples: number;
  /** Shared-buffer hit ratio over the sampled window, from pg_stat_database deltas. */
  cacheHitRatio: number | null;
  walBytes: number | null;
  walBytesPerSecond: number | null;
  /**
   * Replication lag as esbench defines it (src/cluster/replication-lag.ts): the primary's samples
   * of its standbys, all standbys in one series. Null on a replica (runs saved before this held the
   * replica's replay delay there).
   */
  replicationLagMs: SeriesStats | null;
  replicationLagBytes: SeriesStats | null;
  /**
   * A replica's own view, on its clock, kept apart from the lag above: now − last replayed commit
   * while behind (see ReplicationOnReplica), and received − replayed bytes. Null on a primary;
   * absent in runs saved before it was added.
   */
  replicaReplayDelayMs?: SeriesStats | null;
  replicaReceiveReplayBytes?: SeriesStats | null;
  /** Per application name: mean / max number of connections, and of active ones. */
  connections: Record<string, { mean: number; max: number; activeMean: number; activeMax: number }>;
  /** Wait events of active backends: samples × backends seen waiting on each. */
  waitEvents: Record<string, number>;
  ginPendingPagesMax: Record<string, number>;
  deadTuples: Record<string, { start: number; end: number; max: number }>;
  autovacuumRuns: number;
  checkpoints: number;
}

function stats(values: number[]): SeriesStats | null {
  if (values.length === 0) return null;
  return { mean: ss.mean(values), p50: ss.quantile(values, 0.5), p99: ss.quantile(values, 0.99), max: ss.max(values) };
}

export function summarize(samples: readonly Sample[], events: readonly TimelineEvent[]): NodeSummary {
  const first = samples[0];
  const last = samples[samples.length - 1];
  let cacheHitRatio: number | null = null;
  // Database counters are read once a second (Sample.detail): the first and last samples that have them.
  const firstDb = samples.find((s) => s.database !== null)?.database;
  const lastDb = samples.findLast((s) => s.database !== null)?.database;
  if (firstDb && lastDb) {
    const hit = lastDb.blksHit - firstDb.blksHit;
    const read = lastDb.blksRead - firstDb.blksRead;
    cacheHitRatio = hit + read > 0 ? hit / (hit + read) : null;
  }
  let walBytes: number | null = null;
  let walBytesPerSecond: number | null = null;
  if (first && last && first.walBytes !== null && last.walBytes !== null) {
    walBytes = last.walBytes - first.walBytes;
    const seconds = (last.serverAt - first.serverAt) / 1000;
    walBytesPerSecond = seconds > 0 ? walBytes / seconds : null;
  }
  // Two clocks, two series: the primary's replay_lag (the lag) and the replica's replay delay.
  const lagMs: number[] = [];
  const lagBytes: number[] = [];
  const replicaDelayMs: number[] = [];
  const replicaBytes: number[] = [];
  const perApp = new Map<string, { total: number[]; active: number[] }>();
  const waitEvents: Record<string, number> = {};
  const ginMax: Record<string, number> = {};
  const dead: Record<string, { start: number; end: number; max: number }> = {};
  samples.forEach((s, i) => {
    if ('primary' in s.replication) {
      for (const r of s.replication.primary) {
        if (r.replayLagMs !== null) lagMs.push(r.replayLagMs);
        if (r.lagBytes !== null) lagBytes.push(r.lagBytes);
      }
    } else {
      if (s.replication.replica.replayLagMs !== null) replicaDelayMs.push(s.replication.replica.replayLagMs);
      if (s.replication.replica.receiveReplayBytes !== null) replicaBytes.push(s.replication.replica.receiveReplayBytes);
    }
    const counts = new Map<string, { total: number; active: number }>();
    for (const b of s.backends) {
      const c = counts.get(b.application) ?? { total: 0, active: 0 };
      c.total += b.count;
      if (b.state === 'active') c.active += b.count;
      counts.set(b.application, c);
      if (b.waitEventType !== null) {
        const key = `${b.waitEventType}:${b.waitEvent ?? ''}`;
        waitEvents[key] = (waitEvents[key] ?? 0) + b.count;
      }
    }
    // An application absent from a sample had no connection then: its series gets a 0.
    for (const app of counts.keys()) {
      if (!perApp.has(app)) perApp.set(app, { total: Array<number>(i).fill(0), active: Array<number>(i).fill(0) });
    }
    for (const [app, series] of perApp) {
      series.total.push(counts.get(app)?.total ?? 0);
      series.active.push(counts.get(app)?.active ?? 0);
    }
    for (const g of s.gin) ginMax[g.index] = Math.max(ginMax[g.index] ?? 0, g.pendingPages);
    for (const t of s.tables) {
      const d = dead[t.relation];
      if (!d) dead[t.relation] = { start: t.deadTuples, end: t.deadTuples, max: t.deadTuples };
      else {
        d.end = t.deadTuples;
        d.max = Math.max(d.max, t.deadTuples);
      }
    }
  });
  const connections: NodeSummary['connections'] = {};
  for (const [app, series] of perApp) {
    connections[app || '(none)'] = {
      mean: ss.mean(series.total),
      max: ss.max(series.total),
      activeMean: ss.mean(series.active),
      activeMax: ss.max(series.active),
    };
  }
  return {
    samples: samples.length,
    cacheHitRatio,
    walBytes,
    walBytesPerSecond,
    replicationLagMs: stats(lagMs),
    replicationLagBytes: stats(lagBytes),
    replicaReplayDelayMs: stats(replicaDelayMs),
    replicaReceiveReplayBytes: stats(replicaBytes),
    connections,
    waitEvents,
    ginPendingPagesMax: ginMax,
    deadTuples: dead,
    autovacuumRuns: events.filter((e) => e.kind === 'maintenance' && e.auto && e.operation === 'vacuum').length,
    checkpoints: events.filter((e) => e.kind === 'checkpoint').length,
  };
}
