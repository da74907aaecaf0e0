-- esbench health check 2 (seed 004 test 2): dead-row ratio, 100 * n_dead_tup / n_live_tup.
-- Run on the PRIMARY (dead rows are made and removed there).
-- Status (seed 004's thresholds): good < 5 %, ok 5-10 %, warning > 10 %.
-- Fewer than min_dead_rows dead rows is always good: below autovacuum's base threshold (50) a
-- vacuum is not worth running, and tiny tables would otherwise flap between states.
WITH th AS (SELECT 5.0::float8 AS good_below_pct, 10.0::float8 AS warning_above_pct, 50::bigint AS min_dead_rows)
SELECT s.relname::text AS table_name, s.n_live_tup, s.n_dead_tup,
       round((100.0 * s.n_dead_tup / NULLIF(s.n_live_tup, 0))::numeric, 2)::float8 AS dead_pct,
       CASE WHEN s.n_dead_tup < th.min_dead_rows THEN 'good'
            WHEN s.n_live_tup = 0 THEN 'warning'
            WHEN 100.0 * s.n_dead_tup / s.n_live_tup < th.good_below_pct THEN 'good'
            WHEN 100.0 * s.n_dead_tup / s.n_live_tup <= th.warning_above_pct THEN 'ok'
            ELSE 'warning' END AS status,
       th.good_below_pct, th.warning_above_pct, th.min_dead_rows
  FROM pg_stat_user_tables s CROSS JOIN th
 WHERE s.schemaname = current_schema() AND s.relname IN ('events', 'snapshots')
 ORDER BY s.relname;
