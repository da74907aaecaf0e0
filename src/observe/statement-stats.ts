/**
 * What the database itself says each statement cost during the measured window: a snapshot of
 * pg_stat_statements at the start and at the end, diffed per entry, grouped by the service's
 * statement names (the leading `/* esbench:<name> *\/` comment).
 *
 * pg_stat_statements is cumulative and gives, per entry, calls, total / mean / stddev of the
 * execution time (population stddev). The window's figures come from the two snapshots:
 *   calls = c₂ − c₁, total = t₂ − t₁, mean = total / calls,
 *   Σx² of a snapshot = (stddev² + mean²) · calls, so the window's variance is
 *   (Σx²₂ − Σx²₁) / calls − mean².
 * The subtraction loses precision when the history before the window dwarfs the window (a
 * warning says so); resetting the statistics before a run (resetStatements) avoids it.
 *
 * Only the current database's entries are read; the observer's own statements are left out.
 */
import type pg from 'pg';
import { OBSERVER_STATEMENT, observerSql, statementName } from './observer-client.ts';

export interface StatementEntry {
  /** userid:dbid:queryid:toplevel — the identity of a pg_stat_statements entry. */
  key: string;
  queryid: string;
  toplevel: boolean;
  /** The service's statement name, or null for untagged SQL. */
  name: string | null;
  /** First characters of the normalised text. */
  query: string;
  calls: number;
  totalExecMs: number;
  meanExecMs: number;
  stddevExecMs: number;
  /** Planning (PG 13+ with pg_stat_statements.track_planning on; else 0, see StatementSnapshot.planning). */
  totalPlanMs: number;
  rows: number;
  sharedBlksHit: number;
  sharedBlksRead: number;
  walBytes: number;
  /** When this entry's statistics started (PG 17+), epoch ms; detects a reset between snapshots. */
  statsSince: number | null;
}

export interface StatementSnapshot {
  node: string;
  takenAt: number;
  serverVersionNum: number;
  /** Entries evicted so far (pg_stat_statements_info.dealloc). */
  deallocations: number | null;
  /** Whether planning time is in the entries: 'tracked', or why not. */
  planning: PlanningTracking;
  entries: StatementEntry[];
}

/**
 * Planning time is in pg_stat_statements from PostgreSQL 13, and only with
 * pg_stat_statements.track_planning on (esbench's own cluster turns it on; it is off by default).
 */
export type PlanningTracking = 'tracked' | 'off (pg_stat_statements.track_planning)' | 'not available (PostgreSQL < 13)';

export interface StatementWindowEntry {
  name: string;
  node: string;
  queryids: string[];
  /** One of the texts, for the report. */
  query: string;
  calls: number;
  totalExecMs: number;
  meanExecMs: number | null;
  stddevExecMs: number | null;
  /** Planning in the window (0 when planning is not tracked: see StatementWindow.planning). */
  totalPlanMs: number;
  meanPlanMs: number | null;
  /** Distinct statement shapes (queryids) behind this name, most calls first. */
  shapes: Array<{ queryid: string; calls: number; meanExecMs: number | null; meanPlanMs: number | null }>;
  rows: number;
  rowsPerCall: number | null;
  sharedBlksHit: number;
  sharedBlksRead: number;
  /** Shared-buffer hit ratio of this statement in the window. */
  hitRatio: number | null;
  walBytes: number;
  walBytesPerCall: number | null;
  /** An entry of this group was reset or re-created during the window (its whole count was used). */
  reset: boolean;
}

export interface StatementWindow {
  node: string;
  fromAt: number;
  toAt: number;
  /** By service statement name. */
  byName: Record<string, StatementWindowEntry>;
  /** Untagged statements that ran in the window, most total time first (at most `untaggedLimit`). */
  untagged: StatementWindowEntry[];
  /** Calls of the observer's own statements in the window (left out of everything above). */
  observerCalls: number;
  /** The observer's own execution + planning time in the window, ms (left out of everything above). */
  observerMs: number;
  /** Execution + planning of every statement of this database in the window, the observer's included, ms. */
  databaseMs: number;
  /** observerMs / databaseMs: what watching cost the database, as a share of its statement time. */
  observerShare: number | null;
  planning: PlanningTracking;
  /** Entries evicted during the window (pg_stat_statements.max reached): figures may miss calls. */
  evictions: number | null;
  warnings: string[];
}

interface Row {
  userid: string;
  dbid: string;
  queryid: string | null;
  toplevel: boolean;
  query: string | null;
  tag: string | null;
  calls: string;
  total_exec_time: number;
  mean_exec_time: number;
  stddev_exec_time: number;
  total_plan_time: number;
  rows: string;
  shared_blks_hit: string;
  shared_blks_read: string;
  wal_bytes: string | null;
  stats_since_ms: string | null;
}

export interface SnapshotOptions {
  /** Label of the node (primary / replica). */
  node: string;
  /** Characters of query text kept per entry (default 300). */
  queryTextLimit?: number;
}

