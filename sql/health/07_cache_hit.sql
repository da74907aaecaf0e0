-- esbench health check 7 (seed 004 test 7): buffer cache hit ratio of the database and of each table
-- (heap + indexes). Run on BOTH nodes: each counts its own reads, and the replica serves the read models.
-- Status (seed 004's thresholds): good >= 95 % (its EXCELLENT > 99 % and GOOD 95-99 %),
-- ok 90-95 %, warning < 90 %; ok with no reads at all yet (nothing to judge).
WITH th AS (SELECT 95.0::float8 AS good_min_pct, 90.0::float8 AS ok_min_pct),
c AS (
  SELECT 'database' AS scope, datname::text AS name, blks_hit AS hits, blks_read AS reads
    FROM pg_stat_database WHERE datname = current_database()
  UNION ALL
  SELECT 'table', relname::text,
         coalesce(heap_blks_hit, 0) + coalesce(idx_blks_hit, 0), coalesce(heap_blks_read, 0) + coalesce(idx_blks_read, 0)
    FROM pg_statio_user_tables WHERE schemaname = current_schema() AND relname IN ('events', 'snapshots')
)
SELECT c.scope, c.name, c.hits, c.reads,
       round((100.0 * c.hits / NULLIF(c.hits + c.reads, 0))::numeric, 2)::float8 AS hit_pct,
       CASE WHEN c.hits + c.reads = 0 THEN 'ok'
            WHEN 100.0 * c.hits / (c.hits + c.reads) >= th.good_min_pct THEN 'good'
            WHEN 100.0 * c.hits / (c.hits + c.reads) >= th.ok_min_pct THEN 'ok'
            ELSE 'warning' END AS status,
       th.good_min_pct, th.ok_min_pct
  FROM c CROSS JOIN th
 ORDER BY c.scope, c.name;
