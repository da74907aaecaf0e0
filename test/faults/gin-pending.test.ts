/**
 * A GIN pending list built under load is named as the cause of the latency it brings, end to end
 * through runTrial (service in its own process, the paced engine, the observer on both nodes).
 *
 * On its own cluster: autovacuum off on `events` and a large gin_pending_list_limit, so nothing
 * flushes the list until the test does. During a run of raw appends (whose conflict check reads
 * the payload index, pending list included), a filler appends events with many distinct payload
 * values straight into the store, growing the list by tens of thousands of entries; then a VACUUM
 * flushes it. The analysis must name the GIN pending list, with the VACUUM as what flushed it.
 * With fastupdate off, the same run has no GIN cause (there is no pending list).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLibrary } from '../../src/domain/seed.ts';
import { resolveWorkloadSpec } from '../../src/load/workload.ts';
import { runTrial, trialConfig, type TrialResult } from '../../src/tuner/trial.ts';
import { sleep, startFaultCluster, type FaultCluster } from './fault-cluster.ts';

const GIN_INDEXES = ['idx_events_payload_gin', 'idx_events_metadata_gin'] as const;
/** Filler rows per second: each adds several pending entries (distinct payload values). */
const FILLER_ROWS = 3000;
const FILL_SQL = `INSERT INTO events (event_type, payload, metadata)
  SELECT 'Filler', jsonb_build_object('filler', md5(g::text || $2::text), 'n', g, 'batch', $2::int), jsonb_build_object('f', g)
    FROM generate_series(1, $1::int) AS g`;

let fc: FaultCluster;
beforeAll(async () => {
  fc = await startFaultCluster('gin');
  const c = new pg.Client({ connectionString: fc.primaryUrl });
  await c.connect();
  try {
    await seedLibrary(c, { events: 2000, books: 100, readers: 20, seed: 3, reset: true, snapshots: true });
    // Nothing but the test may flush the list: no autovacuum on events, a limit far above what it adds.
    await c.query('ALTER TABLE events SET (autovacuum_enabled = off)');
    for (const index of GIN_INDEXES) await c.query(`ALTER INDEX ${index} SET (gin_pending_list_limit = 262144)`);
  } finally {
    await c.end();
  }
}, 180_000);
afterAll(async () => fc?.destroy());

async function setFastupdate(on: boolean): Promise<void> {
  // Flush what is pending first: with fastupdate off, a leftover list would still be scanned.
  await fc.sql.query('VACUUM events');
  for (const index of GIN_INDEXES) await fc.sql.query(`ALTER INDEX ${index} SET (fastupdate = ${on ? 'on' : 'off'})`);
}

/** Raw appends at 60 req/s for 44 s; the filler grows the list from second 3 to ~22 (60K rows), a VACUUM at ~24, then ~20 s to recover. */
async function runWithFiller(): Promise<TrialResult> {
  const filler = new pg.Client({ connectionString: fc.primaryUrl, application_name: 'esbench_test_filler' });
  await filler.connect();
  let stop = false;
  let filling: Promise<void> | undefined;
  const fill = async () => {
    for (let batch = 0; !stop && batch < 20; batch++) {
      const t = Date.now();
      await filler.query(FILL_SQL, [FILLER_ROWS, batch]);
      await sleep(Math.max(0, 1000 - (Date.now() - t)));
    }
    if (!stop) {
      await sleep(2000);
      await filler.query('VACUUM events');
    }
  };
  const workload = { ...resolveWorkloadSpec({ preset: 'raw-append' }), books: 100, readers: 20 };
  try {
    return await runTrial(fc, trialConfig({ rate: 60, durationMs: 44_000, warmupMs: 5000, workload }), process.env, {
      onSecond: (second) => {
        if (second.phase === 'measure' && second.index === 2) filling ??= fill();
      },
    });
  } finally {
    stop = true;
    await filling?.catch(() => undefined);
    await filler.end();
  }
}

const ginCauses = (r: TrialResult) => r.spikes.spikes.flatMap((s) => s.causes.filter((c) => c.kind === 'GIN pending list'));

describe('GIN pending list under load', () => {
  it('fastupdate on: the spikes are attributed to the pending list, flushed by the VACUUM', async () => {
    await setFastupdate(true);
    const result = await runWithFiller();
    const report = result.spikes;
    const peak = Math.max(...result.observation!.samplers.find((s) => s.node === 'primary')!.samples.flatMap((s) => s.gin.map((g) => g.pendingTuples)));
    const p99s = result.load.seconds.filter((s) => s.phase === 'measure').map((s) => Math.round(s.latency.p99 ?? -1));
    const context = JSON.stringify({ peak, p99s, detection: report.detection, flushes: report.ginFlushes, spikes: report.spikes.map((s) => [s.firstSecond, s.lastSecond, s.worstP99Ms, s.causes.map((c) => `${c.role} ${c.kind}: ${c.evidence}`)]) }, null, 1);
    // Before the filler: the machine served the appends (else nothing here can be attributed).
    expect(result.load.seconds.filter((s) => s.phase === 'measure' && s.index < 3 && s.counters.ok > 0).length, `the machine served nothing before the list grew: ${context}`).toBeGreaterThan(0);
    expect(peak, context).toBeGreaterThan(10_000);
    // The sampler recorded the settings the periods are compared with.
    expect(result.observation!.samplers.find((s) => s.node === 'primary')!.settings).toMatchObject({ autovacuum_naptime: '120s', gin_pending_list_limit: '4096kB' });
    expect(report.ginFlushes!.some((f) => f.byKind === 'vacuum' && f.index === 'idx_events_payload_gin'), context).toBe(true);
    // The episode(s) the list caused name it first, as primary.
    const led = report.spikes.filter((s) => s.causes[0]?.kind === 'GIN pending list');
    expect(led.length, context).toBeGreaterThanOrEqual(1);
    expect(led[0]!.causes[0]!.role).toBe('primary');
    expect(led[0]!.causes[0]!.evidence).toMatch(/idx_events_(payload|metadata)_gin on public\.events: pending list/);
  }, 120_000);

  it('fastupdate off: the same run has no GIN cause', async () => {
    await setFastupdate(false);
    const result = await runWithFiller();
    const pending = result.observation!.samplers.flatMap((s) => s.samples.flatMap((x) => x.gin.map((g) => g.pendingTuples)));
    expect(Math.max(0, ...pending)).toBe(0);
    expect(ginCauses(result), JSON.stringify(result.spikes.spikes.map((s) => s.causes))).toEqual([]);
    expect(result.spikes.ginFlushes).toEqual([]);
  }, 120_000);
});
