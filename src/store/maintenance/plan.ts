/**
 * The maintenance plan: which statements each of seed 004's steps runs, in its order, and what
 * each step locks. Pure: nothing here touches a database (`--dry-run` prints the plan as is).
 *
 * Nothing may block appends for longer than a catalog update: every step takes at most SHARE
 * UPDATE EXCLUSIVE, which does not conflict with the ROW EXCLUSIVE lock of an INSERT, and VACUUM
 * runs with TRUNCATE false because its truncation phase takes ACCESS EXCLUSIVE (blocking appends
 * on the primary, and reads on the replica when it is replayed there).
 */
import { EsbenchError } from '../../core/errors.ts';
import { tableSettingsSql, type AutovacuumProfile } from './profile.ts';
import { isOneOf, MAINTAINED_TABLES, REINDEX_ALLOW_LIST } from './targets.ts';

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
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new EsbenchError('BAD_FLAG', '--steps needs at least one of vacuum, analyze, reindex, autovacuum');
  for (const n of names) {
    if (!isOneOf(MAINTENANCE_STEPS, n))
      throw new EsbenchError('BAD_FLAG', `--steps: unknown step '${n}' (steps: ${MAINTENANCE_STEPS.join(', ')})`);
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
  return {
    steps: planned,
    profile: steps.includes('autovacuum') ? (options.profile?.name ?? null) : null,
    allowTruncate: options.allowTruncate ?? false,
  };
}
