/**
 * A trial's settings reach its service process whole: every pool field of both pools and every service
 * field, sent as `serve --config -`, come back in the child's resolved config, and the pool sizes show in
 * the child's /metrics. (Flags lost the replica pool's idle/lifetime/acquire/statement settings.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type Config } from '../../src/core/config.ts';
import { startServiceProcess } from '../../src/load/service-process.ts';
import { serviceProcessConfig, trialConfig, withServicePatch } from '../../src/tuner/trial.ts';
import { schemaDatabase, type SchemaDatabase } from '../helpers/schema-db.ts';

let sdb: SchemaDatabase;
beforeAll(async () => {
  sdb = await schemaDatabase();
});
afterAll(async () => {
  await sdb.close();
});

// Every field differs from the default and between the two pools.
const PATCH = {
  pools: {
    primary: { max: 9, min: 3, idleTimeoutMs: 11_111, maxLifetimeMs: 222_222, acquireTimeoutMs: 3_333, statementTimeoutMs: 4_444 },
    replica: { max: 7, min: 1, idleTimeoutMs: 55_555, maxLifetimeMs: 666_666, acquireTimeoutMs: 777, statementTimeoutMs: 8_888 },
  },
  service: {
    readModelsFrom: 'primary',
    replicaFallback: false,
    appendStrategy: 'baseline',
    decisions: 'full',
    snapshotThreshold: 17,
    retry: { tries: 3, baseMs: 7, jitter: 0.1 },
    bodyLimitBytes: 99_999,
    logLevel: 'error',
  },
} as const;

describe('serve --config (trial → service process)', () => {
  it('hands every pool and service field to the child, which resolves and uses them', async () => {
    const trial = withServicePatch(trialConfig({ rate: 1, durationMs: 1000 }), PATCH);
    expect(trial.pools.replica.idleTimeoutMs).toBe(55_555);
    const config = serviceProcessConfig(trial, { primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl });
    const service = await startServiceProcess({ config, primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl, env: process.env });
    try {
      const echoed = service.config as Config;
      expect(echoed.pools).toEqual(PATCH.pools);
      expect(echoed.service).toMatchObject(PATCH.service);
      expect(echoed.cluster.replicaUrl).toBe(sdb.db.replicaUrl);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/esbench_pool_max_connections\{pool="primary"\} 9\b/);
      expect(metrics).toMatch(/esbench_pool_max_connections\{pool="replica"\} 7\b/);
    } finally {
      await service.stop();
    }
  });

  it('rejects a config file with an unknown key (a typo is not silently ignored)', async () => {
    const bad = { ...resolveConfig({ cluster: { primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl } }), pools: { primary: { mni: 3 } } };
    await expect(
      startServiceProcess({ config: bad as unknown as Config, primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl, env: process.env, startTimeoutMs: 20_000 }),
    ).rejects.toThrow(/BAD_CONFIG|unknown key|exited/);
  });
});
