-- esbench health check 8 (seed 004 test 8): storage summary of the event store.
-- Run on the PRIMARY. Status per table: indexes / heap size ratio, good <= 2, ok <= 4, warning
-- above (indexes growing faster than the data they index: bloat, or an index nobody needs);
-- tables under min_table_bytes (1 MB) are always good.
WITH th AS (SELECT 2.0::float8 AS good_max_ratio, 4.0::float8 AS ok_max_ratio, 1048576::bigint AS min_table_bytes)
SELECT current_database()::text AS database, pg_database_size(current_database()) AS database_bytes,
       c.relname::text AS table_name, greatest(c.reltuples, 0)::bigint AS estimated_rows,
       pg_table_size(c.oid) AS table_bytes, pg_indexes_size(c.oid) AS index_bytes, pg_total_relation_size(c.oid) AS total_bytes,
       round((pg_indexes_size(c.oid)::numeric / NULLIF(pg_table_size(c.oid), 0)), 2)::float8 AS index_ratio,
       CASE WHEN pg_table_size(c.oid) < th.min_table_bytes THEN 'good'
            WHEN pg_indexes_size(c.oid)::float8 / pg_table_size(c.oid) <= th.good_max_ratio THEN 'good'
            WHEN pg_indexes_size(c.oid)::float8 / pg_table_size(c.oid) <= th.ok_max_ratio THEN 'ok'
            ELSE 'warning' END AS status,
       th.good_max_ratio, th.ok_max_ratio, th.min_table_bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN th
 WHERE n.nspname = current_schema() AND c.relname IN ('events', 'snapshots') AND c.relkind = 'r'
 ORDER BY c.relname;
