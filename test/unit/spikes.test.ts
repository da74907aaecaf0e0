import { describe, expect, it } from 'vitest';
import { detectSpikes } from '../../src/analysis/spikes.ts';
import type { Sample } from '../../src/observe/sample.ts';
import { T0, extendWait, ginScenario, maintenance, noisyRun, sample, sampler, second } from '../fixtures/spikes/synthetic.ts';
import { createRng } from '../../src/core/prng.ts';

describe('spike detection', () => {
  it('finds spikes against the run level and attributes each to what the observer saw', () => {
    const seconds = Array.from({ length: 60 }, (_, i) => second(i, 20));
    seconds[10] = second(10, 400); // lock wait
    seconds[11] = second(11, 350);
    seconds[30] = second(30, 30, { timeouts: 2, http5xx: 3, errorCodes: { DB_UNAVAILABLE: 3 } }); // outage
    seconds[50] = second(50, 500); // nothing seen
    const waiting = { application: 'esbench_primary_pool', state: 'active', backendType: 'client backend', waitEventType: 'Lock', waitEvent: 'relation', count: 7 };
    const primary = sampler('primary', [
      sample(T0 + 10_200, { backends: [waiting] }),
      sample(T0 + 11_200, { backends: [waiting] }),
      // The observer's own waits never count.
      sample(T0 + 50_300, { backends: [{ ...waiting, application: 'esbench_observer', count: 1 }] }),
      ...[2, 20, 40, 55].map((s) => sample(T0 + s * 1000)),
    ]);
    const replica = sampler('replica', [], { errors: [{ at: T0 + 30_400, message: 'connect ECONNREFUSED' }] });
    const report = detectSpikes(seconds, [primary, replica]);
    expect(report.baselineP99Ms).toBeCloseTo(20, 6);
    expect(report.spikes.map((s) => [s.firstSecond, s.lastSecond])).toEqual([
      [10, 11],
      [30, 30],
      [50, 50],
    ]);
    const lock = report.spikes[0]!.causes[0]!;
    expect([lock.kind, lock.node, lock.role]).toEqual(['lock wait', 'primary', 'primary']);
    expect(lock.evidence).toMatch(/Lock:relation.*up to 7 backend/);
    expect(report.spikes[1]!.causes.map((c) => [c.kind, c.node])).toEqual([['outage', 'replica']]);
    expect(report.spikes[1]!.timeouts).toBe(2);
    expect(report.spikes[2]!.causes[0]!.kind).toBe('unexplained');
    expect(report.spikes[2]!.causes[0]!.evidence).toMatch(/GC \/ event-loop delay is not measured/);
    expect(report.period).toMatchObject({ spikes: 3, meanSeconds: 20 });
    expect(report.notMeasured).toContain('the service\'s GC / event-loop delay: its process is not sampled per second');
  });

  it('names autovacuum and checkpoints in the window as coincident, not as the cause; a flat run has no spike', () => {
    const seconds = Array.from({ length: 20 }, (_, i) => second(i, 10));
    expect(detectSpikes(seconds).spikes).toEqual([]);
    seconds[5] = second(5, 200);
    const primary = sampler('primary', [sample(T0 + 5_100)], {
      events: [
        maintenance('vacuum', true, 1, 15),
        { kind: 'checkpoint', node: 'primary', type: 'checkpoint', startedAt: T0 + 4_000, completedBetween: [T0 + 5_000, T0 + 5_250], reason: 'timed', buffersWritten: 1200, redoLsn: null },
      ],
    });
    const [spike] = detectSpikes(seconds, [primary]).spikes;
    expect(spike!.causes.map((c) => c.kind)).toEqual(['unexplained', 'autovacuum', 'checkpoint']);
    expect(spike!.causes.find((c) => c.kind === 'autovacuum')).toMatchObject({ role: 'coincident' });
    expect(spike!.causes.find((c) => c.kind === 'autovacuum')!.evidence).toMatch(/public\.events, 14\.0 s/);
  });

  it('noise alone (ln sigma 0.25, 1.6× blips) gives no spikes', () => {
    for (const seed of [1, 2, 3]) {
      const seconds = noisyRun(300, 20, 0.25, seed);
      // A few single-second blips of 1.6×: ordinary jitter, not a spike.
      for (const i of [40, 130, 220]) seconds[i] = second(i, 32);
      const report = detectSpikes(seconds);
      expect(report.spikes, `seed ${seed}`).toEqual([]);
      expect(report.detection!.noiseSigmaLog!).toBeGreaterThan(0.15);
    }
  });

  it('a degradation that builds over 40 s is one episode, not a scatter of spikes', () => {
    const rng = createRng(11);
    const seconds = noisyRun(150, 20, 0.12, 7);
    // 20 → 500 ms over 40 s (exponential, noisy), held 5 s, then back to normal.
    for (let i = 50; i < 95; i++) {
      const target = i < 90 ? 20 * Math.exp((Math.log(25) * (i - 50)) / 40) : 500;
      seconds[i] = second(i, target * Math.exp(0.15 * (rng() - 0.5)));
    }
    const report = detectSpikes(seconds);
    expect(report.spikes).toHaveLength(1);
    const [episode] = report.spikes;
    expect(episode!.firstSecond).toBeLessThanOrEqual(70);
    expect(episode!.lastSecond).toBeGreaterThanOrEqual(94);
    expect(episode!.lastSecond).toBeLessThanOrEqual(97);
    expect(episode!.worstP99Ms!).toBeGreaterThan(400);
  });
});

