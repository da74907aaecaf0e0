/**
 * Seed 004's maintenance for the event store: VACUUM (ANALYZE), ANALYZE, REINDEX CONCURRENTLY of
 * the GIN and btree indexes, and the per-table autovacuum settings of an autovacuum profile.
 *
 * Nothing here may block appends for longer than a catalog update: every step takes at most
 * SHARE UPDATE EXCLUSIVE, which does not conflict with the ROW EXCLUSIVE lock of an INSERT, and
 * VACUUM runs with TRUNCATE false because its truncation phase takes ACCESS EXCLUSIVE (blocking
 * appends on the primary, and reads on the replica when it is replayed there).
 *
 * Identifiers cannot be bound as parameters, so every table, index and storage parameter named in
 * SQL comes from the fixed allow-lists below; values are validated as plain numbers/booleans.
 * `sql/maintenance/*.sql` holds the same statements for psql users (a unit test keeps them equal).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { EsbenchError, fromDatabaseError } from '../core/errors.ts';

export const MAINTAINED_TABLES = ['events', 'snapshots'] as const;
export type MaintainedTable = (typeof MAINTAINED_TABLES)[number];

/** The event store's indexes (sql/schema.sql), GIN first: they are the ones seed 003/004 worried about. */
export const REINDEX_ALLOW_LIST = [
  'idx_events_payload_gin',
  'idx_events_metadata_gin',
  'idx_events_event_type',
  'idx_events_occurred_at',
  'events_pkey',
] as const;

/** Storage parameters a profile may set per table (ALTER TABLE ... SET / RESET). */
export const TABLE_PARAMETERS = [
  'autovacuum_enabled',
  'autovacuum_vacuum_threshold',
  'autovacuum_vacuum_scale_factor',
  'autovacuum_vacuum_insert_threshold',
  'autovacuum_vacuum_insert_scale_factor',
  'autovacuum_analyze_threshold',
  'autovacuum_analyze_scale_factor',
  'autovacuum_vacuum_cost_delay',
  'autovacuum_vacuum_cost_limit',
  'fillfactor',
  'vacuum_truncate',
] as const;
export type TableParameter = (typeof TABLE_PARAMETERS)[number];

export const MAINTENANCE_STEPS = ['vacuum', 'analyze', 'reindex', 'autovacuum'] as const;
export type MaintenanceStepName = (typeof MAINTENANCE_STEPS)[number];
/** VACUUM (ANALYZE) already analyzes; the separate ANALYZE step is for a statistics-only refresh. */
export const DEFAULT_STEPS: readonly MaintenanceStepName[] = ['vacuum', 'reindex', 'autovacuum'];

/** What each step locks; printed by `esbench maintain --help` and in every report. */
export const STEP_LOCKS: Readonly<Record<MaintenanceStepName, string>> = {
  vacuum:
    'SHARE UPDATE EXCLUSIVE per table: appends and queries go on; only DDL and other vacuums of the table wait. ' +
    'TRUNCATE false skips the end-of-table truncation, which would take ACCESS EXCLUSIVE (blocks appends; replayed on the replica it blocks reads).',
  analyze: 'SHARE UPDATE EXCLUSIVE per table: appends and queries go on; reads a sample only.',
  reindex:
    'REINDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE on table and index while the copy is built; appends and queries go on. ' +
    'It waits for older transactions between phases (a long transaction delays it, not the appends); an interrupted run leaves an invalid <index>_ccnew that `esbench health` reports.',
  autovacuum:
    'ALTER TABLE ... SET/RESET (autovacuum_*, fillfactor): SHARE UPDATE EXCLUSIVE for a catalog update of milliseconds; appends go on. ' +
    'fillfactor applies to pages written afterwards only.',
};

const STEP_DESCRIPTIONS: Readonly<Record<MaintenanceStepName, string>> = {
  vacuum: 'VACUUM (ANALYZE): reclaim dead rows, refresh the visibility map and statistics (seed 004 step 1)',
  analyze: 'ANALYZE: refresh planner statistics only (seed 004 step 2)',
  reindex: 'REINDEX CONCURRENTLY of the GIN and btree indexes (seed 004 step 3)',
  autovacuum: 'per-table autovacuum settings from the profile (seed 004 step 4)',
};

// --- autovacuum profiles ---------------------------------------------------------------------

