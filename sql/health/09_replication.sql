-- esbench health check 9: streaming replication as the PRIMARY sees it (run on the primary).
-- Status per standby: warning unless streaming; by replay lag: good <= 10 ms (the study's criterion 5),
-- ok <= 1 s, warning above. A caught-up idle standby shows NULL lag: treated as 0.
WITH th AS (SELECT 10.0::float8 AS good_max_ms, 1000.0::float8 AS ok_max_ms)
SELECT r.application_name::text, r.client_addr::text, r.state::text, r.sync_state::text,
       (extract(epoch FROM r.write_lag) * 1000)::float8 AS write_lag_ms,
       (extract(epoch FROM r.flush_lag) * 1000)::float8 AS flush_lag_ms,
       (extract(epoch FROM r.replay_lag) * 1000)::float8 AS replay_lag_ms,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint AS replay_lag_bytes,
       CASE WHEN r.state <> 'streaming' THEN 'warning'
            WHEN coalesce(extract(epoch FROM r.replay_lag) * 1000, 0) <= th.good_max_ms THEN 'good'
            WHEN extract(epoch FROM r.replay_lag) * 1000 <= th.ok_max_ms THEN 'ok'
            ELSE 'warning' END AS status,
       th.good_max_ms, th.ok_max_ms
  FROM pg_stat_replication r CROSS JOIN th
 ORDER BY r.application_name;
