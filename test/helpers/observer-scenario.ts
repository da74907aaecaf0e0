/**
 * The observer scenario both observer tests replay (PG 17 on the shared cluster, PG 15 on its own):
 * a tagged statement run 5 times, a throttled VACUUM of a table with dead tuples, then a forced
 * CHECKPOINT, all while samplers run on both nodes. Returns what they saw and when things ran.
 */
import type pg from 'pg';
import { expect } from 'vitest';
import type { MaintenanceEvent } from '../../src/observe/events.ts';
import { diffStatements, snapshotStatements, type StatementSnapshot, type StatementWindow } from '../../src/observe/statement-stats.ts';
import { startSampler, type SamplerResult } from '../../src/observe/sampler.ts';

export interface ScenarioTimes {
  vacuumFrom: number;
  vacuumTo: number;
  checkpointFrom: number;
  checkpointTo: number;
}

export interface ObservedScenario {
  /** The pg_stat_statements snapshot taken before the scenario. */
  before: StatementSnapshot;
  primary: SamplerResult;
  replica: SamplerResult;
  statements: StatementWindow;
  t: ScenarioTimes;
}

/**
 * Creates the `observed` table with 10,000 dead tuples (schema must already be applied). Autovacuum
 * is off for it: its dead tuples invite an autovacuum worker, which under load (a busy suite, a
 * slow sampler start) visited the table around the scenario's VACUUM and made a second vacuum run
 * of `public.observed` — the "one VACUUM seen as two runs" failure.
 */
export async function prepareObservedTable(client: pg.Client): Promise<void> {
  await client.query('CREATE TABLE observed (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)');
  await client.query(`INSERT INTO observed SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g`);
  await client.query('DELETE FROM observed WHERE id % 2 = 0');
}

export async function runObservedScenario(client: pg.Client, primaryUrl: string, replicaUrl: string): Promise<ObservedScenario> {
  const t: ScenarioTimes = { vacuumFrom: 0, vacuumTo: 0, checkpointFrom: 0, checkpointTo: 0 };
  const before = await snapshotStatements(client, { node: 'primary' });
  // Faster than the default 500 ms so the VACUUM is seen in progress several times; the tests do
  // not rely on that (completions are read from counters too).
  // The newest sample that shows a checkpoint started at or after `checkpointFrom` (second
  // resolution): the scenario waits for it instead of a fixed delay, which a starved sampler (the
  // whole test suite on 2 cores) could outlast and end the window on an earlier checkpoint.
  let sawForcedCheckpoint = false;
  const primarySampler = await startSampler({
    url: primaryUrl,
    node: 'primary',
    intervalMs: 25,
    onSample: (s) => {
      const last = s.checkpoint?.lastCheckpointAt ?? null;
      if (t.checkpointFrom > 0 && last !== null && last >= Math.floor(t.checkpointFrom / 1000) * 1000 && s.at >= t.checkpointTo) sawForcedCheckpoint = true;
    },
  });
  const replicaSampler = await startSampler({ url: replicaUrl, node: 'replica', intervalMs: 100 });
  let primary: SamplerResult;
  let replica: SamplerResult;
  try {
    for (let i = 0; i < 5; i++) await client.query('/* esbench:test */ SELECT count(*) FROM observed WHERE id > $1', [i]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Cost-based delay makes this VACUUM of ~600 pages take a few hundred ms. Its pages are still
    // in shared buffers and already dirty, so only buffer hits cost: make them count.
    await client.query('SET vacuum_cost_delay = 2');
    await client.query('SET vacuum_cost_limit = 100');
    await client.query('SET vacuum_cost_page_hit = 20');
    t.vacuumFrom = Date.now();
    await client.query('VACUUM observed');
    t.vacuumTo = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
    t.checkpointFrom = Date.now();
    await client.query('CHECKPOINT');
    t.checkpointTo = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (const deadline = Date.now() + 10_000; !sawForcedCheckpoint && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 25));
  } finally {
    primary = await primarySampler.stop();
    replica = await replicaSampler.stop();
  }
  const statements = diffStatements(before, await snapshotStatements(client, { node: 'primary' }));
  return { before, primary, replica, statements, t };
}

/**
 * The scenario's VACUUM was seen once, as a manual run on `public.observed`, from progress and
 * counters, within the times the client saw it run. Returns the run for further checks.
 */
export function expectVacuumSeen(primary: SamplerResult, t: ScenarioTimes): MaintenanceEvent {
  const runs = primary.events.filter(
    (e): e is MaintenanceEvent => e.kind === 'maintenance' && e.relation === 'public.observed' && e.operation === 'vacuum',
  );
  expect(runs, JSON.stringify(runs)).toHaveLength(1);
  const run = runs[0]!;
  expect(run.auto).toBe(false);
  expect(run.source).toBe('progress+counters');
  // Server and client share this machine's clock; allow a few ms of rounding either way.
  expect(run.startedAt!).toBeGreaterThanOrEqual(t.vacuumFrom - 5);
  expect(run.endedAt!).toBeGreaterThan(run.startedAt!);
  expect(run.endedAt!).toBeLessThanOrEqual(t.vacuumTo + 5);
  expect(primary.summary.waitEvents['Timeout:VacuumDelay'] ?? 0).toBeGreaterThan(0);
  return run;
}
