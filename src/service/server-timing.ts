import type { Timing } from '../store/db-pool.ts';

/**
 * `Server-Timing: pool;dur=…, db;dur=…, app;dur=…, total;dur=…` (ms, 3 decimals).
 * app = total − pool − db: everything the service did besides waiting for and talking to PostgreSQL.
 */
export function serverTimingHeader(timing: Timing, totalMs: number): string {
  const app = Math.max(0, totalMs - timing.poolWaitMs - timing.dbMs);
  const f = (n: number) => n.toFixed(3);
  return `pool;dur=${f(timing.poolWaitMs)}, db;dur=${f(timing.dbMs)}, app;dur=${f(app)}, total;dur=${f(totalMs)}`;
}
