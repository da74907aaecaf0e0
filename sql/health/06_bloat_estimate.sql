-- esbench health check 6, fallback without pgstattuple: the dead share of all row versions, from the
-- statistics (free space cannot be seen without reading pages). Same thresholds as 06_bloat.sql.
-- Run on the PRIMARY.
WITH th AS (SELECT 20.0::float8 AS good_below_pct, 50.0::float8 AS warning_above_pct, 1048576::bigint AS min_table_bytes)
SELECT s.relname::text AS table_name, pg_table_size(s.relid) AS table_bytes,
       round((100.0 * s.n_dead_tup / NULLIF(s.n_live_tup + s.n_dead_tup, 0))::numeric, 2)::float8 AS bloat_pct,
       CASE WHEN pg_table_size(s.relid) < th.min_table_bytes THEN 'good'
            WHEN coalesce(100.0 * s.n_dead_tup / NULLIF(s.n_live_tup + s.n_dead_tup, 0), 0) < th.good_below_pct THEN 'good'
            WHEN 100.0 * s.n_dead_tup / NULLIF(s.n_live_tup + s.n_dead_tup, 0) <= th.warning_above_pct THEN 'ok'
            ELSE 'warning' END AS status,
       th.good_below_pct, th.warning_above_pct, th.min_table_bytes
  FROM pg_stat_user_tables s CROSS JOIN th
 WHERE s.schemaname = current_schema() AND s.relname IN ('events', 'snapshots')
 ORDER BY s.relname;
