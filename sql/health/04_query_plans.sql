-- esbench health check 4 (seed 004 test 4): do the event store's hot query shapes use the intended
-- indexes, and how long do they take? psql script (uses \gset); `esbench health` runs the same
-- probe (04_query_plan_probe.sql) and the same EXPLAINs with bound parameters.
-- Run on the REPLICA (read models query it; EXPLAIN ANALYZE there cannot prune pages on the primary).
-- Intended: payload containment -> idx_events_payload_gin; time range -> idx_events_occurred_at.
-- Thresholds: execution good <= 10 ms with the intended index, ok <= 100 ms (seed 002's slow-query
-- line) or another plan, warning above 100 ms.
-- As superuser, SET track_counts = off first so these probes do not count as index use.
\ir 04_query_plan_probe.sql
\gset
-- the boundary query: a filter item (event types AND payload containment), ordered by sequence
EXPLAIN (ANALYZE, BUFFERS)
SELECT sequence_number, event_type, payload, metadata, occurred_at FROM events
 WHERE event_type = ANY (ARRAY[:'probe_type']) AND payload @> :'probe_payload'::jsonb
 ORDER BY sequence_number;
-- the conditional append's check: the boundary's current version
EXPLAIN (ANALYZE, BUFFERS)
SELECT max(sequence_number) FROM events
 WHERE event_type = ANY (ARRAY[:'probe_type']) AND payload @> :'probe_payload'::jsonb;
-- an occurred_at range (filter items may carry one)
EXPLAIN (ANALYZE, BUFFERS)
SELECT sequence_number FROM events
 WHERE occurred_at >= :'probe_from'::timestamptz AND occurred_at <= :'probe_to'::timestamptz
 ORDER BY sequence_number;
