-- esbench health check 3 (seed 004 test 3): scans per index of the event store's tables.
-- Run on BOTH nodes and add the scans up: each node counts only the scans it ran itself, and
-- read models query the replica, so an index can look unused on the primary and be hot on the replica.
-- Status per node: good = scanned, ok = not yet scanned (normal on a fresh database),
-- warning = invalid (left by an interrupted CREATE/REINDEX CONCURRENTLY; still updated on every append).
SELECT s.relname::text AS table_name, s.indexrelname::text AS index_name, s.idx_scan, s.idx_tup_read, s.idx_tup_fetch,
       pg_relation_size(s.indexrelid) AS size_bytes, i.indisunique AS is_unique, i.indisprimary AS is_primary, i.indisvalid AS is_valid,
       CASE WHEN NOT i.indisvalid THEN 'warning' WHEN s.idx_scan > 0 THEN 'good' ELSE 'ok' END AS status
  FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
 WHERE s.schemaname = current_schema() AND s.relname IN ('events', 'snapshots')
 ORDER BY s.relname, s.indexrelname;
