-- esbench health check 5 (seed 004 test 5): the autovacuum settings in force, server-wide and per table.
-- Run on the PRIMARY (autovacuum does not run on a standby).
-- Status: warning when autovacuum or track_counts is off, or autovacuum is disabled on a table; else good.
-- reset_val, not setting: the value every ordinary session gets, whatever this session SET
-- (esbench health switches track_counts off for itself so that its probes do not count as index use).
SELECT 'server' AS scope, name, reset_val || coalesce(' ' || unit, '') AS value, source,
       CASE WHEN name IN ('autovacuum', 'track_counts') AND reset_val <> 'on' THEN 'warning' ELSE 'good' END AS status
  FROM pg_settings
 WHERE name LIKE 'autovacuum%' OR name IN ('track_counts', 'vacuum_cost_delay', 'vacuum_cost_limit', 'log_autovacuum_min_duration')
UNION ALL
SELECT 'table ' || c.relname, split_part(o.opt, '=', 1), split_part(o.opt, '=', 2), 'ALTER TABLE',
       CASE WHEN split_part(o.opt, '=', 1) = 'autovacuum_enabled' AND lower(split_part(o.opt, '=', 2)) IN ('false', 'off', 'no', '0')
            THEN 'warning' ELSE 'good' END
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL unnest(c.reloptions) AS o(opt)
 WHERE n.nspname = current_schema() AND c.relname IN ('events', 'snapshots')
 ORDER BY 1, 2;