describe('GIN pending list', () => {
  it('growth that latency tracks, flushed by an autoanalyze: cause "GIN pending list", the autoanalyze named as what ended it', () => {
    const { seconds, primary } = ginScenario(true);
    const report = detectSpikes(seconds, [primary]);
    expect(report.spikes).toHaveLength(1);
    const [episode] = report.spikes;
    expect(episode!.timeouts).toBeGreaterThan(0);
    const [first] = episode!.causes;
    expect(first!.kind).toBe('GIN pending list');
    expect(first!.role).toBe('primary');
    expect(first!.figures).toMatchObject({ index: 'events_payload_idx', pendingTuplesPeak: expect.any(Number), flushedByKind: 'autoanalyze' });
    expect(Number(first!.figures!.spearmanRho)).toBeGreaterThan(0.8);
    expect(first!.figures!.correlatedWith).toBe('server p99 per second');
    expect(first!.evidence).toMatch(/events_payload_idx on public\.events: pending list .* → 39,\d{3} tuples/);
    expect(first!.evidence).toMatch(/by autoanalyze of public\.events.*which ended it/);
    const analyze = episode!.causes.find((c) => c.kind === 'autoanalyze');
    expect(analyze).toMatchObject({ role: 'ended it' });
    expect(analyze!.evidence).toMatch(/flushed events_payload_idx's pending list/);
    // Lock:extend waits are frequent in the episode (as in the measured case), but they are inserts
    // extending the growing list: contributing, never primary.
    const extend = episode!.causes.find((x) => x.kind === 'lock wait')!;
    expect(extend.figures).toMatchObject({ lock: 'Lock:extend' });
    expect(Number(extend.figures!.shareOfSamples)).toBeGreaterThan(0.6);
    expect(extend.role).toBe('contributing');
    expect(extend.evidence).toMatch(/inserts extend the growing GIN pending list/);
    expect(episode!.causes.filter((c) => c.role === 'primary').map((c) => c.kind)).toEqual(['GIN pending list']);
    expect(report.ginFlushes!.map((f) => [f.index, f.byKind])).toEqual([
      ['events_payload_idx', 'autoanalyze'],
      ['events_metadata_idx', 'autoanalyze'],
    ]);
  });

  it('with fastupdate off the same run has no GIN cause', () => {
    const { seconds, primary } = ginScenario(false);
    const report = detectSpikes(seconds, [primary]);
    expect(report.spikes.length).toBeGreaterThan(0);
    for (const s of report.spikes) expect(s.causes.map((c) => c.kind)).not.toContain('GIN pending list');
    expect(report.ginFlushes).toEqual([]);
  });

  it('a list that only grew large during an episode already under way did not start it (regression: a real run dead from its first second)', () => {
    const seconds = Array.from({ length: 120 }, (_, i) => second(i, i < 10 ? 20 : 900, i < 10 ? {} : { timeouts: 50 }));
    const samples: Sample[] = Array.from({ length: 120 }, (_, i) =>
      sample(T0 + i * 1000 + 500, { gin: [{ index: 'events_payload_idx', table: 'public.events', pendingTuples: i < 60 ? 500 + i * 80 : 7, pendingPages: i < 60 ? 3 + i : 1 }] }),
    );
    const report = detectSpikes(seconds, [sampler('primary', samples, { events: [maintenance('analyze', true, 58, 60)] })]);
    expect(report.spikes).toHaveLength(1);
    const gin = report.spikes[0]!.causes.find((c) => c.kind === 'GIN pending list')!;
    expect(gin.role).toBe('coincident');
    expect(gin.evidence).toMatch(/did not vary with it.*had not recovered when the window closed.*did not start it/);
    expect(report.spikes[0]!.causes.find((c) => c.kind === 'autoanalyze')!.role).toBe('coincident');
  });

  it('a flush by an insert past gin_pending_list_limit (no vacuum around) is named as such', () => {
    const seconds = Array.from({ length: 60 }, (_, i) => second(i, 15));
    seconds[30] = second(30, 600);
    const samples: Sample[] = Array.from({ length: 60 }, (_, i) =>
      sample(T0 + i * 1000 + 500, { gin: [{ index: 'events_payload_idx', table: 'public.events', pendingTuples: i < 30 ? 3000 + i * 100 : 50, pendingPages: i < 30 ? 40 : 1 }] }),
    );
    const report = detectSpikes(seconds, [sampler('primary', samples, { settings: { gin_pending_list_limit: '4096kB' } })]);
    expect(report.ginFlushes![0]).toMatchObject({ byKind: 'gin_pending_list_limit', second: 30 });
    const gin = report.spikes[0]!.causes.find((c) => c.kind === 'GIN pending list');
    expect(gin!.evidence).toMatch(/gin_pending_list_limit \(4096kB\)/);
  });
});

describe('periodicity', () => {
  it('spikes every 120 s next to an autoanalyze every 120 s and the naptime', () => {
    const seconds = noisyRun(600, 15, 0.1, 3);
    const events = [];
    for (const at of [60, 180, 300, 420, 540]) {
      for (let i = at; i < at + 3; i++) seconds[i] = second(i, 300);
      events.push(maintenance('analyze', true, at, at + 3));
    }
    const samples = Array.from({ length: 600 }, (_, i) => sample(T0 + i * 1000 + 200));
    const report = detectSpikes(seconds, [sampler('primary', samples, { events, settings: { autovacuum_naptime: '120s' } })]);
    expect(report.spikes).toHaveLength(5);
    const p = report.periodicity!;
    expect(p.spikes.meanSeconds).toBeCloseTo(120, 0);
    const analyze = p.causes.find((c) => c.kind === 'autoanalyze')!;
    expect(analyze).toMatchObject({ matches: true, occurrences: 5, spikesWithIt: 5 });
    expect(analyze.meanSeconds).toBeCloseTo(120, 0);
    expect(p.sentence).toMatch(/one every 120 s.*autoanalyze public\.events \(primary\) every 120 s.*in 5 of 5 spikes.*autovacuum_naptime 120s/);
  });

  it('a period without a matching cause says so', () => {
    const seconds = noisyRun(400, 15, 0.1, 4);
    for (const at of [50, 150, 250, 350]) seconds[at] = second(at, 300);
    const events = [maintenance('analyze', true, 10, 12), maintenance('analyze', true, 200, 202)];
    const report = detectSpikes(seconds, [sampler('primary', [sample(T0 + 100)], { events })]);
    expect(report.periodicity!.causes.every((c) => !c.matches)).toBe(true);
    expect(report.periodicity!.sentence).toMatch(/no recurring cause has that period/);
  });
});

describe('other causes', () => {
  it('pool exhaustion from POOL_TIMEOUT answers and the per-second pool wait; generator delay from its own event loop', () => {
    const seconds = Array.from({ length: 40 }, (_, i) => second(i, 20, {}, { server: { total: { ...second(0, 15).latency }, pool: { ...second(0, 1).latency } } }));
    seconds[10] = second(10, 900, { errorCodes: { POOL_TIMEOUT: 4 }, http5xx: 4 }, { server: { total: second(0, 850).latency, pool: second(0, 800).latency } });
    seconds[25] = second(25, 400, {}, { client: { cpu: 0.6, eventLoopDelayP99Ms: 300, eventLoopDelayMaxMs: 380, maxInFlight: 10, queued: 0 }, scheduleLag: second(0, 370).latency });
    const report = detectSpikes(seconds, [], { pools: { primary: { max: 20 } } });
    expect(report.spikes).toHaveLength(2);
    expect(report.spikes[0]!.causes[0]).toMatchObject({ kind: 'pool exhaustion', role: 'primary' });
    expect(report.spikes[0]!.causes[0]!.evidence).toMatch(/4× POOL_TIMEOUT; pool acquire wait p99 up to 800 ms/);
    expect(report.spikes[1]!.causes[0]).toMatchObject({ kind: 'generator delay', role: 'primary' });
    expect(report.spikes[1]!.causes[0]!.evidence).toMatch(/event loop was delayed up to 380 ms/);
  });

  it('CPU is whole-window context and says so; it does not make a spike explained', () => {
    const seconds = Array.from({ length: 30 }, (_, i) => second(i, 20));
    seconds[12] = second(12, 300);
    const cpu = { measuredAt: '', windowSeconds: 30, requests: 300, processes: [{ process: 'service' as const, label: '', cpuSeconds: 57, cores: 1.9, msPerRequest: 190 }], totalMsPerRequest: 190, unread: [], cpus: 2, cpuBoundRateEstimate: null };
    const [spike] = detectSpikes(seconds, [], { cpu }).spikes;
    expect(spike!.causes.map((c) => c.kind)).toEqual(['unexplained', 'CPU']);
    expect(spike!.causes[1]!.evidence).toMatch(/1\.90 of 2 cores over the whole window.*not per second/);
  });

  it('commits waiting for the WAL flush (a slow disk) are an I/O wait', () => {
    const seconds = Array.from({ length: 60 }, (_, i) => second(i, 20));
    for (let i = 20; i < 25; i++) seconds[i] = second(i, 700);
    const wal = (count: number): Sample['backends'][number] => ({ application: 'esbench_primary_pool', state: 'active', backendType: 'client backend', waitEventType: 'IO', waitEvent: 'WalSync', count });
    const samples = Array.from({ length: 60 }, (_, i) => sample(T0 + i * 1000 + 300, { backends: i >= 20 && i < 25 ? [wal(9)] : i % 10 === 0 ? [wal(1)] : [] }));
    const [spike] = detectSpikes(seconds, [sampler('primary', samples)]).spikes;
    expect(spike!.causes[0]).toMatchObject({ kind: 'IO wait', role: 'primary', figures: { wait: 'WAL flush', maxWaiting: 9 } });
    expect(spike!.causes[0]!.evidence).toMatch(/commits waiting for the WAL to reach disk/);
  });

  it('a run that is one long episode: waits are judged without a quiet baseline, capped, and a lone waiting backend is ignored', () => {
    const seconds = Array.from({ length: 40 }, (_, i) => second(i, null, { completed: 0, ok: 0, timeouts: 100 }));
    const wait = (type: string, event: string, count: number): Sample['backends'][number] => ({ application: 'esbench_primary_pool', state: 'active', backendType: 'client backend', waitEventType: type, waitEvent: event, count });
    const samples = Array.from({ length: 40 }, (_, i) =>
      sample(T0 + i * 1000 + 300, { backends: [wait('Lock', 'tuple', 1), ...(i % 3 === 0 ? [wait('LWLock', 'WALWrite', 12), wait('IO', 'WalSync', 1)] : [])] }),
    );
    const report = detectSpikes(seconds, [sampler('primary', samples)], { timeoutMs: 1000 });
    expect(report.spikes).toHaveLength(1);
    const causes = report.spikes[0]!.causes;
    expect(causes.map((c) => c.kind)).not.toContain('lock wait');
    const wal = causes.find((c) => c.kind === 'IO wait')!;
    expect(wal.score).toBeLessThanOrEqual(0.6);
    expect(wal.evidence).toMatch(/up to 13 backend\(s\).*no quiet seconds to compare with/);
  });

  it('Lock:extend present all through the run is not a cause of one episode', () => {
    const seconds = Array.from({ length: 60 }, (_, i) => second(i, 20));
    seconds[30] = second(30, 500);
    const samples = Array.from({ length: 60 }, (_, i) => sample(T0 + i * 1000 + 300, { backends: [extendWait(2)] }));
    const [spike] = detectSpikes(seconds, [sampler('primary', samples)]).spikes;
    expect(spike!.causes.map((c) => c.kind)).toEqual(['unexplained']);
  });
});
