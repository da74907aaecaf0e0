#!/bin/sh
# pgbench reference for the held-lock lend transaction (issue 15), on an existing seeded store:
#   sh bench/pgbench-lend.sh <primary-url> [seconds] [clients]
# One transaction per command as `--locking held` runs it: BEGIN, the boundary's advisory locks,
# the lend boundary read after a recent version (a literal: a custom plan, as the service's
# parameters give), the insert, COMMIT. Run once with the study's GIN predicates and once with the
# btree predicates (sql/boundary-btree.sql created for that half and dropped afterwards).
# Lock keys are hashtext() here (the service hashes in JS): same locks, same function. -M simple:
# pgbench substitutes the variables as literals, so each statement is planned for its values.
set -eu
URL=$1; SECS=${2:-15}; CLIENTS=${3:-2}
BIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DIR=$(mktemp -d)
HERE=$(cd "$(dirname "$0")/.." && pwd)
AFTER=$("$BIN/psql" "$URL" -Atc 'SELECT max(sequence_number) - 5000 FROM events')
TYPES_BOOK="'{BookCopyAddedToCirculation,BookCopyRemovedFromCirculation,BookCopyLentToReader,BookCopyReturnedByReader}'"
TYPES_READER="'{ReaderContractSigned,ReaderContractCanceled,BookCopyLentToReader,BookCopyReturnedByReader}'"
begin_() {
  cat <<SQL
\set b random(1, 1000)
\set r random(1, 100)
BEGIN;
SELECT esbench_lock_keys(ARRAY[hashtext('BookID=book-:b'), hashtext('ReaderID=reader-:r'), hashtext('type:BookCopyLentToReader')]::bigint[], ARRAY[true, true, false]);
SQL
}
tail_() {
  cat <<SQL
INSERT INTO events (event_type, payload) VALUES ('PgbenchLend', '{"BookID":"pgb-:b","ReaderID":"pgb-:r"}'::jsonb);
COMMIT;
SQL
}
{ begin_; cat <<SQL
SELECT sequence_number, occurred_at, event_type, payload, metadata FROM events WHERE
 ((event_type = ANY($TYPES_BOOK::text[]) AND payload @> '{"BookID":"book-:b"}'::jsonb AND sequence_number > $AFTER)
 OR (event_type = ANY($TYPES_READER::text[]) AND payload @> '{"ReaderID":"reader-:r"}'::jsonb AND sequence_number > $AFTER))
 ORDER BY sequence_number;
SQL
tail_; } > "$DIR/gin.sql"
{ begin_; cat <<SQL
SELECT sequence_number, occurred_at, event_type, payload, metadata FROM events WHERE
 ((event_type = ANY($TYPES_BOOK::text[]) AND ((payload->>'BookID') = 'book-:b' AND (payload->'BookID') = '"book-:b"'::jsonb) AND sequence_number > $AFTER)
 OR (event_type = ANY($TYPES_READER::text[]) AND ((payload->>'ReaderID') = 'reader-:r' AND (payload->'ReaderID') = '"reader-:r"'::jsonb) AND sequence_number > $AFTER))
 ORDER BY sequence_number;
SQL
tail_; } > "$DIR/btree.sql"
HAD=$("$BIN/psql" "$URL" -Atc "SELECT to_regclass('idx_events_book_seq') IS NOT NULL")
for s in gin btree; do
  "$BIN/psql" -q "$URL" -f "$HERE/sql/boundary-$s.sql"
  printf '%s: ' "$s"
  "$BIN/pgbench" -n -M simple -c "$CLIENTS" -j 1 -T "$SECS" -f "$DIR/$s.sql" "$URL" 2>&1 | grep -E '^tps' | head -1
done
[ "$HAD" = t ] || "$BIN/psql" -q "$URL" -f "$HERE/sql/boundary-gin.sql"
"$BIN/psql" -q "$URL" -c "DELETE FROM events WHERE event_type = 'PgbenchLend'"
rm -rf "$DIR"
