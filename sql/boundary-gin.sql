-- Boundary index strategy `gin` (the study's): only the GIN indexes of schema.sql answer boundary
-- reads. Drops the btree boundary indexes of boundary-btree.sql if an earlier run created them, so
-- that writes pay for exactly the study's indexes and an A/B on one cluster compares like with like.
DROP INDEX IF EXISTS idx_events_book_seq;
DROP INDEX IF EXISTS idx_events_reader_seq;
