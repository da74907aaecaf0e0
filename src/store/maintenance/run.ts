/**
 * Runs a maintenance plan on the primary, one statement at a time (REINDEX CONCURRENTLY cannot run
 * in a transaction), with a bounded lock wait, and reports each statement timed, skipped or failed.
 */
import type pg from 'pg';
import { APPLICATION_NAMES } from '../../core/application-names.ts';
import { EsbenchError, fromDatabaseError, LOCK_NOT_AVAILABLE } from '../../core/errors.ts';
import { connectClient } from '../../core/pg-client.ts';
import type { MaintenancePlan, MaintenanceStepName } from './plan.ts';
import { MAINTAINED_TABLES, REINDEX_ALLOW_LIST } from './targets.ts';

export type MaintenanceStatus = 'planned' | 'done' | 'skipped' | 'failed';

export interface StatementResult {
  sql: string;
  status: MaintenanceStatus;
  durationMs: number;
  detail?: string;
}

export interface StepResult {
  name: MaintenanceStepName;
  description: string;
  locks: string;
  status: MaintenanceStatus;
  durationMs: number;
  statements: StatementResult[];
  notes: string[];
}

export interface MaintenanceReport {
  database: string | null;
  dryRun: boolean;
  profile: string | null;
  steps: StepResult[];
  totalMs: number;
  ok: boolean;
  /** The first failure, for the CLI's exit code. */
  error?: { code: string; message: string };
}

export interface RunOptions {
  /** lock_timeout of the session: a step that cannot get its lock fails instead of waiting. */
  lockTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

/** The plan as a report without touching a database (`--dry-run`). */
export function dryRunReport(plan: MaintenancePlan): MaintenanceReport {
  return {
    database: null,
    dryRun: true,
    profile: plan.profile,
    steps: plan.steps.map((s) => ({
      name: s.name,
      description: s.description,
      locks: s.locks,
      status: 'planned',
      durationMs: 0,
      statements: s.statements.map((st) => ({ sql: st.sql, status: 'planned', durationMs: 0 })),
      notes: [],
    })),
    totalMs: 0,
    ok: true,
  };
}

function worstStatus(statuses: MaintenanceStatus[]): MaintenanceStatus {
  if (statuses.includes('failed')) return 'failed';
  if (statuses.includes('done')) return 'done';
  return 'skipped';
}

/** Runs the plan on the primary, one statement at a time (REINDEX CONCURRENTLY cannot run in a transaction). */
export async function runMaintenance(
  primaryUrl: string,
  plan: MaintenancePlan,
  options: RunOptions = {},
): Promise<MaintenanceReport> {
  const progress = options.onProgress ?? (() => {});
  let client: pg.Client;
  try {
    client = await connectClient(primaryUrl, { applicationName: APPLICATION_NAMES.maintain });
  } catch (e) {
    throw fromDatabaseError(e);
  }
  // VACUUM/ANALYZE on a table the role may not maintain only WARN and skip it; without watching
  // the notices, such a run would look done.
  let warnings: string[] = [];
  client.on('notice', (n) => {
    if (n.severity === 'WARNING') warnings.push(n.message ?? '');
  });
  const started = performance.now();
  const report: MaintenanceReport = {
    database: null,
    dryRun: false,
    profile: plan.profile,
    steps: [],
    totalMs: 0,
    ok: true,
  };
  try {
    const info = await client.query<{ db: string; recovery: boolean }>(
      'SELECT current_database() AS db, pg_is_in_recovery() AS recovery',
    );
    report.database = info.rows[0]?.db ?? null;
    if (info.rows[0]?.recovery)
      throw new EsbenchError('BAD_CONFIG', 'maintain must run on the primary: this server is a standby (read-only)');
    // Maintenance may legitimately run for minutes; only waiting for a lock is bounded.
    await client.query("SELECT set_config('statement_timeout', '0', false), set_config('lock_timeout', $1, false)", [
      `${options.lockTimeoutMs ?? 10_000}ms`,
    ]);
    const names = [...MAINTAINED_TABLES, ...REINDEX_ALLOW_LIST];
    const existing = await client.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[])`,
      [names],
    );
    const present = new Set(existing.rows.map((r) => r.relname));

    for (const step of plan.steps) {
      if (options.signal?.aborted) break;
      progress(`${step.name}: ${step.description}`);
      const result: StepResult = {
        name: step.name,
        description: step.description,
        locks: step.locks,
        status: 'done',
        durationMs: 0,
        statements: [],
        notes: [],
      };
      const stepStart = performance.now();
      if (step.name === 'reindex') {
        result.notes.push(...(await invalidIndexNotes(client)));
        // Found while testing: the rebuilt index is a new relation. The primary carries its scan
        // counters over; a replica keeps its own counters, which restart at zero.
        result.notes.push(
          "rebuilt indexes are new relations: the replica's scan counters for them restart at 0 (the unused-index report needs time again)",
        );
      }
      for (const st of step.statements) {
        if (options.signal?.aborted) break;
        if (!present.has(st.target)) {
          result.statements.push({
            sql: st.sql,
            status: 'skipped',
            durationMs: 0,
            detail: `${st.target} does not exist`,
          });
          continue;
        }
        const t0 = performance.now();
        warnings = [];
        try {
          await client.query(st.sql);
          const skipped = warnings.find((w) => /skipping/i.test(w));
          if (skipped) {
            const message = `${skipped}: connect as the tables' owner or a superuser`;
            result.statements.push({
              sql: st.sql,
              status: 'failed',
              durationMs: performance.now() - t0,
              detail: message,
            });
            report.ok = false;
            report.error ??= { code: 'BAD_CONFIG', message: `${st.sql}: ${message}` };
            continue;
          }
          result.statements.push({ sql: st.sql, status: 'done', durationMs: performance.now() - t0 });
          progress(`  ${st.sql} (${(performance.now() - t0).toFixed(0)} ms)`);
        } catch (e) {
          const err = classifyFailure(e);
          result.statements.push({
            sql: st.sql,
            status: 'failed',
            durationMs: performance.now() - t0,
            detail: err.message,
          });
          report.ok = false;
          report.error ??= { code: err.code, message: `${st.sql}: ${err.message}` };
        }
      }
      if (step.name === 'vacuum') result.notes.push(...(await deadRowsLeftNotes(client)));
      result.durationMs = performance.now() - stepStart;
      result.status = worstStatus(result.statements.map((s) => s.status));
      report.steps.push(result);
    }
  } finally {
    report.totalMs = performance.now() - started;
    await client.end().catch(() => {});
  }
  return report;
}

