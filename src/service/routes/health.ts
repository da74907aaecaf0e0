/**
 * /health reports both nodes and the replica's lag; it exposes no event data. /metrics is the
 * app's own Registry.
 */
import type { FastifyInstance } from 'fastify';
import { REPLICATION_LAG_SQL, replicationLagFromRows, type ReplicationLagRow } from '../../cluster/replication-lag.ts';
import type { AppServices } from '../app-services.ts';

interface NodeHealth {
  up: boolean;
  inRecovery: boolean | null;
  error?: string;
}

/** The service's /health answer (`esbench health`'s report is HealthReport, another thing). */
export interface ServiceHealth {
  status: 'ok' | 'degraded' | 'down';
  primary: NodeHealth;
  replica: NodeHealth;
  /** Replay lag of the newest standby as the primary sees it (ms; src/cluster/replication-lag.ts); null without one. */
  replicationLagMs: number | null;
}

export async function checkHealth(s: AppServices): Promise<ServiceHealth> {
  const [p, r, lag] = await Promise.allSettled([
    s.primary.query<{ in_recovery: boolean }>('health', 'SELECT pg_is_in_recovery() AS in_recovery'),
    s.replica.query<{ in_recovery: boolean }>('health_replica', 'SELECT pg_is_in_recovery() AS in_recovery'),
    s.primary.query<ReplicationLagRow>('replication_lag', REPLICATION_LAG_SQL),
  ]);
  const node = (x: PromiseSettledResult<{ rows: Array<{ in_recovery: boolean }> }>): NodeHealth =>
    x.status === 'fulfilled'
      ? { up: true, inRecovery: x.value.rows[0]?.in_recovery ?? null }
      : { up: false, inRecovery: null, error: (x.reason as { code?: string }).code ?? 'UNREACHABLE' };
  const primary = node(p);
  const replica = node(r);
  const standby = lag.status === 'fulfilled' && replica.up ? replicationLagFromRows(lag.value.rows)[0] : undefined;
  const replicationLagMs = standby ? standby.replayLagMs : null;
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
