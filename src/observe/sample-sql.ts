/**
 * The one statement of an observer sample (see sampler.ts, which runs it), for a node's version
 * and role, the statement that finds what it looks at (TARGETS_SQL), and the decoding of its row
 * into a Sample.
 *
 * One round trip per sample: a single statement returns everything as JSON, so the sampler's load
 * on the node is one short query per interval. Its SQL is tagged (observerSql), so statement
 * statistics do not include it.
 *
 * Version differences handled (chosen once, from server_version_num):
 * - checkpoint counters: pg_stat_checkpointer (17+; num_done from 18) vs pg_stat_bgwriter (< 17).
 *   The counters alone cannot date a checkpoint and on 17 num_timed also counts skipped ones, so
 *   the completed checkpoint is detected from pg_control_checkpoint().checkpoint_time (written only
 *   when a checkpoint or restartpoint completes; second resolution).
 * - primary vs replica: WAL position (current vs replay LSN) and replication. On the primary,
 *   replication lag as esbench defines it (src/cluster/replication-lag.ts: the WAL sender's
 *   replay_lag, 0 when NULL, and the bytes between the current and the replayed LSN). On the
 *   replica, a different figure on the replica's clock, kept apart from the lag (see
 *   ReplicationOnReplica): received − replayed bytes, and now − the last replayed commit's
 *   timestamp unless everything received is replayed (then 0, not the idle time). That time
 *   overstates the delay while WAL without commits is replayed (a long VACUUM).
 */
import { replayLagBytesSql, replayLagMsSql } from '../cluster/replication-lag.ts';
import type { Sample } from './sample.ts';
import { observerSql } from './observer-client.ts';

const json = (sql: string, fallback: string): string => `coalesce((${sql}), '${fallback}'::json)`;

/** The one statement of a sample, for this node's version and role. */
export interface SampleSqlOptions {
  serverVersionNum: number;
  inRecovery: boolean;
  /** Quoted schema of pgstattuple, or null to leave GIN pending lists out. */
  pgstattupleSchema: string | null;
  /** pg_control_checkpoint() may be called (superuser, or EXECUTE granted). */
  controlFile: boolean;
  /**
   * With the slow-moving parts (default): checkpoint, GIN pending lists, database and table
   * counters ($2 = table OIDs, $3 = GIN index OIDs). Without: a smaller statement ($1 only).
   */
  detail?: boolean;
}

