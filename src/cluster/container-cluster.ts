/**
 * The same topology (primary + streaming replica, pg_stat_statements, the tuning files) in Docker
 * containers via testcontainers, for users with a Docker engine. Containers live as long as the
 * process that started them (testcontainers' reaper removes them), so this suits tests and runs,
 * not `cluster up`. Loaded lazily: users without Docker never load dockerode.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EsbenchError } from '../core/errors.ts';
import type { ClusterHandle } from './cluster.ts';

export const POSTGRES_IMAGE = 'postgres:17';

/** Why Docker cannot be used here, or undefined when it can. Never throws. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    return client.info.containerRuntime.host ? undefined : 'no container runtime host';
  } catch (e) {
    return `no Docker engine reachable (${(e as Error).message.split('\n')[0]})`;
  }
}

function serverArgs(tuning: string[]): string[] {
  return [
    'postgres',
    '-c', 'shared_preload_libraries=pg_stat_statements',
    '-c', 'pg_stat_statements.track=top',
    '-c', 'track_io_timing=on',
    '-c', 'wal_level=replica',
    '-c', 'max_wal_senders=10',
    '-c', 'hot_standby=on',
    '-c', 'hot_standby_feedback=on',
    ...tuning.flatMap((setting) => ['-c', setting]),
  ];
}

/** `name = value` lines of a tuning file, as `-c name=value` settings. */
export function tuningSettings(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.includes('='))
    .map((l) => {
      const [k, ...v] = l.split('=');
      return `${k!.trim()}=${v.join('=').trim().replace(/^'(.*)'$/, '$1')}`;
    });
}

const shellQuote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

export interface ContainerClusterOptions {
  tuningDir: string;
  password: string;
  image?: string;
}

export async function startContainerCluster(options: ContainerClusterOptions): Promise<ClusterHandle> {
  const reason = await dockerUnavailableReason();
  if (reason) throw new EsbenchError('DOCKER_UNAVAILABLE', reason);
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const image = options.image ?? POSTGRES_IMAGE;
  const network = await new Network().start();
  const hba = "echo 'host replication all all scram-sha-256' >> \"$PGDATA/pg_hba.conf\"";
  const primary = await new PostgreSqlContainer(image)
    .withNetwork(network)
    .withNetworkAliases('primary')
    .withDatabase('esbench')
    .withUsername('postgres')
    .withPassword(options.password)
    .withCopyContentToContainer([{ content: `#!/bin/sh\n${hba}\n`, target: '/docker-entrypoint-initdb.d/10-replication.sh', mode: 0o755 }])
    .withCommand(serverArgs(tuningSettings(path.join(options.tuningDir, 'primary.conf'))))
    .start();
  const bootstrap = [
    'set -e',
    'until pg_isready -h primary -U postgres; do sleep 0.5; done',
    'if [ ! -s "$PGDATA/PG_VERSION" ]; then',
    '  rm -rf "$PGDATA"/* && gosu postgres pg_basebackup -h primary -U postgres -D "$PGDATA" -R -X stream -C -S esbench_replica',
    'fi',
    `exec gosu postgres ${serverArgs(tuningSettings(path.join(options.tuningDir, 'replica.conf'))).map(shellQuote).join(' ')}`,
  ].join('\n');
  const replica = await new GenericContainer(image)
    .withNetwork(network)
    .withEnvironment({ PGPASSWORD: options.password, PGDATA: '/var/lib/postgresql/data' })
    .withEntrypoint(['bash', '-c', bootstrap])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept read-only connections/))
    .start();
  const url = (host: string, port: number) => `postgres://postgres:${encodeURIComponent(options.password)}@${host}:${port}/esbench`;
  return {
    mode: 'container',
    primaryUrl: url(primary.getHost(), primary.getPort()),
    replicaUrl: url(replica.getHost(), replica.getMappedPort(5432)),
    embedded: undefined,
    stop: async () => {
      await replica.stop();
      await primary.stop();
      await network.stop();
    },
  };
}
