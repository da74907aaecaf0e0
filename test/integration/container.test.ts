/**
 * The testcontainers topology. Runs where a Docker engine is reachable; elsewhere (this project's
 * CI has none) it is skipped and says why.
 */
import fs from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dockerUnavailableReason, startContainerCluster } from '../../src/cluster/container-cluster.ts';

const reason = await dockerUnavailableReason();
if (reason) console.warn(`[container.test] skipped: ${reason}`);

describe('dockerUnavailableReason', () => {
  // Where no engine can be found at all (no DOCKER_HOST, no socket), the answer must say so;
  // with an engine, the topology test below runs instead.
  const noEngine = !process.env.DOCKER_HOST && !['/var/run/docker.sock', '/run/docker.sock'].some((s) => fs.existsSync(s));
  it.runIf(noEngine)('names the missing engine where there is no Docker socket', () => {
    expect(reason).toMatch(/^no Docker engine reachable \(.+\)$/);
  });
});

describe.skipIf(reason !== undefined)('testcontainers primary + replica', () => {
  it('streams an insert from the primary to the replica', { timeout: 300_000 }, async () => {
    const cluster = await startContainerCluster({ tuningDir: 'tuning', password: 'test-password' });
    const p = new pg.Client({ connectionString: cluster.primaryUrl });
    const r = new pg.Client({ connectionString: cluster.replicaUrl });
    try {
      await p.connect();
      await r.connect();
      await p.query('CREATE TABLE t (x int)');
      await p.query('INSERT INTO t VALUES (42)');
      let seen: number | undefined;
      for (let i = 0; i < 100 && seen === undefined; i++) {
        seen = await r.query('SELECT x FROM t').then((q) => q.rows[0]?.x as number | undefined, () => undefined);
        if (seen === undefined) await new Promise((res) => setTimeout(res, 100));
      }
      expect(seen).toBe(42);
      expect((await r.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).toBe(true);
    } finally {
      await p.end();
      await r.end();
      await cluster.stop();
    }
  });
});