export async function snapshotStatements(client: pg.ClientBase | pg.Pool, options: SnapshotOptions): Promise<StatementSnapshot> {
  // One round trip for the version and the planning setting (NULL where pg_stat_statements lacks it).
  const v = await client.query<{ v: string; planning: string | null }>(
    observerSql(`SELECT current_setting('server_version_num') AS v, current_setting('pg_stat_statements.track_planning', true) AS planning`),
  );
  const serverVersionNum = Number(v.rows[0]?.v ?? 0);
  // stats_since appeared in PG 17.
  const since = serverVersionNum >= 170000 ? 'extract(epoch FROM s.stats_since) * 1000' : 'NULL::numeric';
  let planning: PlanningTracking = 'not available (PostgreSQL < 13)';
  if (serverVersionNum >= 130000) planning = v.rows[0]?.planning === 'on' ? 'tracked' : 'off (pg_stat_statements.track_planning)';
  const plan = serverVersionNum >= 130000 ? 's.total_plan_time' : '0::float8';
  const takenAt = Date.now();
  // Named, so a second snapshot on the same connection is not planned again: the closing
  // snapshot's planning would be recorded before it reads the statistics, inside the window.
  const r = await client.query<Row>({
    name: `esbench_observer_statements_${serverVersionNum >= 170000 ? 17 : serverVersionNum >= 130000 ? 13 : 0}`,
    text: observerSql(`SELECT s.userid::text AS userid, s.dbid::text AS dbid, s.queryid::text AS queryid, s.toplevel,
            left(s.query, $1) AS query,
            -- The tag may sit at the end of a long statement (PG 18 keeps only trailing comments):
            -- read it from the whole text, not from the truncated one.
            substring(s.query from '/[*][[:space:]]*esbench:([A-Za-z0-9_.:@-]+)[[:space:]]*[*]/') AS tag, s.calls, s.total_exec_time, s.mean_exec_time, s.stddev_exec_time, ${plan} AS total_plan_time,
            s.rows, s.shared_blks_hit, s.shared_blks_read, s.wal_bytes::text AS wal_bytes,
            ${since} AS stats_since_ms
       FROM pg_stat_statements s
      WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`),
    values: [options.queryTextLimit ?? 300],
  });
  let deallocations: number | null = null;
  try {
    const info = await client.query<{ dealloc: string }>(observerSql(`SELECT dealloc FROM pg_stat_statements_info`));
    deallocations = Number(info.rows[0]?.dealloc ?? 0);
  } catch {
    /* pg_stat_statements older than 1.9: no eviction count */
  }
  const entries: StatementEntry[] = r.rows
    .filter((row) => row.queryid !== null)
    .map((row) => {
      const query = row.query ?? '';
      return {
        key: `${row.userid}:${row.dbid}:${row.queryid}:${row.toplevel ? 't' : 'f'}`,
        queryid: row.queryid!,
        toplevel: row.toplevel,
        name: row.tag ?? statementName(query),
        query,
        calls: Number(row.calls),
        totalExecMs: row.total_exec_time,
        meanExecMs: row.mean_exec_time,
        stddevExecMs: row.stddev_exec_time,
        totalPlanMs: row.total_plan_time ?? 0,
        rows: Number(row.rows),
        sharedBlksHit: Number(row.shared_blks_hit),
        sharedBlksRead: Number(row.shared_blks_read),
        walBytes: Number(row.wal_bytes ?? 0),
        statsSince: row.stats_since_ms === null ? null : Number(row.stats_since_ms),
      };
    });
  return { node: options.node, takenAt, serverVersionNum, deallocations, planning, entries };
}

/** Forgets all statement statistics of the node (superuser or pg_read_all_stats needed). */
export async function resetStatements(client: pg.ClientBase | pg.Pool): Promise<void> {
  await client.query(observerSql(`SELECT pg_stat_statements_reset()`));
}

const sumSquares = (e: Pick<StatementEntry, 'calls' | 'meanExecMs' | 'stddevExecMs'>): number =>
  (e.stddevExecMs * e.stddevExecMs + e.meanExecMs * e.meanExecMs) * e.calls;

interface Accumulator {
  name: string;
  queryids: string[];
  query: string;
  calls: number;
  total: number;
  plan: number;
  shapes: Map<string, { calls: number; total: number; plan: number }>;
  sumSq: number;
  rows: number;
  hit: number;
  read: number;
  wal: number;
  reset: boolean;
}

