-- esbench health check 11: the slowest statements of this database by mean execution time
-- (pg_stat_statements; preloaded by the embedded cluster and the compose stack). Run on BOTH nodes.
-- Only DML (SELECT/INSERT/UPDATE/DELETE/WITH) counts: VACUUM or REINDEX are slow by nature, and
-- these health files (whose text carries "esbench health") are left out.
-- Status: good when the mean <= 10 ms, ok <= 100 ms (seed 002: "Slow Queries: >100ms"), warning above.
-- The study measured 0.82 ms (append) and 0.74 ms (query) per call.
WITH th AS (SELECT 10.0::float8 AS good_max_ms, 100.0::float8 AS ok_max_ms)
SELECT left(regexp_replace(p.query, '\s+', ' ', 'g'), 160) AS query, p.calls, p.rows,
       round(p.total_exec_time::numeric, 2)::float8 AS total_ms,
       round(p.mean_exec_time::numeric, 3)::float8 AS mean_ms,
       round(p.max_exec_time::numeric, 2)::float8 AS max_ms,
       CASE WHEN p.mean_exec_time <= th.good_max_ms THEN 'good' WHEN p.mean_exec_time <= th.ok_max_ms THEN 'ok' ELSE 'warning' END AS status,
       th.good_max_ms, th.ok_max_ms
  FROM pg_stat_statements p CROSS JOIN th
 WHERE p.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND p.toplevel
   AND regexp_replace(p.query, '^(\s*--[^\n]*\n)*\s*', '') ~* '^(select|insert|update|delete|with)\M'
   AND p.query NOT LIKE '%esbench health%'
 ORDER BY p.mean_exec_time DESC
 LIMIT 10;
