/**
 * Samples one node every 500 ms (configurable) during a run: backends by state and by application
 * (which pool), wait events, vacuum / analyze workers and their tables, checkpoints, GIN pending
 * lists, WAL position, replication lag, cache hits, dead tuples. PostgreSQL 15 to 18.
 *
 * One round trip per sample: a single statement returns everything as JSON, so the sampler's load
 * on the node is one short query per interval. Its connection is `esbench_observer` and its SQL is
 * tagged, so neither backend counts nor statement statistics include it; what each sample cost
 * (round trip, ms) is reported.
 *
 * Version differences handled (chosen once, from server_version_num):
 * - checkpoint counters: pg_stat_checkpointer (17+; num_done from 18) vs pg_stat_bgwriter (< 17).
 *   The counters alone cannot date a checkpoint and on 17 num_timed also counts skipped ones, so
 *   the completed checkpoint is detected from pg_control_checkpoint().checkpoint_time (written only
 *   when a checkpoint or restartpoint completes; second resolution).
 * - primary vs replica: WAL position (current vs replay LSN) and replication lag. On the primary,
 *   pg_stat_replication's replay_lag (0 once the standby has replayed everything) and the byte
 *   distance to its replay LSN. On the replica, received − replayed bytes, and now − the last
 *   replayed commit's timestamp unless everything received is replayed (then 0, not the idle
 *   time). The replica-side time overstates the lag while WAL without commits is replayed (a long
 *   VACUUM): prefer the primary's figure for time, the bytes for "is it behind".
 */
import { APPLICATION_NAMES } from '../core/application-names.ts';
import type pg from 'pg';
import * as ss from 'simple-statistics';
import { deriveEvents, type TimelineEvent } from './events.ts';
import type { Sample } from './sample.ts';
import { OBSERVER_APPLICATION_NAME, observerSql, connectObserver, nodeInfo } from './observer-client.ts';

/**
 * Backends, waits, vacuum progress, WAL and replication twice a second; the detailed parts once a
 * second (DETAIL_EVERY_MS). At 250 ms the light samples were half of the observer's database time
 * (see README); the spike analysis works per second and still gets two samples of each.
 */
export const DEFAULT_SAMPLE_INTERVAL_MS = 500;
export const POOL_APPLICATION_NAMES = [APPLICATION_NAMES.primaryPool, APPLICATION_NAMES.replicaPool] as const;

// The sample's shape lives in sample.ts (events.ts reads it too; importing it from here made a cycle).
export type {
  BackendGroup,
  CheckpointCounters,
  DatabaseCounters,
  GinPending,
  MaintenanceActivity,
  ReplicationOnPrimary,
  ReplicationOnReplica,
  Sample,
  TableStats,
} from './sample.ts';

