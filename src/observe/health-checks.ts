/**
 * `esbench health`: seed 004's eight validation checks for the event store, plus replication,
 * unused indexes and slow queries. Each check is one file in ./health/ exporting
 * `{ id, title, sources, run }` and ends in a status (good / ok / warning), its figures (data, typed
 * per check; src/report/health-figures.ts formats them) and the threshold that decided it; this
 * file lists them, opens the sessions and runs them in order.
 *
 * The SQL lives in sql/health/*.sql, one SELECT per file, so that people with only psql run the
 * very same queries; where a file computes a status, its thresholds are columns of its result (the
 * one source for the numbers). What SQL cannot do alone happens in the checks: adding up the two
 * nodes (each node counts only its own scans, reads and statements), EXPLAIN with bound
 * parameters, and the disk usage of a local data directory.
 */
import type pg from 'pg';
import { APPLICATION_NAMES } from '../core/application-names.ts';
import { EsbenchError, fromDatabaseError } from '../core/errors.ts';
import { connectClient } from '../core/pg-client.ts';
import { redactUrl } from '../core/redact.ts';
import { autovacuumSettings } from './health/autovacuum-settings.ts';
import { bloat } from './health/bloat.ts';
import { cacheHit } from './health/cache-hit.ts';
import { worst, type CheckStatus, type HealthCheck, type HealthCheckDefinition, type Sessions } from './health/check.ts';
import { deadTuples } from './health/dead-tuples.ts';
import { indexUsage } from './health/index-usage.ts';
import { queryPlans } from './health/query-plans.ts';
import { replication } from './health/replication.ts';
import { slowQueries } from './health/slow-queries.ts';
import { storage } from './health/storage.ts';
import { unusedIndexes } from './health/unused-indexes.ts';
import { vacuumAnalyze } from './health/vacuum-analyze.ts';

export type { CheckStatus, HealthCheck, NodeName } from './health/check.ts';
export { worst } from './health/check.ts';
export { PLAN_GOOD_MAX_MS, PLAN_OK_MAX_MS } from './health/query-plans.ts';
export { DISK_OK_BELOW_PCT, DISK_WARNING_FROM_PCT } from './health/storage.ts';

/**
 * The checks in the order they run. The dead-tuple check runs before anything that scans events
 * (a scan on the primary may prune pages and lower n_dead_tup).
 */
const CHECKS = [
  vacuumAnalyze,
  deadTuples,
  indexUsage,
  queryPlans,
  autovacuumSettings,
  bloat,
  cacheHit,
  storage,
  replication,
  unusedIndexes,
  slowQueries,
] as const;

export type CheckId = (typeof CHECKS)[number]['id'];
type FiguresOf<D> = D extends HealthCheckDefinition<string, infer F> ? F : never;
/** What each check measures, by id (each check file exports its figures' type). */
export type CheckFigures = { [D in (typeof CHECKS)[number] as D['id']]: FiguresOf<D> };
/** One check's outcome in a report, its figures typed by its id. */
export type CheckResult = { [Id in CheckId]: HealthCheck<Id, CheckFigures[Id]> }[CheckId];
/** id, title and SQL files of every check, in run order. */
export const CHECK_DEFINITIONS: ReadonlyArray<{ id: CheckId; title: string; sources: readonly string[] }> = CHECKS;
export const CHECK_IDS: readonly CheckId[] = CHECKS.map((c) => c.id);
export const CHECK_TITLES: Readonly<Record<CheckId, string>> = Object.fromEntries(CHECKS.map((c) => [c.id, c.title])) as Record<CheckId, string>;

/** The result of `esbench health` (the service's /health answer is ServiceHealth, another thing). */
export interface HealthReport {
  checkedAt: string;
  database: string;
  primary: string;
  replica: string | null;
  status: CheckStatus;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
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

function connect(url: string, statementTimeoutMs: number): Promise<pg.Client> {
  return connectClient(url, { applicationName: APPLICATION_NAMES.health, statementTimeoutMs });
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

export function parseCheckIds(text: string): CheckId[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!(CHECK_IDS as readonly string[]).includes(id)) throw new EsbenchError('BAD_FLAG', `--only: unknown check '${id}' (checks: ${CHECK_IDS.join(', ')})`);
  }
  if (ids.length === 0) throw new EsbenchError('BAD_FLAG', '--only needs at least one check');
  return ids as CheckId[];
}

/**
 * Runs the checks in CHECKS order. A check that fails to run reports
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
    const checks: CheckResult[] = [];
    for (const def of CHECKS.filter((c) => !options.only || options.only.includes(c.id))) {
      const base = { id: def.id, title: def.title };
      try {
        const outcome = await def.run(sessions);
        // The id and the figures come from the same definition; TypeScript cannot pair them through the loop.
        checks.push({ ...base, ...outcome, sources: outcome.sources ?? [...def.sources], notes: outcome.notes ?? [] } as CheckResult);
      } catch (e) {
        if (e instanceof EsbenchError && e.code !== 'INTERNAL') throw e;
        checks.push({
          ...base,
          status: 'warning',
          figures: null,
          error: (e as Error).message.split('\n')[0] ?? '',
          value: null,
          threshold: '-',
          nodes: [],
          sources: [],
          details: [],
          notes: [],
        });
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
