#!/usr/bin/env bash
# docker/replica-bootstrap.sh - entrypoint of the compose REPLICA.
# First start (empty data directory): wait for the primary, clone it with pg_basebackup
# (WAL streamed during the copy, through the slot the primary's init script created) and let -R
# write standby.signal and primary_conninfo. Then hand over to the official entrypoint, which
# finds a non-empty data directory and just starts postgres as a hot standby.
# Note: -R stores the replication password in primary_conninfo (postgresql.auto.conf, mode 0600,
# inside the replica's volume) so that the standby can reconnect after a restart.
set -euo pipefail
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD must be set (see docker/env.example)}"
PRIMARY_HOST="${PRIMARY_HOST:-primary}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown -R postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until pg_isready -h "$PRIMARY_HOST" -p 5432 -q; do
    echo "replica-bootstrap: waiting for $PRIMARY_HOST"
    sleep 1
  done
  echo "replica-bootstrap: cloning $PRIMARY_HOST with pg_basebackup"
  PGPASSWORD="$REPLICATION_PASSWORD" gosu postgres pg_basebackup \
    --host="$PRIMARY_HOST" --port=5432 --username=replicator --no-password \
    --pgdata="$PGDATA" --wal-method=stream --slot=esbench_replica \
    --write-recovery-conf --checkpoint=fast --progress
fi

exec docker-entrypoint.sh "$@"
