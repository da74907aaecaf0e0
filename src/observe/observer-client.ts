/**
 * How the observer talks to a node without disturbing what it measures: its own connection, named
 * `esbench_observer` (so backend counts leave it out), and every statement it sends tagged with
 * `/* esbench:observer *\/` (so statement statistics leave its queries out too).
 */
import { APPLICATION_NAMES } from '../core/application-names.ts';
import pg from 'pg';

export const OBSERVER_APPLICATION_NAME = APPLICATION_NAMES.observer;

/** The statement-name tag of the observer's own SQL (see statementName). */
export const OBSERVER_STATEMENT = 'observer';

/** The tag that ends every SQL text the observer sends (observerSql appends it). */
export const OBSERVER_TAG = `/* esbench:${OBSERVER_STATEMENT} */`;

/**
 * The observer's statements carry their tag at the END: PostgreSQL 18's pg_stat_statements drops
 * leading comments from the stored text (15-17 keep them), so only a trailing tag identifies them
 * on every version.
 */
export const observerSql = (sql: string): string => `${sql} ${OBSERVER_TAG}`;

/**
 * The service's store ends every statement it sends with `/* esbench:<name> *\/` (src/store/db-pool.ts;
 * trailing, since PostgreSQL 18 drops leading comments). pg_stat_statements keeps the text of the
 * first execution of each normalised statement, that comment included, so the name can be read back
 * from its `query` column. Note that queryid ignores comments: the same SQL sent under two names
 * shares one entry and keeps the first name (why the store also adds a per-endpoint CTE).
 */
const NAME = /\/\*\s*esbench:([A-Za-z0-9_.:@-]+)\s*\*\//;

export function statementName(query: string): string | null {
  return NAME.exec(query)?.[1] ?? null;
}

export interface ObserverConnectOptions {
  connectTimeoutMs?: number;
  /** Server-side cap on each observer statement, so a stuck catalog lock cannot stall sampling. */
  statementTimeoutMs?: number;
}

export async function connectObserver(url: string, options: ObserverConnectOptions = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: OBSERVER_APPLICATION_NAME,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    // The sample statements are prepared; planning them costs ~8 ms each (measured, PG 17), more
    // than running them. By default PostgreSQL plans a prepared statement afresh for its first
    // five executions (and for ever if the generic plan looks costlier): plan it once.
    options: '-c plan_cache_mode=force_generic_plan',
  });
  // An idle client whose server goes away emits 'error'; without a listener that would crash the
  // process. The next query reports the failure instead.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** server_version_num and recovery state: the observer's SQL depends on both. */
export async function nodeInfo(client: pg.ClientBase): Promise<{ serverVersionNum: number; inRecovery: boolean; database: string }> {
  const r = await client.query<{ v: string; rec: boolean; db: string }>(
    observerSql(`SELECT current_setting('server_version_num') AS v, pg_is_in_recovery() AS rec, current_database() AS db`),
  );
  const row = r.rows[0]!;
  return { serverVersionNum: Number(row.v), inRecovery: row.rec, database: row.db };
}
