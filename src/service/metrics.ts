/**
 * The service's Prometheus metrics (names documented in docs/metrics.md). One Registry per app, so
 * two apps in one process (tests) never share state.
 */
import client from 'prom-client';
import type { PoolObserver, PoolStats } from '../store/db-pool.ts';
import type { CommandObserver } from '../domain/command-handler.ts';

// Sub-millisecond resolution matters: the study's DB time per call is ~0.8 ms.
const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface ServiceMetrics {
  registry: client.Registry;
  httpDuration: client.Histogram<'route' | 'method' | 'status_code'>;
  replicaLag: client.Gauge;
  poolObserver: PoolObserver;
  commandObserver: CommandObserver;
}

/**
 * Children of a labelled metric by a string key, made on first use. Bounded: label values that are
 * not a small fixed set (arbitrary statement names) fall back to a fresh child, never grow it.
 */
export function childCache<C>(make: (key: string) => C, max = 1000): (key: string) => C {
  const children = new Map<string, C>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) {
      child = make(key);
      if (children.size < max) children.set(key, child);
    }
    return child;
  };
}

export function createMetrics(pools: () => Record<string, PoolStats>): ServiceMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'esbench_' });
  const httpDuration = new client.Histogram({
    name: 'esbench_http_request_duration_seconds',
    help: 'Server time per request (received to response sent), by route and status',
    labelNames: ['route', 'method', 'status_code'] as const,
    buckets: FAST_BUCKETS,
    registers: [registry],
  });
  const dbRoundtrip = new client.Histogram({
    name: 'esbench_db_roundtrip_seconds',
    help: 'One statement round trip as the service sees it, by statement name and pool',
    labelNames: ['statement', 'pool'] as const,
    buckets: FAST_BUCKETS,
    registers: [registry],
  });
  const acquireWait = new client.Histogram({
    name: 'esbench_pool_acquire_wait_seconds',
    help: 'Time waiting for a pooled connection',
    labelNames: ['pool'] as const,
    buckets: FAST_BUCKETS,
    registers: [registry],
  });
  const gauge = (name: string, help: string, pick: (s: PoolStats) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers: [registry],
      collect() {
        for (const [pool, stats] of Object.entries(pools())) this.set({ pool }, pick(stats));
      },
    });
  gauge('esbench_pool_total_connections', 'Connections open in the pool', (s) => s.total);
  gauge('esbench_pool_idle_connections', 'Open connections not checked out', (s) => s.idle);
  gauge('esbench_pool_waiting_clients', 'Requests queued for a connection', (s) => s.waiting);
  gauge('esbench_pool_max_connections', 'Configured pool maximum', (s) => s.max);
  const conflicts = new client.Counter({
    name: 'esbench_concurrency_conflicts_total',
    help: 'Conditional appends rejected because the boundary moved',
    labelNames: ['command'] as const,
    registers: [registry],
  });
  const retries = new client.Counter({
    name: 'esbench_command_retries_total',
    help: 'Command retries after a conflict',
    labelNames: ['command'] as const,
    registers: [registry],
  });
  const rejections = new client.Counter({
    name: 'esbench_domain_rejections_total',
    help: 'Commands refused by a business rule',
    labelNames: ['command', 'code'] as const,
    registers: [registry],
  });
  const folded = new client.Histogram({
    name: 'esbench_decision_events_folded',
    help: 'Events folded by a command decision, by command and decision mode (full | snapshot)',
    labelNames: ['command', 'mode'] as const,
    buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    registers: [registry],
  });
  const snapshotOps = new client.Counter({
    name: 'esbench_snapshot_operations_total',
    help: 'Snapshot hits, misses, writes and write failures, by projection',
    labelNames: ['projection', 'outcome'] as const,
    registers: [registry],
  });
  const replicaLag = new client.Gauge({
    name: 'esbench_replica_lag_seconds',
    help: 'Replay lag of the replica (refreshed by /health and every 5 s)',
    registers: [registry],
  });
  // Pre-create the conflict/retry series for every command so dashboards show 0 instead of nothing.
  for (const command of ['add-book-copy', 'remove-book-copy', 'lend-book-copy', 'return-book-copy', 'register-reader', 'cancel-reader', 'append']) {
    conflicts.labels({ command }).inc(0);
    retries.labels({ command }).inc(0);
  }
  // The per-statement series are observed ~5 times per command: their children are looked up by
  // one string instead of prom-client building and checking a label object on every call.
  const roundtrip = childCache((key) => {
    const [pool, statement] = key.split('\u0000') as [string, string];
    return dbRoundtrip.labels({ pool, statement });
  });
  const acquired = childCache((pool) => acquireWait.labels({ pool }));
  const foldedSeries = childCache((key) => {
    const [command, mode] = key.split('\u0000') as [string, string];
    return folded.labels({ command, mode });
  });
  const snapshotSeries = childCache((key) => {
    const [projection, outcome] = key.split('\u0000') as [string, string];
    return snapshotOps.labels({ projection, outcome });
  });
  return {
    registry,
    httpDuration,
    replicaLag,
    poolObserver: {
      acquired: (pool, ms) => acquired(pool).observe(ms / 1000),
      statement: (pool, statement, ms) => roundtrip(`${pool}\u0000${statement}`).observe(ms / 1000),
    },
    commandObserver: {
      conflict: (command) => conflicts.inc({ command }),
      retry: (command) => retries.inc({ command }),
      rejected: (command, code) => rejections.inc({ command, code }),
      // Once or twice per command each: children by key, as for the statement series.
      folded: (command, mode, n) => foldedSeries(`${command}\u0000${mode}`).observe(n),
      snapshot: (projection, outcome) => snapshotSeries(`${projection}\u0000${outcome}`).inc(),
    },
  };
}
