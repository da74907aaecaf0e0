-- esbench maintain, step "analyze" (seed 004 step 2): refresh planner statistics only.
-- Run on the PRIMARY; the statistics reach the replica through the WAL.
-- VACUUM (ANALYZE) in 01 already does this; use this file alone for a quick refresh after a bulk load.
--
-- Locks: SHARE UPDATE EXCLUSIVE per table; appends and queries go on. Reads a sample only.
ANALYZE events;
ANALYZE snapshots;
