/**
 * /health reports both nodes and the replica's lag; it exposes no event data. /metrics is the
 * app's own Registry.
 */
import type { FastifyInstance } from 'fastify';
import type { AppServices } from '../app-services.ts';

interface NodeHealth {
  up: boolean;
  inRecovery: boolean | null;
  error?: string;
}

const REPLICA_LAG_SQL = `SELECT pg_is_in_recovery() AS in_recovery,
  CASE WHEN NOT pg_is_in_recovery() THEN NULL
       WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
       ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000 END AS lag_ms`;

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  primary: NodeHealth;
  replica: NodeHealth;
  /** Replay lag measured on the replica (ms); 0 when it has replayed all it received. */
  replicationLagMs: number | null;
}

export async function checkHealth(s: AppServices): Promise<HealthReport> {
  const [p, r] = await Promise.allSettled([
    s.primary.query<{ in_recovery: boolean }>('health', 'SELECT pg_is_in_recovery() AS in_recovery'),
    s.replica.query<{ in_recovery: boolean; lag_ms: number | null }>('health_replica', REPLICA_LAG_SQL),
  ]);
  const node = (x: PromiseSettledResult<{ rows: Array<{ in_recovery: boolean }> }>): NodeHealth =>
    x.status === 'fulfilled'
      ? { up: true, inRecovery: x.value.rows[0]?.in_recovery ?? null }
      : { up: false, inRecovery: null, error: (x.reason as { code?: string }).code ?? 'UNREACHABLE' };
  const primary = node(p);
  const replica = node(r);
  const lag = r.status === 'fulfilled' ? r.value.rows[0]?.lag_ms : null;
  const replicationLagMs = lag === null || lag === undefined ? null : Number(lag);
  if (replicationLagMs !== null) s.metrics.replicaLag.set(replicationLagMs / 1000);
  return { status: !primary.up ? 'down' : replica.up ? 'ok' : 'degraded', primary, replica, replicationLagMs };
}

export function registerHealthRoutes(app: FastifyInstance, s: AppServices): void {
  app.get('/health', async (_request, reply) => {
    const report = await checkHealth(s);
    return reply.status(report.status === 'down' ? 503 : 200).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await s.metrics.registry.metrics();
    return reply.type(s.metrics.registry.contentType).send(body);
  });

  // Keep the lag gauge fresh for Prometheus even when nobody calls /health.
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => void checkHealth(s).catch(() => {}), 5000);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
  });
}
