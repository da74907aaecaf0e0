#!/bin/sh
# docker/pgbouncer/entrypoint.sh - writes PgBouncer's auth file from the environment (the password
# comes from .env, never from a file in the repository), then runs PgBouncer in the foreground.
# With auth_type scram-sha-256, a plain-text password in the auth file lets PgBouncer do SCRAM both
# with the client and with PostgreSQL.
set -eu
: "${ESBENCH_DB_PASSWORD:?ESBENCH_DB_PASSWORD must be set (see docker/env.example)}"
umask 077
printf '"esbench" "%s"\n' "$ESBENCH_DB_PASSWORD" > /tmp/userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
