-- esbench health check 6, detail: GIN pending lists (pgstattuple's pgstatginindex). With fastupdate
-- on (the study's "critical fix"), new entries wait in a pending list that every containment query
-- scans linearly until VACUUM or gin_pending_list_limit flushes it. Run on the PRIMARY.
SELECT c.relname::text AS index_name, g.pending_pages, g.pending_tuples,
       coalesce((SELECT split_part(opt, '=', 2) FROM unnest(c.reloptions) AS opt WHERE opt LIKE 'fastupdate=%'), 'on') AS fastupdate
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL pgstatginindex(c.oid) AS g
 WHERE n.nspname = current_schema() AND c.relname IN ('idx_events_payload_gin', 'idx_events_metadata_gin')
 ORDER BY c.relname;
