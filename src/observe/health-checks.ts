/**
 * `esbench health`: seed 004's eight validation checks for the event store, plus replication,
 * unused indexes and slow queries. Each check ends in a status (good / ok / warning), one figure
 * and the threshold that decided it.
 *
 * The SQL lives in sql/health/*.sql, one SELECT per file, so that people with only psql run the
 * very same queries; where a file computes a status, its thresholds are columns of its result and
 * the threshold text shown here is built from those columns (one source for the numbers).
 * What SQL cannot do alone happens here: adding up the two nodes (each node counts only its own
 * scans, reads and statements), EXPLAIN with bound parameters, and the disk usage of a local data
 * directory.
 */
import fs from 'node:fs';
import pg from 'pg';
import { EsbenchError, fromDatabaseError } from '../core/errors.ts';
import { redactUrl } from '../core/redact.ts';
import { formatPgSize } from '../core/units.ts';
import { readSql } from '../store/schema.ts';

export type CheckStatus = 'good' | 'ok' | 'warning';
export type NodeName = 'primary' | 'replica';

export const CHECK_IDS = [
  'vacuum_analyze',
  'dead_tuples',
  'index_usage',
  'query_plans',
  'autovacuum_settings',
  'bloat',
  'cache_hit',
  'storage',
  'replication',
  'unused_indexes',
  'slow_queries',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const CHECK_TITLES: Readonly<Record<CheckId, string>> = {
  vacuum_analyze: 'vacuum/analyze recency',
  dead_tuples: 'dead-tuple ratio',
  index_usage: 'index usage',
  query_plans: 'hot query plans',
  autovacuum_settings: 'autovacuum settings',
  bloat: 'bloat estimate',
  cache_hit: 'cache hit ratio',
  storage: 'storage summary',
  replication: 'replication',
  unused_indexes: 'unused indexes',
  slow_queries: 'slow queries',
};

export interface HealthCheck {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One line: the measured figure(s). */
  figure: string;
  /** The number the status was decided on, when there is one (unit in `threshold`). */
  value: number | null;
  threshold: string;
  /** Nodes the figure comes from. */
  nodes: NodeName[];
  /** The SQL files (sql/health/) the check ran. */
  sources: string[];
  details: Array<Record<string, unknown>>;
  notes: string[];
}

export interface HealthReport {
  checkedAt: string;
  database: string;
  primary: string;
  replica: string | null;
  status: CheckStatus;
  counts: Record<CheckStatus, number>;
  checks: HealthCheck[];
}

export interface HealthTarget {
  primaryUrl: string;
  /** Omitted or equal to the primary's: no replica (external mode with one server). */
  replicaUrl?: string | undefined;
  /** Local data directory (embedded cluster): its disk usage joins the storage check. */
  dataDir?: string | undefined;
}

export interface HealthOptions {
  only?: readonly CheckId[] | undefined;
  statementTimeoutMs?: number;
}

type Row = Record<string, unknown>;

const RANK: Record<CheckStatus, number> = { good: 0, ok: 1, warning: 2 };

export function worst(statuses: Iterable<CheckStatus>): CheckStatus {
  let w: CheckStatus = 'good';
  for (const s of statuses) if (RANK[s] > RANK[w]) w = s;
  return w;
}

function asStatus(v: unknown): CheckStatus {
  return v === 'good' || v === 'ok' || v === 'warning' ? v : 'warning';
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function pct(v: unknown): string {
  const n = num(v);
  return n === null ? '-' : `${n.toFixed(n < 10 ? 2 : 1)}%`;
}

function bytes(v: unknown): string {
  const n = num(v) ?? 0;
  if (n < 1024) return `${n} B`;
  // formatPgSize wants exact multiples; round to the unit it will pick.
  const units = [1024 ** 3, 1024 ** 2, 1024];
  for (const u of units) if (n >= u) return formatPgSize(Math.round(n / u) * u);
  return `${n} B`;
}

function ago(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

function ms(v: number | null): string {
  return v === null ? '-' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`;
}

/** A connected session per node; the replica may be missing (no replica configured, or down). */
interface Sessions {
  primary: pg.Client;
  /** Nodes where health could not switch track_counts off, so its own probes count as index scans. */
  counting: NodeName[];
  replica: pg.Client | null;
  replicaConfigured: boolean;
  replicaError: string | null;
  dataDir: string | undefined;
}

async function connect(url: string, statementTimeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'esbench_health',
    connectionTimeoutMillis: 5000,
    statement_timeout: statementTimeoutMs,
  });
  await client.connect();
  return client;
}

/**
 * health's own reads (EXPLAIN ANALYZE probes above all) must not count as index use, or every run
 * would make the indexes it probes look used to the next. track_counts is superuser-only: without
 * the right, the figures include health's probes and the index checks say so.
 */
async function stopCounting(client: pg.Client): Promise<boolean> {
  try {
    await client.query('SET track_counts = off');
    return true;
  } catch {
    return false;
  }
}

async function rows(client: pg.Client, file: string, values?: unknown[]): Promise<Row[]> {
  const r = await client.query<Row>(readSql(`health/${file}`), values);
  return r.rows;
}

/** The nodes a both-node check reads: the primary, and the replica when there is one. */
function nodesOf(s: Sessions): Array<[NodeName, pg.Client]> {
  return s.replica ? [['primary', s.primary], ['replica', s.replica]] : [['primary', s.primary]];
}

function check(id: CheckId, fields: Omit<HealthCheck, 'id' | 'title' | 'notes'> & { notes?: string[] }): HealthCheck {
  return { id, title: CHECK_TITLES[id], notes: [], ...fields };
}

// --- the checks ------------------------------------------------------------------------------

async function vacuumAnalyze(s: Sessions): Promise<HealthCheck> {
  const r = await rows(s.primary, '01_vacuum_analyze_recency.sql');
  const first = r[0] ?? {};
  const good = (num(first.good_max_s) ?? 86_400) / 3600;
  const ok = (num(first.ok_max_s) ?? 604_800) / 86_400;
  const ages = r.map((row) => num(row.analyze_age_s)).filter((a): a is number => a !== null);
  return check('vacuum_analyze', {
    status: worst(r.map((row) => asStatus(row.status))),
    figure: r.map((row) => `${String(row.table_name)}: vacuumed ${ago(num(row.vacuum_age_s))}, analyzed ${ago(num(row.analyze_age_s))}`).join('; '),
    value: ages.length > 0 ? Math.max(...ages) : null,
    threshold: `good: within ${good} h (or nothing to do), ok: within ${ok} d, warning: older or never with dead/changed rows`,
    nodes: ['primary'],
    sources: ['01_vacuum_analyze_recency.sql'],
    details: r,
  });
}

async function deadTuples(s: Sessions): Promise<HealthCheck> {
  const r = await rows(s.primary, '02_dead_tuples.sql');
  const first = r[0] ?? {};
  const values = r.map((row) => num(row.dead_pct) ?? (num(row.n_dead_tup) ? 100 : 0));
  return check('dead_tuples', {
    status: worst(r.map((row) => asStatus(row.status))),
    figure: r.map((row) => `${String(row.table_name)} ${pct(row.dead_pct ?? 0)} (${String(row.n_dead_tup)} dead / ${String(row.n_live_tup)} live)`).join('; '),
    value: values.length > 0 ? Math.max(...values) : null,
    threshold: `dead/live: good < ${num(first.good_below_pct) ?? 5}%, ok <= ${num(first.warning_above_pct) ?? 10}%, warning above (seed 004); under ${num(first.min_dead_rows) ?? 50} dead rows always good`,
    nodes: ['primary'],
    sources: ['02_dead_tuples.sql'],
    details: r,
  });
}

function countingNote(s: Sessions): string[] {
  return s.counting.length === 0
    ? []
    : [`not a superuser on ${s.counting.join(' and ')}: earlier health runs' query-plan probes are counted as scans there`];
}

interface IndexUse {
  table: string;
  index: string;
  scans: Record<NodeName, number>;
  valid: boolean;
  sizeBytes: number;
}

async function indexUse(s: Sessions): Promise<IndexUse[]> {
  const merged = new Map<string, IndexUse>();
  for (const [node, client] of nodesOf(s)) {
    for (const row of await rows(client, '03_index_usage.sql')) {
      const key = `${String(row.table_name)}.${String(row.index_name)}`;
      const entry = merged.get(key) ?? {
        table: String(row.table_name),
        index: String(row.index_name),
        scans: { primary: 0, replica: 0 },
        valid: true,
        sizeBytes: num(row.size_bytes) ?? 0,
      };
      entry.scans[node] += num(row.idx_scan) ?? 0;
      entry.valid &&= row.is_valid === true;
      merged.set(key, entry);
    }
  }
  return [...merged.values()];
}

async function indexUsage(s: Sessions): Promise<HealthCheck> {
  const indexes = await indexUse(s);
  const unscanned = indexes.filter((i) => i.scans.primary + i.scans.replica === 0);
  const invalid = indexes.filter((i) => !i.valid);
  const status: CheckStatus = invalid.length > 0 ? 'warning' : unscanned.length > 0 ? 'ok' : 'good';
  const total = (n: NodeName) => indexes.reduce((a, i) => a + i.scans[n], 0);
  const nodes = nodesOf(s).map(([n]) => n);
  return check('index_usage', {
    status,
    figure:
      `${indexes.length - unscanned.length} of ${indexes.length} indexes scanned (${nodes.map((n) => `${n} ${total(n)} scans`).join(', ')})` +
      (unscanned.length > 0 ? `; not yet: ${unscanned.map((i) => i.index).join(', ')}` : '') +
      (invalid.length > 0 ? `; INVALID: ${invalid.map((i) => i.index).join(', ')}` : ''),
    value: unscanned.length,
    threshold: 'good: every index scanned on some node; ok: some not scanned yet (normal when fresh); warning: an invalid index',
    nodes,
    sources: ['03_index_usage.sql'],
    details: indexes.map((i) => ({ ...i })),
    notes: [...invalid.map((i) => `${i.index} is invalid (interrupted concurrent build): DROP INDEX CONCURRENTLY ${i.index}`), ...countingNote(s)],
  });
}

/** The hot query shapes of the study's event store, with the indexes meant to serve them. */
const PLAN_PROBES = [
  {
    name: 'boundary query',
    sql: `SELECT sequence_number, event_type, payload, metadata, occurred_at FROM events
           WHERE event_type = ANY ($1::text[]) AND payload @> $2::jsonb ORDER BY sequence_number`,
    params: (p: Probe) => [[p.type], p.payload],
    intended: ['idx_events_payload_gin'],
  },
  {
    name: 'append version check',
    sql: `SELECT max(sequence_number) FROM events WHERE event_type = ANY ($1::text[]) AND payload @> $2::jsonb`,
    params: (p: Probe) => [[p.type], p.payload],
    intended: ['idx_events_payload_gin'],
  },
  {
    name: 'occurred_at range',
    sql: `SELECT sequence_number FROM events WHERE occurred_at >= $1::timestamptz AND occurred_at <= $2::timestamptz ORDER BY sequence_number`,
    params: (p: Probe) => [p.from, p.to],
    intended: ['idx_events_occurred_at'],
  },
] as const;

interface Probe {
  type: string;
  payload: string;
  from: Date;
  to: Date;
  estimatedRows: number;
}

/** Execution time thresholds (ms): good up to the first, ok up to seed 002's slow-query line. */
export const PLAN_GOOD_MAX_MS = 10;
export const PLAN_OK_MAX_MS = 100;

interface PlanNode {
  'Node Type'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function walkPlan(node: PlanNode, out: { indexes: Set<string>; seqScan: boolean }): void {
  if (node['Index Name']) out.indexes.add(node['Index Name']);
  if (node['Node Type'] === 'Seq Scan') out.seqScan = true;
  for (const child of node.Plans ?? []) walkPlan(child, out);
}

async function queryPlans(s: Sessions): Promise<HealthCheck> {
  // EXPLAIN ANALYZE runs the query; on the replica it reads what the read models read and, being a
  // standby, cannot prune heap pages (which would change the primary's dead-tuple figures).
  const [node, client] = s.replica ? (['replica', s.replica] as const) : (['primary', s.primary] as const);
  const probeRows = await rows(client, '04_query_plan_probe.sql');
  const p = probeRows[0];
  const threshold = `execution: good <= ${PLAN_GOOD_MAX_MS} ms with the intended index, ok <= ${PLAN_OK_MAX_MS} ms (seed 002) or another plan, warning above`;
  if (!p) {
    return check('query_plans', { status: 'ok', figure: 'no events to probe yet', value: null, threshold, nodes: [node], sources: ['04_query_plan_probe.sql'], details: [] });
  }
  const probe: Probe = {
    type: String(p.probe_type),
    payload: String(p.probe_payload),
    from: p.probe_from as Date,
    to: p.probe_to as Date,
    estimatedRows: num(p.estimated_rows) ?? 0,
  };
  const details: Row[] = [];
  const statuses: CheckStatus[] = [];
  const figures: string[] = [];
  const notes: string[] = [];
  let slowest = 0;
  for (const q of PLAN_PROBES) {
    const r = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }> }>(
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`,
      q.params(probe),
    );
    const plan = r.rows[0]?.['QUERY PLAN'][0];
    if (!plan) throw new EsbenchError('INTERNAL', `EXPLAIN of ${q.name} returned no plan`);
    const used = { indexes: new Set<string>(), seqScan: false };
    walkPlan(plan.Plan, used);
    const execMs = plan['Execution Time'];
    slowest = Math.max(slowest, execMs);
    const intendedUsed = q.intended.some((i) => used.indexes.has(i));
    // Time decides a warning; the plan shape alone cannot (a seq scan is right on a small table, and
    // the probe's timing says whether another plan hurts at this size), so it shows as ok with a note.
    const status: CheckStatus = execMs > PLAN_OK_MAX_MS ? 'warning' : intendedUsed && execMs <= PLAN_GOOD_MAX_MS ? 'good' : 'ok';
    if (!intendedUsed) notes.push(`${q.name} did not use ${q.intended.join('/')} (~${probe.estimatedRows} rows); it ran ${used.seqScan ? 'a seq scan' : [...used.indexes].join('+')}`);
    statuses.push(status);
    const how = used.indexes.size > 0 ? [...used.indexes].join('+') : used.seqScan ? 'seq scan' : 'no scan';
    figures.push(`${q.name}: ${how} ${ms(execMs)}`);
    details.push({ query: q.name, status, executionMs: execMs, planningMs: plan['Planning Time'], indexes: [...used.indexes], seqScan: used.seqScan, intended: q.intended });
  }
  return check('query_plans', {
    status: worst(statuses),
    figure: figures.join('; '),
    value: slowest,
    threshold,
    nodes: [node],
    sources: ['04_query_plan_probe.sql', '04_query_plans.sql'],
    details,
    notes,
  });
}

async function autovacuumSettings(s: Sessions): Promise<HealthCheck> {
  const settings = await rows(s.primary, '05_autovacuum_settings.sql');
  const triggers = await rows(s.primary, '05_autovacuum_triggers.sql');
  const get = (name: string) => settings.find((r) => r.scope === 'server' && r.name === name)?.value;
  const perTable = settings.filter((r) => r.scope !== 'server').map((r) => `${String(r.scope).slice(6)}.${String(r.name)}=${String(r.value)}`);
  const next = triggers.map(
    (t) =>
      `${String(t.table_name)}: vacuum at ${String(t.vacuum_trigger_dead_rows)} dead (now ${String(t.n_dead_tup ?? 0)}) or ${String(t.vacuum_trigger_inserted_rows)} inserted (now ${String(t.n_ins_since_vacuum ?? 0)}), analyze at ${String(t.analyze_trigger_changed_rows)} changed (now ${String(t.n_mod_since_analyze ?? 0)})`,
  );
  return check('autovacuum_settings', {
    status: worst(settings.map((r) => asStatus(r.status))),
    figure:
      `autovacuum ${String(get('autovacuum'))}, naptime ${String(get('autovacuum_naptime'))}, vacuum scale ${String(get('autovacuum_vacuum_scale_factor'))}, analyze scale ${String(get('autovacuum_analyze_scale_factor'))}` +
      (perTable.length > 0 ? `; per table: ${perTable.join(', ')}` : '; no per-table settings'),
    value: null,
    threshold: 'good: autovacuum and track_counts on and not disabled on a table; warning otherwise',
    nodes: ['primary'],
    sources: ['05_autovacuum_settings.sql', '05_autovacuum_triggers.sql'],
    details: [...settings, ...triggers],
    notes: next,
  });
}

async function bloat(s: Sessions): Promise<HealthCheck> {
  const notes: string[] = [];
  let r: Row[];
  let source = '06_bloat.sql';
  try {
    r = await rows(s.primary, source);
  } catch (e) {
    // pgstattuple missing or not permitted: fall back to what the statistics can say.
    source = '06_bloat_estimate.sql';
    notes.push(`pgstattuple unavailable (${(e as Error).message}): dead share from statistics only, free space unknown`);
    r = await rows(s.primary, source);
  }
  const sources = [source];
  try {
    const gin = await rows(s.primary, '06_gin_pending.sql');
    sources.push('06_gin_pending.sql');
    for (const g of gin) {
      notes.push(`${String(g.index_name)}: fastupdate ${String(g.fastupdate)}, ${String(g.pending_pages)} pending pages / ${String(g.pending_tuples)} pending entries`);
    }
  } catch {
    /* pending-list detail needs pgstattuple too; the bloat figure does not */
  }
  const first = r[0] ?? {};
  return check('bloat', {
    status: worst(r.map((row) => asStatus(row.status))),
    figure: r
      .map((row) =>
        row.dead_tuple_percent !== undefined
          ? `${String(row.table_name)} ${pct(row.bloat_pct)} of ${bytes(row.table_bytes)} (dead ${pct(row.dead_tuple_percent)}, free ${pct(row.approx_free_percent)})`
          : `${String(row.table_name)} ${pct(row.bloat_pct ?? 0)} dead of ${bytes(row.table_bytes)}`,
      )
      .join('; '),
    value: r.length > 0 ? Math.max(...r.map((row) => num(row.bloat_pct) ?? 0)) : null,
    threshold: `dead + free space: good < ${num(first.good_below_pct) ?? 20}%, ok <= ${num(first.warning_above_pct) ?? 50}%, warning above; tables under ${bytes(first.min_table_bytes ?? 1048576)} always good`,
    nodes: ['primary'],
    sources,
    details: r,
    notes,
  });
}

async function cacheHit(s: Sessions): Promise<HealthCheck> {
  const details: Row[] = [];
  const statuses: CheckStatus[] = [];
  const figures: string[] = [];
  let lowest: number | null = null;
  let first: Row = {};
  for (const [node, client] of nodesOf(s)) {
    const r = await rows(client, '07_cache_hit.sql');
    first = r[0] ?? first;
    for (const row of r) details.push({ node, ...row });
    // The database figure decides; per-table figures of rarely read tables are noise.
    const db = r.find((row) => row.scope === 'database');
    if (!db) continue;
    statuses.push(asStatus(db.status));
    const hit = num(db.hit_pct);
    if (hit !== null) lowest = lowest === null ? hit : Math.min(lowest, hit);
    figures.push(`${node} ${hit === null ? 'no reads yet' : pct(hit)}`);
  }
  return check('cache_hit', {
    status: worst(statuses),
    figure: figures.join(', '),
    value: lowest,
    threshold: `database blocks hit/(hit+read): good >= ${num(first.good_min_pct) ?? 95}%, ok >= ${num(first.ok_min_pct) ?? 90}%, warning below (seed 004; the study saw 99.9-100%)`,
    nodes: nodesOf(s).map(([n]) => n),
    sources: ['07_cache_hit.sql'],
    details,
  });
}

/** Disk usage thresholds of the data directory (seed 002: critical above 90 %). */
export const DISK_OK_BELOW_PCT = 80;
export const DISK_WARNING_FROM_PCT = 90;

async function storage(s: Sessions): Promise<HealthCheck> {
  const r = await rows(s.primary, '08_storage.sql');
  const statuses = r.map((row) => asStatus(row.status));
  const first = r[0] ?? {};
  const figures = [`database ${bytes(first.database_bytes)}`];
  for (const row of r) {
    figures.push(`${String(row.table_name)} ~${String(row.estimated_rows)} rows, ${bytes(row.table_bytes)} heap + ${bytes(row.index_bytes)} indexes`);
  }
  const details: Row[] = [...r];
  let threshold = `indexes/heap: good <= ${num(first.good_max_ratio) ?? 2}, ok <= ${num(first.ok_max_ratio) ?? 4}, warning above (tables under 1 MB always good)`;
  if (s.dataDir) {
    try {
      const st = fs.statfsSync(s.dataDir);
      const usedPct = st.blocks > 0 ? (100 * (st.blocks - st.bavail)) / st.blocks : 0;
      statuses.push(usedPct >= DISK_WARNING_FROM_PCT ? 'warning' : usedPct >= DISK_OK_BELOW_PCT ? 'ok' : 'good');
      figures.push(`disk of ${s.dataDir} ${usedPct.toFixed(0)}% used`);
      details.push({ dataDir: s.dataDir, diskUsedPct: usedPct, diskFreeBytes: st.bavail * st.bsize });
      threshold += `; disk used: good < ${DISK_OK_BELOW_PCT}%, ok < ${DISK_WARNING_FROM_PCT}%, warning from ${DISK_WARNING_FROM_PCT}% (seed 002)`;
    } catch {
      /* not a local directory we can stat: storage figures stand alone */
    }
  }
  return check('storage', {
    status: worst(statuses),
    figure: figures.join('; '),
    value: num(first.database_bytes),
    threshold,
    nodes: ['primary'],
    sources: ['08_storage.sql'],
    details,
  });
}

async function replication(s: Sessions): Promise<HealthCheck> {
  const standbys = await rows(s.primary, '09_replication.sql');
  const slots = await rows(s.primary, '09_replication_slots.sql');
  const first = standbys[0] ?? {};
  const threshold = `replay lag: good <= ${num(first.good_max_ms) ?? 10} ms (the study's criterion), ok <= ${num(first.ok_max_ms) ?? 1000} ms, warning above or not streaming; inactive slot: warning`;
  const statuses: CheckStatus[] = [...standbys.map((r) => asStatus(r.status)), ...slots.map((r) => asStatus(r.status))];
  const notes: string[] = slots.filter((r) => r.status === 'warning').map((r) => `slot ${String(r.slot_name)} is inactive and retains ${bytes(r.retained_wal_bytes)} of WAL`);
  const details: Row[] = [...standbys.map((r) => ({ kind: 'standby', ...r })), ...slots.map((r) => ({ kind: 'slot', ...r }))];
  if (!s.replicaConfigured) {
    return check('replication', {
      status: standbys.length > 0 ? worst(statuses) : 'ok',
      figure: standbys.length > 0 ? `${standbys.length} standby(s) streaming from the primary; no replica URL given` : 'no replica configured (reads go to the primary)',
      value: null,
      threshold,
      nodes: ['primary'],
      sources: ['09_replication.sql', '09_replication_slots.sql'],
      details,
      notes,
    });
  }
  if (s.replica) {
    const [rs] = await rows(s.replica, '09_replica_status.sql');
    if (rs) {
      statuses.push(asStatus(rs.status));
      details.push({ kind: 'replica', ...rs });
      if (rs.status === 'warning') notes.push('the replica URL points at a server that is not in recovery (not a standby)');
    }
  } else {
    statuses.push('warning');
    notes.push(`replica unreachable: ${s.replicaError ?? 'unknown error'}`);
  }
  if (standbys.length === 0) {
    statuses.push('warning');
    notes.push('no standby is connected to the primary (pg_stat_replication is empty)');
  }
  const lags = standbys.map((r) => num(r.replay_lag_ms) ?? 0);
  return check('replication', {
    status: worst(statuses),
    figure:
      standbys.length > 0
        ? standbys.map((r) => `${String(r.application_name)} ${String(r.state)}, replay lag ${ms(num(r.replay_lag_ms) ?? 0)}, ${String(r.replay_lag_bytes ?? 0)} bytes behind`).join('; ')
        : 'not streaming',
    value: lags.length > 0 ? Math.max(...lags) : null,
    threshold,
    nodes: s.replica ? ['primary', 'replica'] : ['primary'],
    sources: ['09_replication.sql', '09_replication_slots.sql', '09_replica_status.sql'],
    details,
    notes,
  });
}

async function unusedIndexes(s: Sessions): Promise<HealthCheck> {
  // An index is unused only if no node scanned it: intersect the per-node lists.
  const perNode = await Promise.all(nodesOf(s).map(async ([node, client]) => [node, await rows(client, '10_unused_indexes.sql')] as const));
  const [firstNode, ...others] = perNode;
  const key = (r: Row) => `${String(r.table_name)}.${String(r.index_name)}`;
  const unused = (firstNode?.[1] ?? []).filter((r) => others.every(([, list]) => list.some((o) => key(o) === key(r))));
  const minWarning = num(unused[0]?.min_warning_bytes) ?? 100 * 1024 ** 2;
  return check('unused_indexes', {
    status: unused.length === 0 ? 'good' : worst(unused.map((r) => asStatus(r.status))),
    figure: unused.length === 0 ? 'none: every non-unique index was scanned on some node' : `${unused.length} unused: ${unused.map((r) => `${String(r.index_name)} (${String(r.size)})`).join(', ')}`,
    value: unused.length,
    threshold: `idx_scan = 0 on every node since the statistics reset (pk/unique excluded): ok below ${bytes(minWarning)}, warning from ${bytes(minWarning)}`,
    nodes: perNode.map(([n]) => n),
    sources: ['10_unused_indexes.sql'],
    details: unused,
    notes: countingNote(s),
  });
}

async function slowQueries(s: Sessions): Promise<HealthCheck> {
  const details: Row[] = [];
  const notes: string[] = [];
  const nodes: NodeName[] = [];
  let first: Row = {};
  for (const [node, client] of nodesOf(s)) {
    const ext = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
    if (ext.rowCount === 0) {
      notes.push(`${node}: pg_stat_statements is not installed in this database`);
      continue;
    }
    try {
      const r = await rows(client, '11_slow_queries.sql');
      nodes.push(node);
      first = r[0] ?? first;
      for (const row of r) details.push({ node, ...row });
    } catch (e) {
      // Installed but not preloaded (shared_preload_libraries): the view errors.
      notes.push(`${node}: ${(e as Error).message}`);
    }
  }
  details.sort((a, b) => (num(b.mean_ms) ?? 0) - (num(a.mean_ms) ?? 0));
  const top = details[0];
  const threshold = `mean execution per DML statement: good <= ${num(first.good_max_ms) ?? 10} ms, ok <= ${num(first.ok_max_ms) ?? 100} ms (seed 002: slow > 100 ms), warning above`;
  if (nodes.length === 0) {
    return check('slow_queries', { status: 'ok', figure: 'pg_stat_statements unavailable: cannot tell', value: null, threshold, nodes, sources: ['11_slow_queries.sql'], details, notes });
  }
  return check('slow_queries', {
    status: worst(details.map((r) => asStatus(r.status))),
    figure: top ? `slowest mean ${ms(num(top.mean_ms))} over ${String(top.calls)} calls on ${String(top.node)}: ${String(top.query).slice(0, 80)}` : 'no DML statements recorded yet',
    value: top ? num(top.mean_ms) : null,
    threshold,
    nodes,
    sources: ['11_slow_queries.sql'],
    details,
    notes,
  });
}

const CHECKS: Readonly<Record<CheckId, (s: Sessions) => Promise<HealthCheck>>> = {
  vacuum_analyze: vacuumAnalyze,
  dead_tuples: deadTuples,
  index_usage: indexUsage,
  query_plans: queryPlans,
  autovacuum_settings: autovacuumSettings,
  bloat,
  cache_hit: cacheHit,
  storage,
  replication,
  unused_indexes: unusedIndexes,
  slow_queries: slowQueries,
};

export function parseCheckIds(text: string): CheckId[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!(CHECK_IDS as readonly string[]).includes(id)) throw new EsbenchError('BAD_FLAG', `--only: unknown check '${id}' (checks: ${CHECK_IDS.join(', ')})`);
  }
  if (ids.length === 0) throw new EsbenchError('BAD_FLAG', '--only needs at least one check');
  return ids as CheckId[];
}

/**
 * Runs the checks in CHECK_IDS order. The dead-tuple check runs before anything that scans events
 * (a scan on the primary may prune pages and lower n_dead_tup). A check that fails to run reports
 * a warning with the error instead of aborting the others; an unreachable primary aborts.
 */
export async function runHealthChecks(target: HealthTarget, options: HealthOptions = {}): Promise<HealthReport> {
  const timeout = options.statementTimeoutMs ?? 15_000;
  let primary: pg.Client;
  try {
    primary = await connect(target.primaryUrl, timeout);
  } catch (e) {
    throw fromDatabaseError(e);
  }
  const replicaConfigured = target.replicaUrl !== undefined && target.replicaUrl !== '' && target.replicaUrl !== target.primaryUrl;
  const sessions: Sessions = { primary, counting: [], replica: null, replicaConfigured, replicaError: null, dataDir: target.dataDir };
  try {
    if (!(await stopCounting(primary))) sessions.counting.push('primary');
    if (replicaConfigured) {
      try {
        sessions.replica = await connect(target.replicaUrl!, timeout);
        if (!(await stopCounting(sessions.replica))) sessions.counting.push('replica');
      } catch (e) {
        sessions.replicaError = (e as Error).message;
      }
    }
    const info = await primary.query<{ db: string; has_events: boolean }>("SELECT current_database() AS db, to_regclass('events') IS NOT NULL AS has_events");
    const database = info.rows[0]?.db ?? '?';
    if (!info.rows[0]?.has_events) {
      throw new EsbenchError('BAD_CONFIG', `database ${database} has no events table: point esbench at the event store's database (or apply the schema first)`);
    }
    const ids = CHECK_IDS.filter((id) => !options.only || options.only.includes(id));
    const checks: HealthCheck[] = [];
    for (const id of ids) {
      try {
        checks.push(await CHECKS[id](sessions));
      } catch (e) {
        if (e instanceof EsbenchError && e.code !== 'INTERNAL') throw e;
        checks.push(
          check(id, {
            status: 'warning',
            figure: `could not run: ${(e as Error).message.split('\n')[0]}`,
            value: null,
            threshold: '-',
            nodes: [],
            sources: [],
            details: [],
          }),
        );
      }
    }
    const counts: Record<CheckStatus, number> = { good: 0, ok: 0, warning: 0 };
    for (const c of checks) counts[c.status] += 1;
    return {
      checkedAt: new Date().toISOString(),
      database,
      primary: redactUrl(target.primaryUrl),
      replica: replicaConfigured ? redactUrl(target.replicaUrl!) : null,
      status: worst(checks.map((c) => c.status)),
      counts,
      checks,
    };
  } finally {
    await primary.end().catch(() => {});
    await sessions.replica?.end().catch(() => {});
  }
}
