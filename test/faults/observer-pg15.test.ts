/**
 * The observer on another PostgreSQL major (issue 3: "Works on PG 15 through 18"). The suite runs
 * on the embedded PostgreSQL 17; this file starts its own primary + replica from a Debian
 * PostgreSQL 15 server (/usr/lib/postgresql/15/bin, with contrib for pg_stat_statements and
 * pgstattuple) and replays the integration observer scenario there: a throttled VACUUM, a forced
 * CHECKPOINT, a tagged statement. PG 15 takes the other branches of the sampler (checkpoint
 * counters from pg_stat_bgwriter; no stats_since in pg_stat_statements), which is what this proves.
 *
 * It lives with the faults because, like them, it needs its own cluster (no global setup).
 * Skipped, with the reason printed, where that server is not installed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedCluster, NODES, urlFor } from '../../src/cluster/embedded-cluster.ts';
import type { CheckpointEvent } from '../../src/observe/events.ts';
import { buildSampleSql } from '../../src/observe/sample-sql.ts';
import type { SamplerResult } from '../../src/observe/sampler.ts';
import type { StatementSnapshot, StatementWindow } from '../../src/observe/statement-stats.ts';
import { applySchema } from '../../src/store/schema.ts';
import { expectVacuumSeen, prepareObservedTable, runObservedScenario } from '../helpers/observer-scenario.ts';

const PG15_BIN = process.env.ESBENCH_PG15_BIN ?? '/usr/lib/postgresql/15/bin';
const CONTRIB = ['/usr/lib/postgresql/15/lib/pg_stat_statements.so', '/usr/lib/postgresql/15/lib/pgstattuple.so'];

function missing(): string | null {
  if (!fs.existsSync(path.join(PG15_BIN, 'postgres'))) return `no PostgreSQL 15 server in ${PG15_BIN}`;
  // Only the Debian layout is checked for contrib; another layout is left to fail loudly at CREATE EXTENSION.
  if (PG15_BIN === '/usr/lib/postgresql/15/bin') {
    const absent = CONTRIB.filter((f) => !fs.existsSync(f));
    if (absent.length > 0) return `PostgreSQL 15 contrib is missing (${absent.join(', ')})`;
  }
  return null;
}

const skipReason = missing();
if (skipReason) console.warn(`observer-pg15: skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('observer on PostgreSQL 15', () => {
  let parent: string | undefined;
  let cluster: EmbeddedCluster | undefined;
  let client: pg.Client | undefined;
  let primary: SamplerResult;
  let replica: SamplerResult;
  let before: StatementSnapshot;
  let statements: StatementWindow;
  let pgVersion = '';
  const t = { vacuumFrom: 0, vacuumTo: 0, checkpointFrom: 0, checkpointTo: 0 };
  // Last resort if the worker dies before afterAll: no postmaster of ours outlives the run.
  const onExit = (): void => {
    for (const node of NODES) {
      const pid = cluster?.pidOf(node) ?? null;
      if (pid !== null) process.kill(pid, 'SIGKILL');
    }
  };

  beforeAll(async () => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-pg15-'));
    // mkdtemp makes it 0700; postgres runs as an unprivileged user (we may be root) and must traverse it.
    fs.chmodSync(parent, 0o755);
    process.once('exit', onExit);
    cluster = new EmbeddedCluster({ dataDir: path.join(parent, 'cluster'), tuningDir: path.resolve('tuning'), pgBinDir: PG15_BIN });
    const state = await cluster.up();
    pgVersion = state.pgVersion;
    const primaryUrl = urlFor(state.ports.primary);
    const replicaUrl = urlFor(state.ports.replica);
    client = new pg.Client({ connectionString: primaryUrl, application_name: 'esbench_test' });
    await client.connect();
    await applySchema(client, { ginFastupdate: true });
    await prepareObservedTable(client);
    // The replica must have the schema (pgstattuple, the GIN indexes) before its sampler probes it.
    const lsn = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const replicaClient = new pg.Client({ connectionString: replicaUrl, application_name: 'esbench_test' });
    await replicaClient.connect();
    try {
      for (let i = 0; ; i++) {
        const r = await replicaClient.query<{ ok: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn]);
        if (r.rows[0]?.ok) break;
        if (i > 200) throw new Error(`replica did not replay ${lsn} within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await replicaClient.end();
    }

    const seen = await runObservedScenario(client, primaryUrl, replicaUrl);
    ({ before, primary, replica, statements } = seen);
    Object.assign(t, seen.t);
  }, 90_000);

  afterAll(async () => {
    await client?.end().catch(() => {});
    await cluster?.destroy();
    if (parent) fs.rmSync(parent, { recursive: true, force: true });
    process.off('exit', onExit);
  }, 60_000);

  it('runs a PostgreSQL 15 primary and replica, and samples both without errors or gaps', () => {
    expect(pgVersion).toMatch(/^15(\.|$)/);
    expect(primary.serverVersionNum).toBeGreaterThanOrEqual(150000);
    expect(primary.serverVersionNum).toBeLessThan(160000);
    expect(primary.errors).toEqual([]);
    expect(replica.errors).toEqual([]);
    // Nothing left out: pgstattuple and pg_control_checkpoint() both work here.
    expect(primary.notes).toEqual([]);
    expect(replica.notes).toEqual([]);
    expect(primary.inRecovery).toBe(false);
    expect(replica.inRecovery).toBe(true);
    expect(primary.samples.length).toBeGreaterThan(10);
    expect(replica.samples.length).toBeGreaterThan(2);
    for (const s of [...primary.samples, ...replica.samples]) {
      expect(s.backends.some((b) => b.application === 'esbench_observer')).toBe(false);
    }
    const p = primary.samples.at(-1)!;
    const r = replica.samples.at(-1)!;
    expect(p.gin.map((g) => g.index).sort()).toEqual(['idx_events_metadata_gin', 'idx_events_payload_gin']);
    expect(r.gin).toHaveLength(2);
    expect('primary' in p.replication && p.replication.primary.map((x) => x.state)).toEqual(['streaming']);
    expect(primary.summary.walBytes).toBeGreaterThan(0);
    expect(primary.summary.cacheHitRatio).toBeGreaterThan(0.5);
  });

  it('reads checkpoint counters from pg_stat_bgwriter (the < 17 branch)', () => {
    const sql = buildSampleSql({ serverVersionNum: primary.serverVersionNum, inRecovery: false, pgstattupleSchema: null, controlFile: true });
    expect(sql).toContain('pg_stat_bgwriter');
    expect(sql).not.toContain('pg_stat_checkpointer');
    // That branch has no num_done / restartpoints_done: they come back null, the rest as numbers.
    // Checkpoint counters are read by the detailed samples (once a second); the light ones have none.
    const detailed = primary.samples.filter((s) => s.detail !== false);
    expect(detailed.length).toBeGreaterThanOrEqual(2);
    for (const s of primary.samples.filter((x) => x.detail === false)) expect(s.checkpoint).toBeNull();
    for (const s of detailed) {
      expect(s.checkpoint).not.toBeNull();
      expect(s.checkpoint!.done).toBeNull();
      expect(s.checkpoint!.restartpointsDone).toBeNull();
      expect(s.checkpoint!.lastCheckpointAt).not.toBeNull();
    }
  });

  it('sees the VACUUM it started, on its table, with its start and end', () => {
    expectVacuumSeen(primary, t);
    const observed = primary.samples.at(-1)!.tables.find((x) => x.relation === 'public.observed');
    expect(observed?.vacuumCount).toBe(1);
  });

  it('sees the CHECKPOINT it forced, with its time and buffers', () => {
    const checkpoints = primary.events.filter((e): e is CheckpointEvent => e.kind === 'checkpoint' && e.completedBetween[1] >= t.checkpointFrom);
    expect(checkpoints).toHaveLength(1);
    const c = checkpoints[0]!;
    expect(c.type).toBe('checkpoint');
    expect(c.reason).toBe('requested');
    expect(c.startedAt!).toBeGreaterThanOrEqual(Math.floor(t.checkpointFrom / 1000) * 1000);
    expect(c.startedAt!).toBeLessThanOrEqual(t.checkpointTo);
    expect(c.completedBetween[0]).toBeLessThanOrEqual(t.checkpointTo + 5);
    expect(c.buffersWritten).toBeGreaterThan(0);
  });

  it("counts statement calls from pg_stat_statements and leaves the observer's own out", () => {
    // PG 15's pg_stat_statements has no stats_since: entries carry null, the diff still works.
    expect(before.serverVersionNum).toBeLessThan(160000);
    expect(before.entries.every((e) => e.statsSince === null)).toBe(true);
    expect(before.deallocations).not.toBeNull();
    const test = statements.byName.test;
    expect(test?.calls).toBe(5);
    expect(test!.meanExecMs!).toBeGreaterThan(0);
    expect(test!.rowsPerCall).toBe(1);
    expect(test!.sharedBlksHit + test!.sharedBlksRead).toBeGreaterThan(0);
    expect(statements.byName.observer).toBeUndefined();
    expect(statements.observerCalls).toBeGreaterThan(0);
    expect(statements.warnings).toEqual([]);
  });
});
