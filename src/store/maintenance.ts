/**
 * Seed 004's maintenance for the event store: VACUUM (ANALYZE), ANALYZE, REINDEX CONCURRENTLY of
 * the GIN and btree indexes, and the per-table autovacuum settings of an autovacuum profile.
 * In three parts: the profile (./maintenance/profile.ts), the plan (./maintenance/plan.ts, pure)
 * and the run (./maintenance/run.ts); the allow-lists of what may be named in SQL are in
 * ./maintenance/targets.ts. `sql/maintenance/*.sql` holds the same statements for psql users (a
 * unit test keeps them equal).
 */
export * from './maintenance/targets.ts';
export * from './maintenance/profile.ts';
export * from './maintenance/plan.ts';
export * from './maintenance/run.ts';