/** Maintenance failures a user can act on get their own code instead of INTERNAL. */
function classifyFailure(e: unknown): EsbenchError {
  const pgCode = (e as { code?: string }).code;
  const message = (e as Error).message ?? String(e);
  // lock_not_available: another session holds a conflicting lock longer than --lock-timeout.
  if (pgCode === LOCK_NOT_AVAILABLE)
    return new EsbenchError('LOCK_TIMEOUT', `could not get its lock within --lock-timeout (${message})`, { cause: e });
  // insufficient_privilege: VACUUM/REINDEX/ALTER TABLE need the table's owner or a superuser.
  if (pgCode === '42501')
    return new EsbenchError('BAD_CONFIG', `${message}: connect as the tables' owner or a superuser`, { cause: e });
  return fromDatabaseError(e);
}

/** Leftovers of an interrupted REINDEX/CREATE INDEX CONCURRENTLY: invalid indexes still maintained on every append. */
async function invalidIndexNotes(client: pg.Client): Promise<string[]> {
  const r = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE NOT i.indisvalid AND n.nspname = current_schema() AND t.relname = ANY($1::text[])`,
    [[...MAINTAINED_TABLES]],
  );
  return r.rows.map(
    (row) =>
      `invalid index ${row.name} (left by an interrupted concurrent build): drop it with DROP INDEX CONCURRENTLY ${row.name}`,
  );
}

/** Dead rows VACUUM could not remove yet are held by some snapshot: say so instead of looking done. */
async function deadRowsLeftNotes(client: pg.Client): Promise<string[]> {
  const r = await client.query<{ relname: string; n_dead_tup: string }>(
    `SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY($1::text[]) AND n_dead_tup > 0`,
    [[...MAINTAINED_TABLES]],
  );
  return r.rows.map(
    (row) =>
      `${row.relname}: ${row.n_dead_tup} dead rows not yet removable (an open transaction, or the replica's hot_standby_feedback xmin, still sees them); they go at the next vacuum`,
  );
}
