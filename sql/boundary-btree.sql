-- Boundary index strategy `btree` (service.boundaryIndex = 'btree'; the study's schema.sql stays
-- GIN-only and runnable as is). One btree per entity key on (key value, sequence_number): a
-- boundary read "this book's events after version N" is one index range scan whose cost depends on
-- the events after N, not on the entity's whole history (a GIN posting list). The predicates that
-- use these indexes are written by src/store/filter.ts (BTREE_KEYS); keep both lists in step.
-- Applied idempotently by applySchema; ANALYZE only when an index was created (expression
-- statistics let the planner see how few rows one key value has).
DO $$
DECLARE
  created boolean := false;
BEGIN
  IF to_regclass('idx_events_book_seq') IS NULL THEN
    CREATE INDEX idx_events_book_seq ON events ((payload->>'BookID'), sequence_number);
    created := true;
  END IF;
  IF to_regclass('idx_events_reader_seq') IS NULL THEN
    CREATE INDEX idx_events_reader_seq ON events ((payload->>'ReaderID'), sequence_number);
    created := true;
  END IF;
  IF created THEN
    ANALYZE events;
  END IF;
END
$$;