export function buildSampleSql(options: SampleSqlOptions): string {
  const { serverVersionNum, inRecovery, pgstattupleSchema } = options;
  // Two prepared statements rather than one with CASE: the executor sets up every subplan of a
  // statement whether it runs or not, and the light one runs three times in four.
  const detail = options.detail ?? true;
  const ms = (expr: string): string => `extract(epoch FROM ${expr}) * 1000`;
  // The statistics functions directly, not the pg_stat_* views: the views join catalogs (and, for
  // tables, every index with a GROUP BY) to produce columns the sample does not read. Measured on
  // PG 17, 200 samples on a 20K-event database: 2.23 → 0.6 ms per sample (see README).
  const activity = `pg_stat_get_activity(NULL::integer)`;
  const backends = `SELECT json_agg(b) FROM (
      SELECT coalesce(a.application_name, '') AS application, coalesce(a.state, '') AS state, coalesce(a.backend_type, '') AS "backendType",
             CASE WHEN a.state = 'active' THEN a.wait_event_type END AS "waitEventType",
             CASE WHEN a.state = 'active' THEN a.wait_event END AS "waitEvent", count(*)::int AS count
        FROM ${activity} a
       WHERE a.datid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND a.pid <> pg_backend_pid()
         AND coalesce(a.application_name, '') <> $1
       GROUP BY 1, 2, 3, 4, 5) b`;
  // The backend of a vacuum / analyze in progress, looked up by its pid only when there is one.
  const progress = (view: string, kind: string, total: string, done: string): string => `
      SELECT p.pid, '${kind}' AS kind, a.backend_type = 'autovacuum worker' AS auto,
             n.nspname || '.' || c.relname AS relation, p.phase, ${ms('a.query_start')} AS "startedAt",
             p.${total} AS "blocksTotal", p.${done} AS "blocksDone"
        FROM ${view} p
        CROSS JOIN LATERAL pg_stat_get_activity(p.pid) a
        LEFT JOIN pg_class c ON c.oid = p.relid
        LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE p.datname = current_database()`;
  const maintenance = `SELECT json_agg(m) FROM (${progress('pg_stat_progress_vacuum', 'vacuum', 'heap_blks_total', 'heap_blks_scanned')}
      UNION ALL ${progress('pg_stat_progress_analyze', 'analyze', 'sample_blks_total', 'sample_blks_scanned')}) m`;
  const counters =
    serverVersionNum >= 170000
      ? `SELECT num_timed AS timed, num_requested AS requested, ${serverVersionNum >= 180000 ? 'num_done' : 'NULL::bigint'} AS done,
                buffers_written AS "buffersWritten", restartpoints_done AS "restartpointsDone" FROM pg_stat_checkpointer`
      : `SELECT checkpoints_timed AS timed, checkpoints_req AS requested, NULL::bigint AS done,
                buffers_checkpoint AS "buffersWritten", NULL::bigint AS "restartpointsDone" FROM pg_stat_bgwriter`;
  const checkpoint = options.controlFile
    ? `SELECT row_to_json(x) FROM (
      SELECT k.*, ${ms('cc.checkpoint_time')} AS "lastCheckpointAt", cc.redo_lsn::text AS "redoLsn"
        FROM (${counters}) k CROSS JOIN pg_control_checkpoint() cc) x`
    : `SELECT row_to_json(x) FROM (SELECT k.*, NULL::numeric AS "lastCheckpointAt", NULL::text AS "redoLsn" FROM (${counters}) k) x`;
  // Only the GIN indexes and tables found by TARGETS_SQL ($3, $2): looked up by OID instead of
  // scanning the catalogs on every sample. One dropped meanwhile (REINDEX CONCURRENTLY) just drops out.
  // Without pgstattuple the detailed statement still takes $3 (the sampler binds three values; a
  // statement that never mentions $3 rejects the bind, and every detailed sample failed).
  const gin =
    pgstattupleSchema === null
      ? `SELECT '[]'::json FROM (SELECT $3::oid[]) AS bound`
      : `SELECT json_agg(g) FROM (
      SELECT ic.relname AS index, tn.nspname || '.' || tc.relname AS "table", s.pending_pages AS "pendingPages", s.pending_tuples AS "pendingTuples"
        FROM unnest($3::oid[]) AS x(oid)
        JOIN pg_index i ON i.indexrelid = x.oid AND i.indisvalid
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_class tc ON tc.oid = i.indrelid
        JOIN pg_namespace tn ON tn.oid = tc.relnamespace
        CROSS JOIN LATERAL ${pgstattupleSchema}.pgstatginindex(i.indexrelid) s) g`;
  const wal = inRecovery ? `pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')` : `pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')`;
  const replication = inRecovery
    ? `SELECT json_build_object('replica', row_to_json(x)) FROM (
      SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
                  ELSE ${ms('clock_timestamp() - pg_last_xact_replay_timestamp()')} END AS "replayLagMs",
             pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) AS "receiveReplayBytes") x`
    : // esbench's one definition of replication lag (replication-lag.ts), on pg_stat_replication's
      // underlying functions rather than the view (see above).
      `SELECT json_build_object('primary', coalesce(json_agg(r), '[]'::json)) FROM (
      SELECT coalesce(a.application_name, '') AS application, w.state,
             ${replayLagMsSql('w')} AS "replayLagMs",
             ${replayLagBytesSql('w')} AS "lagBytes"
        FROM pg_stat_get_wal_senders() w
        CROSS JOIN LATERAL pg_stat_get_activity(w.pid) a) r`;
  const database = `SELECT row_to_json(x) FROM (
      SELECT blks_hit AS "blksHit", blks_read AS "blksRead", xact_commit AS "xactCommit", xact_rollback AS "xactRollback",
             temp_bytes AS "tempBytes", deadlocks, conflicts
        FROM pg_stat_database WHERE datname = current_database()) x`;
  const tables = `SELECT json_agg(t) FROM (
      SELECT n.nspname || '.' || c.relname AS relation, pg_stat_get_live_tuples(c.oid) AS "liveTuples", pg_stat_get_dead_tuples(c.oid) AS "deadTuples",
             pg_stat_get_mod_since_analyze(c.oid) AS "modSinceAnalyze", pg_stat_get_vacuum_count(c.oid) AS "vacuumCount",
             pg_stat_get_autovacuum_count(c.oid) AS "autovacuumCount", pg_stat_get_analyze_count(c.oid) AS "analyzeCount",
             pg_stat_get_autoanalyze_count(c.oid) AS "autoanalyzeCount",
             ${ms('pg_stat_get_last_vacuum_time(c.oid)')} AS "lastVacuum", ${ms('pg_stat_get_last_autovacuum_time(c.oid)')} AS "lastAutovacuum",
             ${ms('pg_stat_get_last_analyze_time(c.oid)')} AS "lastAnalyze", ${ms('pg_stat_get_last_autoanalyze_time(c.oid)')} AS "lastAutoanalyze"
        FROM unnest($2::oid[]) AS x(oid) JOIN pg_class c ON c.oid = x.oid JOIN pg_namespace n ON n.oid = c.relnamespace) t`;
  return observerSql(`SELECT json_build_object(
    'serverAt', ${ms('clock_timestamp()')},
    'backends', ${json(backends, '[]')},
    'maintenance', ${json(maintenance, '[]')},
    'detail', ${detail},
    'checkpoint', ${detail ? `(${checkpoint})` : 'NULL::json'},
    'gin', ${detail ? json(gin, '[]') : `'[]'::json`},
    'walBytes', ${wal},
    'replication', (${replication}),
    'database', ${detail ? `(${database})` : 'NULL::json'},
    'tables', ${detail ? json(tables, '[]') : `'[]'::json`}) AS sample`);
}

