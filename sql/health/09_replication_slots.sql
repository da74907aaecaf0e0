-- esbench health check 9, detail: replication slots on the PRIMARY. An inactive slot keeps every WAL
-- segment since its restart_lsn: the disk fills. Status: warning when inactive, else good.
SELECT slot_name::text, slot_type, active, xmin::text AS xmin,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained_wal_bytes,
       CASE WHEN active THEN 'good' ELSE 'warning' END AS status
  FROM pg_replication_slots
 ORDER BY slot_name;
