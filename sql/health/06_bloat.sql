-- esbench health check 6 (seed 004 test 6): table bloat = dead rows + free space, measured by
-- pgstattuple_approx (pgstattuple extension, created by sql/schema.sql; needs superuser or
-- pg_stat_scan_tables). It reads only the pages not marked all-visible, so it is cheap after a vacuum.
-- Run on the PRIMARY.
-- Status: good < 20 %, ok 20-50 %, warning > 50 %; tables under min_table_bytes (1 MB) are always
-- good (seed 004's "SMALL: <1MB": bloat there costs nothing).
WITH th AS (SELECT 20.0::float8 AS good_below_pct, 50.0::float8 AS warning_above_pct, 1048576::bigint AS min_table_bytes)
SELECT c.relname::text AS table_name, a.table_len AS table_bytes, a.scanned_percent, a.approx_tuple_count,
       a.dead_tuple_percent, a.approx_free_percent,
       round((a.dead_tuple_percent + a.approx_free_percent)::numeric, 2)::float8 AS bloat_pct,
       CASE WHEN a.table_len < th.min_table_bytes THEN 'good'
            WHEN a.dead_tuple_percent + a.approx_free_percent < th.good_below_pct THEN 'good'
            WHEN a.dead_tuple_percent + a.approx_free_percent <= th.warning_above_pct THEN 'ok'
            ELSE 'warning' END AS status,
       th.good_below_pct, th.warning_above_pct, th.min_table_bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN th
 CROSS JOIN LATERAL pgstattuple_approx(c.oid) AS a
 WHERE n.nspname = current_schema() AND c.relname IN ('events', 'snapshots') AND c.relkind = 'r'
 ORDER BY c.relname;
