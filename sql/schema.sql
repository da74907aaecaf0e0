-- esbench event store schema (the study's, ../shared/STUDY.md), applied idempotently.
-- :fastupdate is replaced by the caller with on|off (a boolean literal chosen from a fixed set,
-- never user text) because storage parameters cannot be bound as query parameters.

CREATE TABLE IF NOT EXISTS events (
  sequence_number bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS idx_events_event_type ON events (event_type);
CREATE INDEX IF NOT EXISTS idx_events_occurred_at ON events (occurred_at);
CREATE INDEX IF NOT EXISTS idx_events_payload_gin ON events USING gin (payload jsonb_path_ops) WITH (fastupdate = :fastupdate);
CREATE INDEX IF NOT EXISTS idx_events_metadata_gin ON events USING gin (metadata jsonb_path_ops) WITH (fastupdate = :fastupdate);

CREATE TABLE IF NOT EXISTS snapshots (
  projection_type text NOT NULL,
  filter_hash text NOT NULL,
  sequence_number bigint NOT NULL,
  snapshot_data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection_type, filter_hash)
);

-- Takes transaction-scoped advisory locks in ascending key order (so two appends can never
-- deadlock on each other), exclusive where exclusive[i], shared otherwise. One round trip.
CREATE OR REPLACE FUNCTION esbench_lock_keys(keys bigint[], exclusive boolean[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  i int;
BEGIN
  FOR i IN SELECT s.i FROM generate_subscripts(keys, 1) AS s(i) ORDER BY keys[s.i] LOOP
    IF exclusive[i] THEN
      PERFORM pg_advisory_xact_lock(keys[i]);
    ELSE
      PERFORM pg_advisory_xact_lock_shared(keys[i]);
    END IF;
  END LOOP;
END
$$;

CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgstattuple;
