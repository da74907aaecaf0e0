import type { Timing } from '../store/db-pool.ts';
import type { ProbeReading } from '../store/pool-probe.ts';

/**
 * `Server-Timing: pool;dur=…, db;dur=…;desc="primary.query@lend-book-copy:2 primary.append@lend-book-copy:1",
 *  decode;dur=…;desc="rt=2 rows=120 bytes=45210", probe;dur=…;desc="seq=57", app;dur=…, total;dur=…`
 * (ms, 3 decimals). app = total − pool − db: everything the service did besides waiting for and
 * talking to PostgreSQL. db's desc counts the statements by pool and tag (`name@endpoint`, the tag
 * pg_stat_statements shows), so a load generator can attribute each endpoint its own statements'
 * execution time, also in a mixed workload. decode (part of db) is the driver's time from each
 * result's first message to its end, with round trips, rows and bytes received; probe is the
 * latest calibration round trip of a trivial statement on the primary pool (see pool-probe.ts).
 */
export function serverTimingHeader(timing: Timing, totalMs: number, probe?: ProbeReading): string {
  const app = Math.max(0, totalMs - timing.poolWaitMs - timing.dbMs);
  const f = (n: number) => n.toFixed(3);
  const calls = [...timing.calls].map(([k, n]) => `${k}:${n}`).join(' ');
  const desc = calls ? `;desc="${calls}"` : '';
  const decode = timing.roundTrips > 0 ? `, decode;dur=${f(timing.decodeMs)};desc="rt=${timing.roundTrips} rows=${timing.rows} bytes=${timing.bytes}"` : '';
  const probed = probe ? `, probe;dur=${f(probe.ms)};desc="seq=${probe.seq}"` : '';
  return `pool;dur=${f(timing.poolWaitMs)}, db;dur=${f(timing.dbMs)}${desc}${decode}${probed}, app;dur=${f(app)}, total;dur=${f(totalMs)}`;
}
