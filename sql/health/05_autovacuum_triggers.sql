-- esbench health check 5, detail: when autovacuum will next act on each table, from the settings in
-- force (per-table storage parameters over server settings), as autovacuum itself computes it:
--   vacuum  when n_dead_tup          > vacuum_threshold        + vacuum_scale_factor        * reltuples
--   vacuum  when n_ins_since_vacuum  > vacuum_insert_threshold + vacuum_insert_scale_factor * reltuples
--   analyze when n_mod_since_analyze > analyze_threshold       + analyze_scale_factor       * reltuples
-- Run on the PRIMARY.
WITH t AS (
  SELECT c.oid, c.relname::text AS table_name, greatest(c.reltuples, 0)::float8 AS reltuples, coalesce(c.reloptions, '{}') AS reloptions
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relname IN ('events', 'snapshots') AND c.relkind = 'r'
),
r AS (
  SELECT t.oid,
         max(CASE WHEN k = 'autovacuum_vacuum_threshold' THEN v END) AS vt,
         max(CASE WHEN k = 'autovacuum_vacuum_scale_factor' THEN v END) AS vs,
         max(CASE WHEN k = 'autovacuum_vacuum_insert_threshold' THEN v END) AS it,
         max(CASE WHEN k = 'autovacuum_vacuum_insert_scale_factor' THEN v END) AS isf,
         max(CASE WHEN k = 'autovacuum_analyze_threshold' THEN v END) AS at,
         max(CASE WHEN k = 'autovacuum_analyze_scale_factor' THEN v END) AS asf
    FROM t
    LEFT JOIN LATERAL (
      SELECT split_part(opt, '=', 1) AS k, split_part(opt, '=', 2)::float8 AS v
        FROM unnest(t.reloptions) AS opt
       WHERE split_part(opt, '=', 2) ~ '^-?[0-9.]+$'
    ) o ON true
   GROUP BY t.oid
)
SELECT t.table_name, t.reltuples::bigint AS reltuples, s.n_dead_tup, s.n_ins_since_vacuum, s.n_mod_since_analyze,
       (coalesce(r.vt, current_setting('autovacuum_vacuum_threshold')::float8)
        + coalesce(r.vs, current_setting('autovacuum_vacuum_scale_factor')::float8) * t.reltuples)::bigint AS vacuum_trigger_dead_rows,
       (coalesce(r.it, current_setting('autovacuum_vacuum_insert_threshold')::float8)
        + coalesce(r.isf, current_setting('autovacuum_vacuum_insert_scale_factor')::float8) * t.reltuples)::bigint AS vacuum_trigger_inserted_rows,
       (coalesce(r.at, current_setting('autovacuum_analyze_threshold')::float8)
        + coalesce(r.asf, current_setting('autovacuum_analyze_scale_factor')::float8) * t.reltuples)::bigint AS analyze_trigger_changed_rows
  FROM t JOIN r ON r.oid = t.oid
  LEFT JOIN pg_stat_user_tables s ON s.relid = t.oid
 ORDER BY t.table_name;
