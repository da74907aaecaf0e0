-- esbench maintain, step "vacuum" (seed 004 step 1): VACUUM (ANALYZE) of the event store's tables.
-- Run on the PRIMARY (a standby cannot vacuum). Same statements as `esbench maintain --steps vacuum`.
--
-- Locks: SHARE UPDATE EXCLUSIVE per table. Appends (INSERT) and queries go on; only DDL and other
-- vacuums of the same table wait. TRUNCATE false skips the end-of-table truncation, which takes
-- ACCESS EXCLUSIVE: it would block appends, and when replayed on the replica it blocks reads.
-- Do not run this file with `psql -1` (VACUUM cannot run inside a transaction block).
VACUUM (ANALYZE, TRUNCATE false) events;
VACUUM (ANALYZE, TRUNCATE false) snapshots;
