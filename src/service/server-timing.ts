import type { Timing } from '../store/db-pool.ts';

/**
 * `Server-Timing: pool;dur=…, db;dur=…;desc="primary.query:2 primary.append:1", app;dur=…, total;dur=…`
 * (ms, 3 decimals). app = total − pool − db: everything the service did besides waiting for and
 * talking to PostgreSQL. db's desc counts the statements by pool and name, so a load generator can
 * attribute pg_stat_statements execution time to each endpoint, also in a mixed workload.
 */
export function serverTimingHeader(timing: Timing, totalMs: number): string {
  const app = Math.max(0, totalMs - timing.poolWaitMs - timing.dbMs);
  const f = (n: number) => n.toFixed(3);
  const calls = [...timing.calls].map(([k, n]) => `${k}:${n}`).join(' ');
  const desc = calls ? `;desc="${calls}"` : '';
  return `pool;dur=${f(timing.poolWaitMs)}, db;dur=${f(timing.dbMs)}${desc}, app;dur=${f(app)}, total;dur=${f(totalMs)}`;
}
