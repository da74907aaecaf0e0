-- esbench health check 4, probe: values for the hot-query EXPLAINs, taken from the event in the
-- MIDDLE of the sequence whose payload is an object (the newest one would flatter a backward scan
-- from the end of the table): its type, one top-level key/value pair as a containment probe, and
-- the minute before it as a time range.
SELECT e.event_type AS probe_type,
       (SELECT jsonb_build_object(j.key, j.value) FROM jsonb_each(e.payload) AS j ORDER BY j.key LIMIT 1)::text AS probe_payload,
       (e.occurred_at - interval '1 minute') AS probe_from, e.occurred_at AS probe_to,
       greatest(c.reltuples, 0)::bigint AS estimated_rows
  FROM events e CROSS JOIN pg_class c
 WHERE c.oid = 'events'::regclass AND jsonb_typeof(e.payload) = 'object' AND e.payload <> '{}'::jsonb
   AND e.sequence_number <= (SELECT (min(sequence_number) + max(sequence_number)) / 2 FROM events)
 ORDER BY e.sequence_number DESC
 LIMIT 1
