/**
 * A fresh database per test file on the shared test cluster; physical replication carries it to
 * the replica. Not dropped afterwards (see `release`): the cluster goes at the end of the run.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { urlFor } from '../../src/cluster/embedded-cluster.ts';
import { withClient } from '../../src/core/pg-client.ts';

export interface TestDatabase {
  name: string;
  primaryUrl: string;
  replicaUrl: string;
  primaryPort: number;
  replicaPort: number;
  dataDir: string;
  /**
   * Lets the database go. It is not dropped: DROP DATABASE forces a cluster-wide CHECKPOINT, which
   * lands in the middle of other files' measurements on the shared cluster (the observer tests saw
   * it); the whole cluster is destroyed when the run ends.
   */
  release(): Promise<void>;
}

function admin<T>(port: number, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withClient(urlFor(port, 'postgres'), fn, { applicationName: 'esbench_test_admin' });
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const { primaryPort, replicaPort, dataDir } = inject('cluster');
  const name = `t_${randomBytes(6).toString('hex')}`;
  // Identifiers cannot be bound; the name is generated above from hex digits only.
  await admin(primaryPort, (c) => c.query(`CREATE DATABASE ${name}`));
  // Wait until the replica has replayed the CREATE DATABASE.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = await admin(replicaPort, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
    if (found.rowCount === 1) break;
    if (Date.now() > deadline) throw new Error(`replica did not receive database ${name}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    primaryUrl: urlFor(primaryPort, name),
    replicaUrl: urlFor(replicaPort, name),
    primaryPort,
    replicaPort,
    dataDir,
    release: async () => {},
  };
}
