-- esbench maintain, step "reindex" (seed 004 step 3): rebuild the GIN and btree indexes without
-- blocking writes. Run on the PRIMARY; the new indexes reach the replica through the WAL.
--
-- Locks: SHARE UPDATE EXCLUSIVE on the table and the index while the copy is built; appends and
-- queries go on. Each REINDEX waits for transactions older than its phases, so a long-running
-- transaction delays it (not the appends). If it is interrupted, an invalid <index>_ccnew index is
-- left behind and still costs every append: `esbench health` reports it; drop it with
-- DROP INDEX CONCURRENTLY. Do not run this file with `psql -1` (CONCURRENTLY needs autocommit).
REINDEX INDEX CONCURRENTLY idx_events_payload_gin;
REINDEX INDEX CONCURRENTLY idx_events_metadata_gin;
REINDEX INDEX CONCURRENTLY idx_events_event_type;
REINDEX INDEX CONCURRENTLY idx_events_occurred_at;
REINDEX INDEX CONCURRENTLY events_pkey;
