/**
 * A run records a lock held on `events` as a latency spike with cause "lock wait" (seen by the
 * observer in the same seconds), and the rest of the run as flat: the question the study never
 * measured ("are the spikes autovacuum?") answered by evidence, end to end through runTrial.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLibrary } from '../../src/domain/seed.ts';
import { runTrial, trialConfig } from '../../src/tuner/trial.ts';
import { sleep, startFaultCluster, type FaultCluster } from './fault-cluster.ts';

let fc: FaultCluster;
beforeAll(async () => {
  fc = await startFaultCluster('spikes');
  const c = new pg.Client({ connectionString: fc.primaryUrl });
  await c.connect();
  await seedLibrary(c, { events: 5000, books: 200, readers: 20, seed: 3, reset: true, snapshots: true });
  await c.end();
});
afterAll(async () => fc?.destroy());

describe('run: spikes and their causes', () => {
  it('a 2 s table lock in the middle of a run is a spike caused by a lock wait', async () => {
    const locker = new pg.Client({ connectionString: fc.primaryUrl });
    await locker.connect();
    let lockDuring: Promise<void> | undefined;
    const holdLock = async () => {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      await sleep(2000);
      await locker.query('COMMIT');
    };
    const config = trialConfig({ rate: 40, durationMs: 9000, warmupMs: 1000, workload: { ...trialConfig({ rate: 1, durationMs: 1 }).workload, books: 200, readers: 20 } });
    const result = await runTrial(fc, config, process.env, {
      // Take the lock three seconds into the measured window, once the observer is sampling.
      onSecond: (second) => {
        if (second.phase === 'measure' && second.index === 2) lockDuring ??= holdLock();
      },
    });
    await lockDuring;
    await locker.end();
    const { spikes } = result.spikes;
    expect(spikes.length).toBeGreaterThanOrEqual(1);
    const locked = spikes.find((s) => s.causes.some((c) => c.kind === 'lock wait'));
    expect(locked, JSON.stringify(spikes, null, 1)).toBeDefined();
    expect(locked!.causes.find((c) => c.kind === 'lock wait')!.evidence).toMatch(/Lock:relation/);
    // The lock was taken when second 2 closed; on a busy machine the first seconds may be slow
    // too and merge into the same spike, so only require that the spike covers the lock.
    expect(locked!.firstSecond).toBeLessThanOrEqual(5);
    expect(locked!.lastSecond).toBeGreaterThanOrEqual(3);
    // Requests waited up to the 1 s client timeout: near-1 s latencies, or timeouts.
    expect(locked!.worstP99Ms! > 500 || locked!.timeouts > 0).toBe(true);
  });
});

describe('run: an outage', () => {
  it('a replica that goes down mid-run and stays down: the run completes and reports the outage window', async () => {
    const config = trialConfig({
      rate: 30,
      durationMs: 6000,
      warmupMs: 1000,
      workload: { ...trialConfig({ rate: 1, durationMs: 1 }).workload, books: 200, readers: 20, weights: { 'books-lent': 50, 'lend-book-copy': 25, 'return-book-copy': 25 } },
    });
    let stopped: Promise<unknown> | undefined;
    const result = await runTrial(fc, config, process.env, {
      onSecond: (second) => {
        if (second.phase === 'measure' && second.index === 1) stopped ??= Promise.resolve(fc.cluster.killNode('replica'));
      },
    });
    await stopped;
    try {
      expect(result.partial).toBe(false);
      const outage = result.spikes.outages.find((o) => o.node === 'replica');
      expect(outage, JSON.stringify(result.spikes.outages)).toBeDefined();
      expect(outage!.to - outage!.from).toBeGreaterThan(1500);
      expect(result.observation?.errors.map((e) => e.node)).toEqual(['replica']);
      // Commands on the primary went on; read models fell back to the primary (the default).
      expect(result.load.counters.ok).toBeGreaterThan(100);
    } finally {
      await fc.cluster.up(); // for whatever runs after
    }
  });
});

describe('run: an observer that cannot start', () => {
  it('costs the run its database view, not the run (regression: it used to crash with a stack trace)', async () => {
    const unreachable = 'postgres://postgres@127.0.0.1:1/esbench';
    const result = await runTrial({ primaryUrl: fc.primaryUrl, replicaUrl: unreachable }, trialConfig({ rate: 20, durationMs: 2000, warmupMs: 500, workload: { ...trialConfig({ rate: 1, durationMs: 1 }).workload, books: 200, readers: 20 } }), process.env);
    expect(result.observation).toBeNull();
    expect(result.observerError).toMatch(/ECONNREFUSED|connect/i);
    expect(result.load.counters.ok).toBeGreaterThan(10);
  });
});