export interface AutovacuumProfile {
  name: string;
  /** Server settings (postgresql.conf lines), as written. */
  server: Record<string, string>;
  /** Per-table storage parameters from `#@table <table> <param> = <value>` lines. */
  tables: Partial<Record<MaintainedTable, Partial<Record<TableParameter, string>>>>;
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*$/;
const TABLE_VALUE = /^(-?\d+(\.\d+)?|on|off|true|false)$/;

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** Parses the profile format documented in tuning/autovacuum/postgres-defaults.conf. */
export function parseAutovacuumProfile(text: string, name: string): AutovacuumProfile {
  const profile: AutovacuumProfile = { name, server: {}, tables: {} };
  text.split('\n').forEach((raw, i) => {
    const where = `${name}:${i + 1}`;
    const line = raw.trim();
    const table = /^#@table\s+(\S+)\s+(\S+)\s*=\s*(\S+)\s*$/.exec(line);
    if (table) {
      const [, tableName = '', param = '', value = ''] = table;
      if (!isOneOf(MAINTAINED_TABLES, tableName)) throw new EsbenchError('BAD_CONFIG', `${where}: table '${tableName}' is not one of ${MAINTAINED_TABLES.join(', ')}`);
      if (!isOneOf(TABLE_PARAMETERS, param)) throw new EsbenchError('BAD_CONFIG', `${where}: '${param}' is not a storage parameter esbench sets`);
      if (!TABLE_VALUE.test(value)) throw new EsbenchError('BAD_CONFIG', `${where}: value '${value}' of ${param} must be a number or on/off`);
      (profile.tables[tableName] ??= {})[param] = value;
      return;
    }
    // A malformed directive must not pass as a comment: the setting would silently not apply.
    if (line.startsWith('#@')) throw new EsbenchError('BAD_CONFIG', `${where}: expected '#@table <table> <parameter> = <value>', got '${line}'`);
    if (line === '' || line.startsWith('#')) return;
    const m = /^([^=\s]+)\s*=\s*('[^']*'|[^#\s]+)\s*(#.*)?$/.exec(line);
    if (!m || !SETTING_NAME.test(m[1] ?? '')) throw new EsbenchError('BAD_CONFIG', `${where}: expected 'name = value', got '${line}'`);
    profile.server[m[1]!] = m[2]!;
  });
  return profile;
}

export function loadAutovacuumProfile(file: string): AutovacuumProfile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EsbenchError('BAD_CONFIG', `cannot read autovacuum profile ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseAutovacuumProfile(text, path.basename(file));
}

/** The profile `maintain` applies unless told otherwise: the study's final per-table settings. */
export function defaultProfileFile(tuningDir: string): string {
  return path.join(tuningDir, 'autovacuum', 'seed003-per-table.conf');
}

/**
 * ALTER TABLE statements for a profile's per-table settings. events is always covered: a profile
 * without lines for it RESETs its parameters (so sweeping profiles never inherits the previous one's);
 * other tables are touched only when the profile names them.
 */
export function tableSettingsSql(profile: AutovacuumProfile): string[] {
  return MAINTAINED_TABLES.filter((t) => t === 'events' || profile.tables[t] !== undefined).map((t) => {
    const params = profile.tables[t];
    const entries = params ? TABLE_PARAMETERS.filter((p) => params[p] !== undefined).map((p) => `${p} = ${params[p]}`) : [];
    return entries.length > 0 ? `ALTER TABLE ${t} SET (${entries.join(', ')})` : `ALTER TABLE ${t} RESET (${TABLE_PARAMETERS.join(', ')})`;
  });
}

// --- plan ------------------------------------------------------------------------------------

export interface PlannedStatement {
  sql: string;
  /** The table or index the statement needs; skipped when it does not exist. */
  target: string;
}

export interface PlannedStep {
  name: MaintenanceStepName;
  description: string;
  locks: string;
  statements: PlannedStatement[];
}

export interface MaintenancePlan {
  steps: PlannedStep[];
  profile: string | null;
  allowTruncate: boolean;
}

export interface PlanOptions {
  steps?: readonly MaintenanceStepName[];
  /** Needed by the autovacuum step. */
  profile?: AutovacuumProfile | undefined;
  /** Let VACUUM truncate empty pages at the end of the table (takes ACCESS EXCLUSIVE briefly). */
  allowTruncate?: boolean;
}

export function parseSteps(text: string): MaintenanceStepName[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new EsbenchError('BAD_FLAG', '--steps needs at least one of vacuum, analyze, reindex, autovacuum');
  for (const n of names) {
    if (!isOneOf(MAINTENANCE_STEPS, n)) throw new EsbenchError('BAD_FLAG', `--steps: unknown step '${n}' (steps: ${MAINTENANCE_STEPS.join(', ')})`);
  }
  // Always run in seed 004's order whatever order was typed.
  return MAINTENANCE_STEPS.filter((s) => names.includes(s));
}

export function planMaintenance(options: PlanOptions = {}): MaintenancePlan {
  const steps = options.steps ?? DEFAULT_STEPS;
  const truncate = options.allowTruncate ? '' : ', TRUNCATE false';
  const planned: PlannedStep[] = [];
  for (const name of MAINTENANCE_STEPS.filter((s) => steps.includes(s))) {
    let statements: PlannedStatement[];
    switch (name) {
      case 'vacuum':
        statements = MAINTAINED_TABLES.map((t) => ({ sql: `VACUUM (ANALYZE${truncate}) ${t}`, target: t }));
        break;
      case 'analyze':
        statements = MAINTAINED_TABLES.map((t) => ({ sql: `ANALYZE ${t}`, target: t }));
        break;
      case 'reindex':
        statements = REINDEX_ALLOW_LIST.map((i) => ({ sql: `REINDEX INDEX CONCURRENTLY ${i}`, target: i }));
        break;
      case 'autovacuum': {
        if (!options.profile) throw new EsbenchError('BAD_CONFIG', 'the autovacuum step needs a profile (--profile)');
        statements = tableSettingsSql(options.profile).map((sql) => ({ sql, target: sql.split(' ')[2] ?? '' }));
        break;
      }
    }
    planned.push({ name, description: STEP_DESCRIPTIONS[name], locks: STEP_LOCKS[name], statements });
  }
  return { steps: planned, profile: steps.includes('autovacuum') ? (options.profile?.name ?? null) : null, allowTruncate: options.allowTruncate ?? false };
}

// --- run -------------------------------------------------------------------------------------

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
export async function runMaintenance(primaryUrl: string, plan: MaintenancePlan, options: RunOptions = {}): Promise<MaintenanceReport> {
  const progress = options.onProgress ?? (() => {});
  const client = new pg.Client({ connectionString: primaryUrl, application_name: 'esbench_maintain', connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
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
  const report: MaintenanceReport = { database: null, dryRun: false, profile: plan.profile, steps: [], totalMs: 0, ok: true };
  try {
    const info = await client.query<{ db: string; recovery: boolean }>('SELECT current_database() AS db, pg_is_in_recovery() AS recovery');
    report.database = info.rows[0]?.db ?? null;
    if (info.rows[0]?.recovery) throw new EsbenchError('BAD_CONFIG', 'maintain must run on the primary: this server is a standby (read-only)');
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
      const result: StepResult = { name: step.name, description: step.description, locks: step.locks, status: 'done', durationMs: 0, statements: [], notes: [] };
      const stepStart = performance.now();
      if (step.name === 'reindex') {
        result.notes.push(...(await invalidIndexNotes(client)));
        // Found while testing: the rebuilt index is a new relation. The primary carries its scan
        // counters over; a replica keeps its own counters, which restart at zero.
        result.notes.push("rebuilt indexes are new relations: the replica's scan counters for them restart at 0 (the unused-index report needs time again)");
      }
      for (const st of step.statements) {
        if (options.signal?.aborted) break;
        if (!present.has(st.target)) {
          result.statements.push({ sql: st.sql, status: 'skipped', durationMs: 0, detail: `${st.target} does not exist` });
          continue;
        }
        const t0 = performance.now();
        warnings = [];
        try {
          await client.query(st.sql);
          const skipped = warnings.find((w) => /skipping/i.test(w));
          if (skipped) {
            const message = `${skipped}: connect as the tables' owner or a superuser`;
            result.statements.push({ sql: st.sql, status: 'failed', durationMs: performance.now() - t0, detail: message });
            report.ok = false;
            report.error ??= { code: 'BAD_CONFIG', message: `${st.sql}: ${message}` };
            continue;
          }
          result.statements.push({ sql: st.sql, status: 'done', durationMs: performance.now() - t0 });
          progress(`  ${st.sql} (${(performance.now() - t0).toFixed(0)} ms)`);
        } catch (e) {
          const err = classifyFailure(e);
          result.statements.push({ sql: st.sql, status: 'failed', durationMs: performance.now() - t0, detail: err.message });
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
  if (pgCode === '55P03') return new EsbenchError('STATEMENT_TIMEOUT', `could not get its lock within --lock-timeout (${message})`, { cause: e });
  // insufficient_privilege: VACUUM/REINDEX/ALTER TABLE need the table's owner or a superuser.
  if (pgCode === '42501') return new EsbenchError('BAD_CONFIG', `${message}: connect as the tables' owner or a superuser`, { cause: e });
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
  return r.rows.map((row) => `invalid index ${row.name} (left by an interrupted concurrent build): drop it with DROP INDEX CONCURRENTLY ${row.name}`);
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
