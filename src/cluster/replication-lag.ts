/**
 * Replication lag, the one definition esbench uses: per standby, as the PRIMARY's WAL sender sees
 * it. replay_lag is the time from WAL being flushed on the primary to the standby reporting it
 * replayed (the primary's clock only, so no clock skew; NULL once the standby has caught up and
 * nothing is written, which is 0 lag), plus the WAL bytes not yet replayed. Used by
 * `cluster status`, the service's /health and its esbench_replica_lag_seconds gauge, and the
 * observer's samples of the primary (src/observe/sample-sql.ts builds its columns from the two
 * expressions below); esbench health's sql/health/09_replication.sql computes the same columns
 * for psql users (a test keeps them equal).
 *
 * Not now() - pg_last_xact_replay_timestamp() on the replica: that grows while the primary is idle.
 * The observer samples that too on the replica, but as a different, labelled figure (the
 * replica's replay delay, see ReplicationOnReplica in src/observe/sample.ts), never as this one.
 */
import type pg from 'pg';

/**
 * The replay lag of a standby, ms, from a row of pg_stat_replication or pg_stat_get_wal_senders()
 * (same column names; `alias` qualifies them): replay_lag, 0 when NULL.
 */
export function replayLagMsSql(alias?: string): string {
  return `coalesce(extract(epoch FROM ${alias === undefined ? '' : `${alias}.`}replay_lag) * 1000, 0)::float8`;
}

/** The WAL bytes a standby has not replayed yet (NULL before it reported any), from the same row. */
export function replayLagBytesSql(alias?: string): string {
  return `pg_wal_lsn_diff(pg_current_wal_lsn(), ${alias === undefined ? '' : `${alias}.`}replay_lsn)::bigint`;
}

/** Per standby, newest connection first. */
export const REPLICATION_LAG_SQL = `SELECT application_name::text AS application_name, state::text AS state,
       ${replayLagMsSql()} AS replay_lag_ms,
       ${replayLagBytesSql()} AS replay_lag_bytes
  FROM pg_stat_replication
 ORDER BY backend_start DESC`;

export interface ReplicationLag {
  applicationName: string;
  state: string;
  replayLagMs: number;
  /** WAL bytes the standby has not replayed yet; null before it reported any. */
  replayLagBytes: number | null;
}

/** A row of REPLICATION_LAG_SQL as pg returns it. */
export interface ReplicationLagRow {
  application_name: string;
  state: string;
  replay_lag_ms: number;
  replay_lag_bytes: string | null;
}

export function replicationLagFromRows(rows: readonly ReplicationLagRow[]): ReplicationLag[] {
  return rows.map((r) => ({
    applicationName: r.application_name,
    state: r.state,
    replayLagMs: Number(r.replay_lag_ms),
    replayLagBytes: r.replay_lag_bytes === null ? null : Number(r.replay_lag_bytes),
  }));
}

/** Anything that runs a query: a pg.Client, or a pool wrapper adapted to it. */
export type Queryable = Pick<pg.Client, 'query'>;

/** The lag of each standby of the primary behind `client` (empty: no standby connected). */
export async function replicationLag(client: Queryable): Promise<ReplicationLag[]> {
  const r = await client.query<ReplicationLagRow>(REPLICATION_LAG_SQL);
  return replicationLagFromRows(r.rows);
}