export interface SeriesStats {
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export interface NodeSummary {
  samples: number;
  /** Shared-buffer hit ratio over the sampled window, from pg_stat_database deltas. */
  cacheHitRatio: number | null;
  walBytes: number | null;
  walBytesPerSecond: number | null;
  replicationLagMs: SeriesStats | null;
  replicationLagBytes: SeriesStats | null;
  /** Per application name: mean / max number of connections, and of active ones. */
  connections: Record<string, { mean: number; max: number; activeMean: number; activeMax: number }>;
  /** Wait events of active backends: samples × backends seen waiting on each. */
  waitEvents: Record<string, number>;
  ginPendingPagesMax: Record<string, number>;
  deadTuples: Record<string, { start: number; end: number; max: number }>;
  autovacuumRuns: number;
  checkpoints: number;
}

export interface SamplerResult {
  node: string;
  serverVersionNum: number;
  inRecovery: boolean;
  intervalMs: number;
  startedAt: number;
  stoppedAt: number;
  samples: Sample[];
  /** Ticks skipped because the previous sample was still running. */
  missedTicks: number;
  errors: Array<{ at: number; message: string }>;
  /** What could not be observed on this node, and why. */
  notes: string[];
  /** What sampling cost: round trip per sample, and its share of the interval. */
  cost: { meanMs: number; p99Ms: number; maxMs: number; fractionOfInterval: number } | null;
  events: TimelineEvent[];
  summary: NodeSummary;
  /**
   * Settings that give maintenance its rhythm and GIN its flush point, read once at start
   * (name → setting with its unit, e.g. autovacuum_naptime → '120s'): the spike analysis lays a
   * spike period next to them. Absent in runs saved before it was added.
   */
  settings?: Record<string, string>;
}

/** The settings recorded in SamplerResult.settings. */
export const RHYTHM_SETTINGS = ['autovacuum', 'autovacuum_naptime', 'autovacuum_analyze_scale_factor', 'autovacuum_analyze_threshold', 'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_insert_threshold', 'gin_pending_list_limit', 'checkpoint_timeout'] as const;

async function readSettings(client: pg.ClientBase): Promise<Record<string, string>> {
  const r = await client.query<{ name: string; setting: string; unit: string | null }>(
    observerSql('SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1::text[])'),
    [RHYTHM_SETTINGS],
  );
  return Object.fromEntries(r.rows.map((x) => [x.name, `${x.setting}${x.unit ?? ''}`]));
}

export interface SamplerOptions {
  url: string;
  /** Label for results: 'primary' / 'replica'. */
  node: string;
  intervalMs?: number;
  /** Stops the sampler too (stop() still returns the result). */
  signal?: AbortSignal;
  onSample?: (sample: Sample) => void;
}

export interface Sampler {
  readonly node: string;
  /** Stops sampling (waits for a sample in progress) and returns everything. */
  stop(): Promise<SamplerResult>;
}

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
    : `SELECT json_build_object('primary', coalesce(json_agg(r), '[]'::json)) FROM (
      SELECT coalesce(a.application_name, '') AS application, w.state,
             CASE WHEN w.replay_lsn IS NOT NULL AND w.replay_lsn >= pg_current_wal_lsn() THEN 0
                  ELSE ${ms('w.replay_lag')} END AS "replayLagMs",
             pg_wal_lsn_diff(pg_current_wal_lsn(), w.replay_lsn) AS "lagBytes"
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
const TARGETS_REFRESH = 40;

/** How often a sample reads the slow-moving parts (see Sample.detail). */
export const DETAIL_EVERY_MS = 1000;

interface Targets {
  tables: string[];
  gin: string[];
}

async function findTargets(client: pg.ClientBase): Promise<Targets> {
  // Named: planned once per connection (it was planned on every refresh, ~3 ms each under load).
  const r = await client.query<Targets>({ name: 'esbench_observer_targets', text: TARGETS_SQL });
  return { tables: r.rows[0]?.tables ?? [], gin: r.rows[0]?.gin ?? [] };
}

type RawSample = Omit<Sample, 'at' | 'costMs'>;

/** JSON numbers from numeric/bigint columns arrive as numbers; keep them finite. */
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function stats(values: number[]): SeriesStats | null {
  if (values.length === 0) return null;
  return { mean: ss.mean(values), p50: ss.quantile(values, 0.5), p99: ss.quantile(values, 0.99), max: ss.max(values) };
}

export function summarize(samples: readonly Sample[], events: readonly TimelineEvent[]): NodeSummary {
  const first = samples[0];
  const last = samples[samples.length - 1];
  let cacheHitRatio: number | null = null;
  // Database counters are read once a second (Sample.detail): the first and last samples that have them.
  const firstDb = samples.find((s) => s.database !== null)?.database;
  const lastDb = samples.findLast((s) => s.database !== null)?.database;
  if (firstDb && lastDb) {
    const hit = lastDb.blksHit - firstDb.blksHit;
    const read = lastDb.blksRead - firstDb.blksRead;
    cacheHitRatio = hit + read > 0 ? hit / (hit + read) : null;
  }
  let walBytes: number | null = null;
  let walBytesPerSecond: number | null = null;
  if (first && last && first.walBytes !== null && last.walBytes !== null) {
    walBytes = last.walBytes - first.walBytes;
    const seconds = (last.serverAt - first.serverAt) / 1000;
    walBytesPerSecond = seconds > 0 ? walBytes / seconds : null;
  }
  const lagMs: number[] = [];
  const lagBytes: number[] = [];
  const perApp = new Map<string, { total: number[]; active: number[] }>();
  const waitEvents: Record<string, number> = {};
  const ginMax: Record<string, number> = {};
  const dead: Record<string, { start: number; end: number; max: number }> = {};
  samples.forEach((s, i) => {
    if ('primary' in s.replication) {
      for (const r of s.replication.primary) {
        if (r.replayLagMs !== null) lagMs.push(r.replayLagMs);
        if (r.lagBytes !== null) lagBytes.push(r.lagBytes);
      }
    } else {
      if (s.replication.replica.replayLagMs !== null) lagMs.push(s.replication.replica.replayLagMs);
      if (s.replication.replica.receiveReplayBytes !== null) lagBytes.push(s.replication.replica.receiveReplayBytes);
    }
    const counts = new Map<string, { total: number; active: number }>();
    for (const b of s.backends) {
      const c = counts.get(b.application) ?? { total: 0, active: 0 };
      c.total += b.count;
      if (b.state === 'active') c.active += b.count;
      counts.set(b.application, c);
      if (b.waitEventType !== null) {
        const key = `${b.waitEventType}:${b.waitEvent ?? ''}`;
        waitEvents[key] = (waitEvents[key] ?? 0) + b.count;
      }
    }
    // An application absent from a sample had no connection then: its series gets a 0.
    for (const app of counts.keys()) {
      if (!perApp.has(app)) perApp.set(app, { total: Array<number>(i).fill(0), active: Array<number>(i).fill(0) });
    }
    for (const [app, series] of perApp) {
      series.total.push(counts.get(app)?.total ?? 0);
      series.active.push(counts.get(app)?.active ?? 0);
    }
    for (const g of s.gin) ginMax[g.index] = Math.max(ginMax[g.index] ?? 0, g.pendingPages);
    for (const t of s.tables) {
      const d = dead[t.relation];
      if (!d) dead[t.relation] = { start: t.deadTuples, end: t.deadTuples, max: t.deadTuples };
      else {
        d.end = t.deadTuples;
        d.max = Math.max(d.max, t.deadTuples);
      }
    }
  });
  const connections: NodeSummary['connections'] = {};
  for (const [app, series] of perApp) {
    connections[app || '(none)'] = {
      mean: ss.mean(series.total),
      max: ss.max(series.total),
      activeMean: ss.mean(series.active),
      activeMax: ss.max(series.active),
    };
  }
  return {
    samples: samples.length,
    cacheHitRatio,
    walBytes,
    walBytesPerSecond,
    replicationLagMs: stats(lagMs),
    replicationLagBytes: stats(lagBytes),
    connections,
    waitEvents,
    ginPendingPagesMax: ginMax,
    deadTuples: dead,
    autovacuumRuns: events.filter((e) => e.kind === 'maintenance' && e.auto && e.operation === 'vacuum').length,
    checkpoints: events.filter((e) => e.kind === 'checkpoint').length,
  };
}

function toSample(raw: RawSample, at: number, costMs: number): Sample {
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

async function probe(client: pg.ClientBase, sql: string): Promise<string | null> {
  try {
    await client.query(observerSql(`${sql}`));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

async function pgstattupleSchema(client: pg.ClientBase): Promise<string | null> {
  const r = await client.query<{ schema: string }>(
    observerSql(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgstattuple'`),
  );
  const schema = r.rows[0]?.schema;
  // A schema name cannot be a bound parameter; it comes from the catalog and is quoted.
  return schema === undefined ? null : client.escapeIdentifier(schema);
}

