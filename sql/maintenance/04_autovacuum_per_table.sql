-- esbench maintain, step "autovacuum" (seed 004 step 4) with the default profile
-- tuning/autovacuum/seed003-per-table.conf: the per-table settings the study put on events.
-- Run on the PRIMARY.
--
-- Locks: SHARE UPDATE EXCLUSIVE for a catalog update of milliseconds; appends go on.
-- fillfactor applies to pages written from now on only.
-- Undo: ALTER TABLE events RESET (autovacuum_analyze_threshold, autovacuum_analyze_scale_factor,
--   autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor, autovacuum_vacuum_cost_delay,
--   autovacuum_vacuum_cost_limit, fillfactor);
ALTER TABLE events SET (autovacuum_vacuum_threshold = 50000, autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 3000, autovacuum_analyze_scale_factor = 0, autovacuum_vacuum_cost_delay = 0, autovacuum_vacuum_cost_limit = 10000, fillfactor = 98);