/**
 * What a sample looks at, found once and then every TARGETS_REFRESH samples: pg_stat_user_tables'
 * tables (user schemas; tables, matviews, partitioned tables) and the GIN indexes in user schemas.
 */
export const TARGETS_SQL = observerSql(`SELECT
    coalesce(array_agg(c.oid) FILTER (WHERE c.relkind IN ('r', 't', 'm', 'p')), '{}') AS tables,
    coalesce(array_agg(c.oid) FILTER (WHERE c.relkind = 'i' AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'gin')), '{}') AS gin
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'`);

/** A sample's row as the statement returns it (the client adds at and costMs). */
export type RawSample = Omit<Sample, 'at' | 'costMs'>;

/** JSON numbers from numeric/bigint columns arrive as numbers; keep them finite. */
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A sample from its row: numbers kept finite, `at` and `costMs` from the client. */
export function toSample(raw: RawSample, at: number, costMs: number): Sample {
  const checkpoint = raw.checkpoint
    ? {
        timed: num(raw.checkpoint.timed) ?? 0,
        requested: num(raw.checkpoint.requested) ?? 0,
        done: num(raw.checkpoint.done),
        buffersWritten: num(raw.checkpoint.buffersWritten) ?? 0,
        restartpointsDone: num(raw.checkpoint.restartpointsDone),
        lastCheckpointAt: num(raw.checkpoint.lastCheckpointAt),
        redoLsn: raw.checkpoint.redoLsn ?? null,
      }
    : null;
  return {
    at,
    serverAt: num(raw.serverAt) ?? at,
    costMs,
    detail: raw.detail !== false,
    backends: raw.backends,
    maintenance: raw.maintenance.map((m) => ({ ...m, startedAt: num(m.startedAt), blocksTotal: num(m.blocksTotal), blocksDone: num(m.blocksDone) })),
    checkpoint,
    gin: raw.gin,
    walBytes: num(raw.walBytes),
    replication: raw.replication,
    database: raw.database,
    tables: raw.tables.map((t) => ({
      ...t,
      lastVacuum: num(t.lastVacuum),
      lastAutovacuum: num(t.lastAutovacuum),
      lastAnalyze: num(t.lastAnalyze),
      lastAutoanalyze: num(t.lastAutoanalyze),
    })),
  };
}