export async function startSampler(options: SamplerOptions): Promise<Sampler> {
  const intervalMs = options.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  if (!(intervalMs >= 10)) throw new RangeError('the sample interval must be at least 10 ms');
  let client = await connectObserver(options.url);
  const info = await nodeInfo(client);
  // Optional parts are probed once: a missing extension or privilege must not fail every sample.
  const notes: string[] = [];
  let ginSchema = await pgstattupleSchema(client);
  if (ginSchema === null) notes.push('pgstattuple is not installed in this database: GIN pending lists are not sampled');
  else {
    const denied = await probe(client, `SELECT ${ginSchema}.pgstatginindex(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin' LIMIT 1`);
    if (denied !== null) {
      notes.push(`pgstatginindex failed (${denied}): GIN pending lists are not sampled`);
      ginSchema = null;
    }
  }
  const settings = await readSettings(client).catch((e: unknown) => {
    notes.push(`pg_settings could not be read (${(e as Error).message}): periods are not compared with settings`);
    return {};
  });
  const controlDenied = await probe(client, 'SELECT checkpoint_time FROM pg_control_checkpoint()');
  if (controlDenied !== null) {
    notes.push(`pg_control_checkpoint() failed (${controlDenied}): checkpoints are detected from counters only, without their time`);
  }
  const sqlOptions: SampleSqlOptions = {
    serverVersionNum: info.serverVersionNum,
    inRecovery: info.inRecovery,
    pgstattupleSchema: ginSchema,
    controlFile: controlDenied === null,
  };
  const sqlDetail = buildSampleSql(sqlOptions);
  const sqlLight = buildSampleSql({ ...sqlOptions, detail: false });
  const samples: Sample[] = [];
  const errors: SamplerResult['errors'] = [];
  let missedTicks = 0;
  let targets: Targets | undefined;
  // The slow-moving parts (table counters, GIN pending lists, checkpoint counters and the control
  // file, database counters) once per DETAIL_EVERY_MS; backends, waits, vacuum progress, WAL and
  // replication lag every sample. The first sample and a closing one (at stop) carry them.
  let lastDetailAt = Number.NEGATIVE_INFINITY;
  const detailDue = (at: number): boolean => {
    if (at - lastDetailAt >= DETAIL_EVERY_MS - intervalMs / 2) {
      lastDetailAt = at;
      return true;
    }
    return false;
  };
  let samplesSinceTargets = 0;
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  let origin = performance.now();
  let tickIndex = 0;
  const light = (): pg.QueryConfig => ({ name: 'esbench_observer_sample_light', text: sqlLight, values: [OBSERVER_APPLICATION_NAME] });
  const detailed = (t: Targets): pg.QueryConfig => ({ name: 'esbench_observer_sample', text: sqlDetail, values: [OBSERVER_APPLICATION_NAME, t.tables, t.gin] });

  const sampleOnce = async (): Promise<void> => {
    const at = Date.now();
    const t0 = performance.now();
    try {
      // A named (prepared) statement: the big catalog query is planned once per connection, not
      // on every sample (planning it costs more than running it).
      if (targets === undefined || samplesSinceTargets >= TARGETS_REFRESH) {
        targets = await findTargets(client);
        samplesSinceTargets = 0;
      }
      samplesSinceTargets += 1;
      const r = await client.query<{ sample: RawSample }>(detailDue(at) ? detailed(targets) : light());
      const raw = r.rows[0]?.sample;
      if (!raw) return;
      const sample = toSample(raw, at, performance.now() - t0);
      samples.push(sample);
      options.onSample?.(sample);
    } catch (e) {
      errors.push({ at, message: (e as Error).message });
      targets = undefined;
      // A broken connection (node restarted): open a new one for the next tick.
      try {
        await client.end();
      } catch {
        /* already closed */
      }
      if (!stopped) {
        try {
          client = await connectObserver(options.url);
        } catch (e2) {
          errors.push({ at: Date.now(), message: `reconnect: ${(e2 as Error).message}` });
        }
      }
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    tickIndex += 1;
    const due = origin + tickIndex * intervalMs;
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
  };

  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    // Fixed ticks: a slow sample skips ticks instead of drifting the sampling grid.
    const behind = Math.floor((performance.now() - origin) / intervalMs) - tickIndex;
    if (behind > 0) {
      missedTicks += behind;
      tickIndex += behind;
    }
    running = sampleOnce().finally(() => {
      running = undefined;
      schedule();
    });
  };

  const stop = async (): Promise<SamplerResult> => {
    if (!stopped) {
      stopped = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      await running;
      // A closing sample with the slow-moving parts, so the window's counters end at its end.
      if (samples.at(-1)?.detail === false) {
        lastDetailAt = Number.NEGATIVE_INFINITY;
        await sampleOnce();
      }
      try {
        await client.end();
      } catch {
        /* closing a broken connection */
      }
    }
    const costs = samples.map((s) => s.costMs);
    const events = deriveEvents(samples, options.node, info.inRecovery);
    return {
      node: options.node,
      serverVersionNum: info.serverVersionNum,
      inRecovery: info.inRecovery,
      intervalMs,
      startedAt,
      stoppedAt: Date.now(),
      samples,
      missedTicks,
      errors,
      notes,
      cost:
        costs.length > 0
          ? { meanMs: ss.mean(costs), p99Ms: ss.quantile(costs, 0.99), maxMs: ss.max(costs), fractionOfInterval: ss.mean(costs) / intervalMs }
          : null,
      events,
      summary: summarize(samples, events),
      settings,
    };
  };
  const onAbort = (): void => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // Everything that costs the node once happens here, before startSampler returns: the probes
  // above, the targets, and the planning of both sample statements (the light one is run once and
  // its result dropped; the first sample is a detailed one). A caller that takes its opening
  // pg_stat_statements snapshot after this (observation.ts) keeps that one-off cost — planning is
  // ~4-8 ms per statement on an idle node, tens of ms on a busy one — out of the window it measures.
  try {
    targets = await findTargets(client);
    await client.query(light());
  } catch (e) {
    // The first sample below reports (and recovers from) whatever failed here.
    targets = undefined;
    errors.push({ at: Date.now(), message: `warm-up: ${(e as Error).message}` });
  }
  // The first sample right away, so the window starts with a baseline (stop() waits for it).
  running = sampleOnce().finally(() => {
    running = undefined;
  });
  await running;
  origin = performance.now();
  schedule();
  return { node: options.node, stop };
}
