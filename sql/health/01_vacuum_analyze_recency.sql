-- esbench health check 1 (seed 004 test 1): when were the event store's tables last vacuumed and analyzed?
-- Run on the PRIMARY: (auto)vacuum and analyze run there; a standby's pg_stat_user_tables says nothing about them.
-- Status per table, the worse of vacuum and analyze:
--   good    = done within good_max_s (1 day), or nothing to do (empty / no dead rows since / no changes since)
--   ok      = done within ok_max_s (7 days); or never vacuumed but no dead rows (visibility map not set yet)
--   warning = older, or never while there are dead rows (vacuum) / changed rows (analyze)
WITH th AS (SELECT 86400.0::float8 AS good_max_s, 604800.0::float8 AS ok_max_s),
t AS (
  SELECT s.relname::text AS table_name, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
         greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuum_at,
         greatest(s.last_analyze, s.last_autoanalyze) AS last_analyze_at
    FROM pg_stat_user_tables s
   WHERE s.schemaname = current_schema() AND s.relname IN ('events', 'snapshots')
),
a AS (
  SELECT t.*, th.good_max_s, th.ok_max_s,
         extract(epoch FROM now() - t.last_vacuum_at)::float8 AS vacuum_age_s,
         extract(epoch FROM now() - t.last_analyze_at)::float8 AS analyze_age_s
    FROM t CROSS JOIN th
),
s AS (
  SELECT a.*,
         CASE WHEN a.vacuum_age_s <= a.good_max_s THEN 'good'
              WHEN a.n_live_tup + a.n_dead_tup = 0 THEN 'good'
              WHEN a.vacuum_age_s <= a.ok_max_s THEN 'ok'
              WHEN a.n_dead_tup = 0 THEN 'ok'
              ELSE 'warning' END AS vacuum_status,
         CASE WHEN a.analyze_age_s <= a.good_max_s THEN 'good'
              WHEN a.n_mod_since_analyze = 0 AND (a.last_analyze_at IS NOT NULL OR a.n_live_tup + a.n_dead_tup = 0) THEN 'good'
              WHEN a.analyze_age_s <= a.ok_max_s THEN 'ok'
              ELSE 'warning' END AS analyze_status
    FROM a
)
SELECT table_name, n_live_tup, n_dead_tup, n_mod_since_analyze, last_vacuum_at, last_analyze_at,
       vacuum_age_s, analyze_age_s, vacuum_status, analyze_status,
       CASE WHEN 'warning' IN (vacuum_status, analyze_status) THEN 'warning'
            WHEN 'ok' IN (vacuum_status, analyze_status) THEN 'ok' ELSE 'good' END AS status,
       good_max_s, ok_max_s
  FROM s
 ORDER BY table_name;
