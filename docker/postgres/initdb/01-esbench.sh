#!/usr/bin/env bash
# docker/postgres/initdb/01-esbench.sh - runs once, on the compose primary's first start
# (the official image runs /docker-entrypoint-initdb.d/* against a fresh data directory).
# Creates the roles (passwords from the environment, i.e. from .env), the extensions, the
# replica's slot and the event store schema. The replica copies all of it with pg_basebackup.
set -euo pipefail

# psql variables (:'name') quote the passwords; they never appear in the SQL text or in `ps`.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v esbench_password="$ESBENCH_DB_PASSWORD" \
  -v replication_password="$REPLICATION_PASSWORD" \
  -v monitor_password="$MONITOR_PASSWORD" <<'SQL'
CREATE ROLE esbench LOGIN PASSWORD :'esbench_password';
CREATE ROLE replicator LOGIN REPLICATION PASSWORD :'replication_password';
-- pg_monitor: every pg_stat_* view, pg_stat_statements' texts, pgstattuple (via pg_stat_scan_tables).
CREATE ROLE esbench_monitor LOGIN PASSWORD :'monitor_password' IN ROLE pg_monitor;
ALTER DATABASE esbench OWNER TO esbench;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgstattuple;
SELECT pg_create_physical_replication_slot('esbench_replica');
SQL

# The schema as the service's role, so that it owns the tables (`esbench maintain` needs the owner
# for REINDEX and ALTER TABLE). :fastupdate is the GIN option sql/schema.sql leaves open; on is
# PostgreSQL's default and the study's final choice. The extensions above already exist, so the
# schema's CREATE EXTENSION IF NOT EXISTS lines are no-ops for this non-superuser.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v fastupdate=on \
  -c 'SET ROLE esbench' -f /etc/esbench/schema.sql
