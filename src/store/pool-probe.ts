/**
 * A calibration probe: a trivial statement (`SELECT $1::int`, i.e. SELECT 1) on a service pool,
 * four times a second (on a busy machine single readings range from 0.5 to 100+ ms: the mean needs
 * many). Its round trip, as the service measures any statement's, is what a round trip costs besides the work the
 * database reports: the wire, the database backend's and the service's wake-ups (a busy event loop
 * delays the reading of every result, the probe's too), and a one-row decode. Subtracting the
 * probe's own execution and planning (pg_stat_statements, statement `probe`) leaves the part that
 * every round trip of a request pays as well.
 *
 * The latest reading is handed to every response (Server-Timing `probe`, with its sequence number),
 * so a load generator collects the distinct readings of its measured window without another
 * connection to the service.
 */
import { Timing, type DbPool } from './db-pool.ts';

export const PROBE_STATEMENT = 'probe';
/** Extended protocol (a bound parameter), as every statement of the service. */
export const PROBE_SQL = 'SELECT $1::int AS one';

export interface ProbeReading {
  /** Increases by one per completed probe. */
  seq: number;
  /** Statement send → result, ms (service clock). */
  ms: number;
  at: number;
}

export interface PoolProbe {
  latest(): ProbeReading | undefined;
  stop(): void;
}

export function startPoolProbe(pool: DbPool, intervalMs = 250): PoolProbe {
  let latest: ProbeReading | undefined;
  let seq = 0;
  let busy = false;
  const run = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const timing = new Timing();
      await pool.query(PROBE_STATEMENT, PROBE_SQL, [1], timing);
      seq += 1;
      latest = { seq, ms: timing.dbMs, at: Date.now() };
    } catch {
      // A node down: no reading this second (requests say so themselves).
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  void run();
  return {
    latest: () => latest,
    stop: () => clearInterval(timer),
  };
}
