-- esbench health check 9, detail: the REPLICA's own view (run on the replica). Status: warning when
-- the server is not in recovery (the "replica" URL points at a primary); else good.
-- last_replay_age_s grows while the primary is idle: it is not lag (compare 09_replication.sql).
SELECT pg_is_in_recovery() AS in_recovery,
       pg_last_wal_receive_lsn()::text AS receive_lsn, pg_last_wal_replay_lsn()::text AS replay_lsn,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS replay_backlog_bytes,
       extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS last_replay_age_s,
       CASE WHEN pg_is_in_recovery() THEN 'good' ELSE 'warning' END AS status;
