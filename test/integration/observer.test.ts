import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointEvent } from '../../src/observe/events.ts';
import { OBSERVER_APPLICATION_NAME } from '../../src/observe/observer-client.ts';
import { buildSampleSql, TARGETS_SQL } from '../../src/observe/sample-sql.ts';
import type { SamplerResult } from '../../src/observe/sampler.ts';
import type { StatementWindow } from '../../src/observe/statement-stats.ts';
import { applySchema } from '../../src/store/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { expectVacuumSeen, prepareObservedTable, runObservedScenario } from '../helpers/observer-scenario.ts';

/**
 * One scenario, observed once: a throttled VACUUM of a table with dead tuples, then a forced
 * CHECKPOINT, with a statement tagged `/* esbench:test *\/` before them. The assertions read the
 * sampler's events and the statement window.
 */
describe('observer', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let primary: SamplerResult;
  let replica: SamplerResult;
  let statements: StatementWindow;
  const t: { vacuumFrom: number; vacuumTo: number; checkpointFrom: number; checkpointTo: number } = {
    vacuumFrom: 0,
    vacuumTo: 0,
    checkpointFrom: 0,
    checkpointTo: 0,
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Client({ connectionString: db.primaryUrl });
    await client.connect();
    await applySchema(client, { ginFastupdate: true });
    await prepareObservedTable(client);
    const seen = await runObservedScenario(client, db.primaryUrl, db.replicaUrl);
    ({ primary, replica, statements } = seen);
    Object.assign(t, seen.t);
  });

  afterAll(async () => {
    await client?.end();
    await db?.release();
  });

  it('sees the VACUUM it started, on its table, with its start and end', () => {
    const run = expectVacuumSeen(primary, t);
    expect(run.seenTo! - run.seenFrom!).toBeGreaterThan(0);
  });

  it('sees the CHECKPOINT it forced, with its time', () => {
    // Checkpoints are cluster-wide and other test files share the cluster (one may force its own):
    // look for the one that started while ours ran.
    const checkpoints = primary.events.filter(
      (e): e is CheckpointEvent =>
        e.kind === 'checkpoint' && e.startedAt !== null && e.startedAt >= Math.floor(t.checkpointFrom / 1000) * 1000 && e.startedAt <= t.checkpointTo,
    );
    expect(checkpoints.length).toBeGreaterThanOrEqual(1);
    const c = checkpoints[0]!;
    expect(c.type).toBe('checkpoint');
    // 'unknown' when another file's checkpoint (the cluster is shared) landed between the same samples.
    expect(['requested', 'unknown']).toContain(c.reason);
    // The control file keeps whole seconds.
    expect(c.startedAt!).toBeGreaterThanOrEqual(Math.floor(t.checkpointFrom / 1000) * 1000);
    expect(c.startedAt!).toBeLessThanOrEqual(t.checkpointTo);
    expect(c.completedBetween[0]).toBeLessThanOrEqual(t.checkpointTo + 5);
    expect(c.buffersWritten).toBeGreaterThan(0);
  });

  it("diffs pg_stat_statements by statement name and leaves the observer's own statements out", () => {
    const test = statements.byName.test;
    expect(test?.calls).toBe(5);
    expect(test!.meanExecMs!).toBeGreaterThan(0);
    expect(test!.rowsPerCall).toBe(1);
    expect(statements.byName.observer).toBeUndefined();
    expect(statements.observerCalls).toBeGreaterThan(0);
  });

  // Regression: without pgstattuple (or without the right to call it) the detailed statement did
  // not mention $3, the sampler bound three values, and every detailed sample failed.
  it('takes a detailed sample without pgstattuple, with the same three bound values', async () => {
    const targets = await client.query<{ tables: string[]; gin: string[] }>(TARGETS_SQL);
    const { tables, gin } = targets.rows[0]!;
    for (const pgstattupleSchema of [null, '"public"']) {
      const text = buildSampleSql({ serverVersionNum: primary.serverVersionNum, inRecovery: false, pgstattupleSchema, controlFile: true });
      const r = await client.query<{ sample: { gin: unknown[]; tables: unknown[] } }>({ text, values: [OBSERVER_APPLICATION_NAME, tables, gin] });
      expect(r.rows[0]!.sample.tables.length).toBeGreaterThan(0);
      expect(r.rows[0]!.sample.gin).toHaveLength(pgstattupleSchema === null ? 0 : 2);
    }
  });

  it('samples both nodes cheaply, without counting itself, and reports what sampling cost', () => {
    expect(primary.errors).toEqual([]);
    expect(replica.errors).toEqual([]);
    expect(primary.samples.length).toBeGreaterThan(10);
    expect(primary.cost!.meanMs).toBeGreaterThan(0);
    expect(primary.cost!.fractionOfInterval).toBeLessThan(1);
    for (const s of [...primary.samples, ...replica.samples]) {
      expect(s.backends.some((b) => b.application === 'esbench_observer')).toBe(false);
    }
    expect(primary.inRecovery).toBe(false);
    expect(replica.inRecovery).toBe(true);
    const p = primary.samples.at(-1)!;
    const r = replica.samples.at(-1)!;
    expect('primary' in p.replication).toBe(true);
    expect('replica' in r.replication).toBe(true);
    // Replication lag is the primary's figure (replication-lag.ts: 0, not null, when replay_lag is
    // NULL); the replica's replay delay, on its own clock, is summarized apart from it.
    const standbys = 'primary' in p.replication ? p.replication.primary : [];
    expect(standbys.length).toBeGreaterThan(0);
    for (const x of standbys) expect(x.replayLagMs).toBeGreaterThanOrEqual(0);
    expect(primary.summary.replicationLagMs).not.toBeNull();
    expect(primary.summary.replicaReplayDelayMs).toBeNull();
    expect(replica.summary.replicationLagMs).toBeNull();
    expect(replica.summary.replicaReplayDelayMs).not.toBeNull();
    // The schema's two GIN indexes, with their pending lists, on both nodes.
    expect(p.gin.map((g) => g.index).sort()).toEqual(['idx_events_metadata_gin', 'idx_events_payload_gin']);
    expect(r.gin).toHaveLength(2);
    expect(primary.summary.cacheHitRatio).toBeGreaterThan(0.5);
    expect(primary.summary.walBytes).toBeGreaterThan(0);
    // VACUUM reports its completion directly (tuple counts from ordinary DML arrive lazily, so
    // they are not asserted here).
    const observed = p.tables.find((x) => x.relation === 'public.observed');
    expect(observed?.vacuumCount).toBe(1);
    expect(observed?.lastVacuum).toBeGreaterThanOrEqual(t.vacuumFrom - 5);
  });
});
