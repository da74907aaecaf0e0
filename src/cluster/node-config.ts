/**
 * The configuration esbench writes into each node's data directory: loopback-only pg_hba.conf at
 * creation, and on every start tuning.conf (copied from tuning/<node>.conf) and esbench.conf (the
 * settings esbench relies on, included last so nothing overrides them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { APPLICATION_NAMES } from '../core/application-names.ts';

export type NodeName = 'primary' | 'replica';
export const SUPERUSER = 'postgres';
/** The physical replication slot the replica streams from. */
export const REPLICATION_SLOT = 'esbench_replica';

/** trust only on loopback TCP; no unix socket, no other host. */
export const PG_HBA = [
  '# esbench embedded cluster: loopback only',
  'host all all 127.0.0.1/32 trust',
  'host replication all 127.0.0.1/32 trust',
  '',
].join('\n');

export function baseSettings(node: NodeName, port: number, primaryPort: number): string {
  const lines = [
    '# Written by esbench on every start; included last so nothing overrides it.',
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    "shared_preload_libraries = 'pg_stat_statements'",
    'pg_stat_statements.track = top',
    // Planning is database time: without it, the planning of every unnamed statement showed up as network.
    'pg_stat_statements.track_planning = on',
    'compute_query_id = on',
    'track_io_timing = on',
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'hot_standby = on',
    'hot_standby_feedback = on',
    "log_line_prefix = '%m [%p] %q%a '",
    'log_autovacuum_min_duration = 0',
    'log_checkpoints = on',
  ];
  if (node === 'replica') {
    lines.push(
      `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=${SUPERUSER} application_name=${APPLICATION_NAMES.walReceiver}'`,
    );
    lines.push(`primary_slot_name = '${REPLICATION_SLOT}'`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes tuning.conf and esbench.conf into `dir` and includes them from its postgresql.conf (once). */
export function writeNodeSettings(
  dir: string,
  node: NodeName,
  tuningDir: string,
  ports: Record<NodeName, number>,
): void {
  const tuningSource = path.join(tuningDir, `${node}.conf`);
  const tuning = fs.existsSync(tuningSource) ? fs.readFileSync(tuningSource, 'utf8') : `# no ${tuningSource}\n`;
  fs.writeFileSync(path.join(dir, 'tuning.conf'), `# Copied from ${tuningSource} at start.\n${tuning}`);
  fs.writeFileSync(path.join(dir, 'esbench.conf'), baseSettings(node, ports[node], ports.primary));
  const confFile = path.join(dir, 'postgresql.conf');
  const conf = fs.readFileSync(confFile, 'utf8');
  const marker = '# esbench includes';
  if (!conf.includes(marker)) {
    fs.appendFileSync(confFile, `\n${marker}\ninclude_if_exists = 'tuning.conf'\ninclude = 'esbench.conf'\n`);
  }
}
