-- esbench health check 10: indexes never scanned since the statistics were reset (seed 004's report).
-- Run on BOTH nodes: an index is unused only if it is unused on each (read models use the replica).
-- Primary keys and unique indexes enforce constraints and are never reported.
-- Status: warning for an unused index of min_warning_bytes (100 MB) or more (it slows every
-- append for nothing); ok for a smaller one.
WITH th AS (SELECT 104857600::bigint AS min_warning_bytes)
SELECT s.relname::text AS table_name, s.indexrelname::text AS index_name, s.idx_scan,
       pg_relation_size(s.indexrelid) AS size_bytes, pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
       CASE WHEN pg_relation_size(s.indexrelid) >= th.min_warning_bytes THEN 'warning' ELSE 'ok' END AS status,
       th.min_warning_bytes
  FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid CROSS JOIN th
 WHERE s.schemaname = current_schema() AND s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
 ORDER BY pg_relation_size(s.indexrelid) DESC;