function finish(node: string, a: Accumulator): StatementWindowEntry {
  const mean = a.calls > 0 ? a.total / a.calls : null;
  const variance = mean !== null ? Math.max(0, a.sumSq / a.calls - mean * mean) : null;
  return {
    name: a.name,
    node,
    queryids: a.queryids,
    query: a.query,
    calls: a.calls,
    totalExecMs: a.total,
    meanExecMs: mean,
    stddevExecMs: variance === null ? null : Math.sqrt(variance),
    totalPlanMs: a.plan,
    meanPlanMs: a.calls > 0 ? a.plan / a.calls : null,
    shapes: [...a.shapes]
      .sort(([, x], [, y]) => y.calls - x.calls)
      .map(([queryid, x]) => ({ queryid, calls: x.calls, meanExecMs: x.calls > 0 ? x.total / x.calls : null, meanPlanMs: x.calls > 0 ? x.plan / x.calls : null })),
    rows: a.rows,
    rowsPerCall: a.calls > 0 ? a.rows / a.calls : null,
    sharedBlksHit: a.hit,
    sharedBlksRead: a.read,
    hitRatio: a.hit + a.read > 0 ? a.hit / (a.hit + a.read) : null,
    walBytes: a.wal,
    walBytesPerCall: a.calls > 0 ? a.wal / a.calls : null,
    reset: a.reset,
  };
}

export interface DiffOptions {
  /** How many untagged statements to list (default 10). */
  untaggedLimit?: number;
}

/** The window between two snapshots of the same node, grouped by statement name. */
export function diffStatements(start: StatementSnapshot, end: StatementSnapshot, options: DiffOptions = {}): StatementWindow {
  const before = new Map(start.entries.map((e) => [e.key, e]));
  const named = new Map<string, Accumulator>();
  const untagged: Accumulator[] = [];
  const warnings: string[] = [];
  let observerCalls = 0;
  let observerMs = 0;
  let databaseMs = 0;
  let historyCalls = 0;
  let windowCalls = 0;

  for (const e of end.entries) {
    let b = before.get(e.key);
    let reset = false;
    if (b && (e.calls < b.calls || (e.statsSince !== null && b.statsSince !== null && e.statsSince > b.statsSince))) {
      // Reset or evicted and re-created in between: everything the entry holds is from the window.
      b = undefined;
      reset = true;
    }
    const calls = e.calls - (b?.calls ?? 0);
    if (calls <= 0) continue;
    const execMs = e.totalExecMs - (b?.totalExecMs ?? 0);
    const planMs = e.totalPlanMs - (b?.totalPlanMs ?? 0);
    databaseMs += execMs + planMs;
    if (e.name === OBSERVER_STATEMENT) {
      observerCalls += calls;
      observerMs += execMs + planMs;
      continue;
    }
    historyCalls += b?.calls ?? 0;
    windowCalls += calls;
    const label = e.name ?? `untagged:${e.queryid}`;
    let acc = e.name === null ? undefined : named.get(e.name);
    if (!acc) {
      acc = { name: label, queryids: [], query: e.query, calls: 0, total: 0, plan: 0, shapes: new Map(), sumSq: 0, rows: 0, hit: 0, read: 0, wal: 0, reset: false };
      if (e.name === null) untagged.push(acc);
      else named.set(e.name, acc);
    }
    acc.queryids.push(e.queryid);
    acc.calls += calls;
    acc.total += execMs;
    acc.plan += planMs;
    const shape = acc.shapes.get(e.queryid) ?? { calls: 0, total: 0, plan: 0 };
    shape.calls += calls;
    shape.total += execMs;
    shape.plan += planMs;
    acc.shapes.set(e.queryid, shape);
    acc.sumSq += sumSquares(e) - (b ? sumSquares(b) : 0);
    acc.rows += e.rows - (b?.rows ?? 0);
    acc.hit += e.sharedBlksHit - (b?.sharedBlksHit ?? 0);
    acc.read += e.sharedBlksRead - (b?.sharedBlksRead ?? 0);
    acc.wal += e.walBytes - (b?.walBytes ?? 0);
    acc.reset ||= reset;
  }

  const evictions = start.deallocations !== null && end.deallocations !== null ? end.deallocations - start.deallocations : null;
  if (evictions !== null && evictions > 0) {
    warnings.push(`${evictions} pg_stat_statements entries were evicted during the window (raise pg_stat_statements.max): some calls may be missing`);
  }
  if (windowCalls > 0 && historyCalls > 100 * windowCalls) {
    warnings.push('the statistics held far more calls before the window than in it: window stddevs are imprecise (reset pg_stat_statements before the run)');
  }
  const byName: Record<string, StatementWindowEntry> = {};
  for (const [name, acc] of [...named].sort(([a], [b]) => a.localeCompare(b))) byName[name] = finish(end.node, acc);
  return {
    node: end.node,
    fromAt: start.takenAt,
    toAt: end.takenAt,
    byName,
    untagged: untagged
      .sort((a, b) => b.total - a.total)
      .slice(0, options.untaggedLimit ?? 10)
      .map((a) => finish(end.node, a)),
    observerCalls,
    observerMs,
    databaseMs,
    observerShare: databaseMs > 0 ? observerMs / databaseMs : null,
    planning: end.planning,
    evictions,
    warnings,
  };
}
