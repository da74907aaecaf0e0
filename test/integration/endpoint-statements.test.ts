import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSplit, type EndpointSplit } from '../../src/analysis/split.ts';
import { seedLibrary } from '../../src/domain/seed.ts';
import { LatencyRecorder, type RecorderResult } from '../../src/load/latency-recorder.ts';
import { serviceTiming } from '../../src/load/server-timing.ts';
import { connectObserver } from '../../src/observe/observer-client.ts';
import { diffStatements, snapshotStatements, type StatementWindow } from '../../src/observe/statement-stats.ts';
import { appFixture, type AppFixture } from '../helpers/app.ts';

/**
 * Lend (a two-item boundary: the book's and the reader's events) and add-copy (the book's only)
 * against a seeded history of 3,000 events: their statements must stay apart in pg_stat_statements
 * and in the split, and each endpoint's DB execution must be its own statements' time.
 */
const UTILITY = new Set(['begin', 'commit', 'rollback']);
const N = 40;

describe('statements per endpoint', () => {
  let fx: AppFixture;
  let observer: pg.Client;
  let window: StatementWindow;
  let recorded: RecorderResult;
  const headers: string[] = [];

  beforeAll(async () => {
    // The study's command path (checked append, GIN reads): lend's and add-copy's boundary reads are
    // both the statement `query`, the case issue 11 found mixed. esbench's held path names its read
    // `decision_read` and is tagged per endpoint the same way.
    fx = await appFixture({ service: { locking: 'check', boundaryIndex: 'gin', preparedStatements: false } });
    const c = await fx.sql.connect();
    try {
      await seedLibrary(c, { events: 3000, books: 20, readers: 5, seed: 7, reset: true });
    } finally {
      c.release();
    }
    observer = await connectObserver(fx.db.primaryUrl);
    const recorder = new LatencyRecorder({ originMs: 0, originEpochMs: Date.now(), phase: 'measure' });
    const before = await snapshotStatements(observer, { node: 'primary' });
    for (let i = 0; i < N; i++) {
      for (const [endpoint, payload] of [
        ['lend-book-copy', { bookId: `book-${i % 20}`, readerId: `reader-${i % 5}` }],
        ['add-book-copy', { bookId: `book-${i % 20}` }],
      ] as const) {
        const t0 = performance.now();
        const r = await fx.app.inject({ method: 'POST', url: `/library/commands/${endpoint}`, payload });
        const header = r.headers['server-timing'] as string;
        headers.push(header);
        recorder.sent(endpoint, t0);
        recorder.completed(endpoint, performance.now(), { status: r.statusCode, latencyMs: performance.now() - t0, timing: serviceTiming(header) });
      }
    }
    window = diffStatements(before, await snapshotStatements(observer, { node: 'primary' }));
    recorded = recorder.finish();
  }, 120_000);

  afterAll(async () => {
    await observer?.end();
    await fx?.close();
  });

  /** Execution per request of an endpoint's own (non-utility) statements, straight from pg_stat_statements. */
  const ownExecPerRequest = (endpoint: string): number => {
    let total = 0;
    for (const e of Object.values(window.byName)) {
      const [name, tagged] = e.name.split('@');
      if (tagged === endpoint && !UTILITY.has(name!)) total += e.totalExecMs;
    }
    return total / N;
  };
  const splitOf = (split: { endpoints: EndpointSplit[] }, endpoint: string) => split.endpoints.find((e) => e.endpoint === endpoint)!;

  it('tags each statement with its endpoint, and pg_stat_statements keeps them apart', () => {
    const lend = window.byName['query@lend-book-copy'];
    const add = window.byName['query@add-book-copy'];
    expect(lend?.calls).toBeGreaterThanOrEqual(N);
    expect(add?.calls).toBeGreaterThanOrEqual(N);
    // Different queryids: a shared entry would keep the first endpoint's tag for both.
    expect(lend!.queryids.filter((q) => add!.queryids.includes(q))).toEqual([]);
    expect(headers.every((h) => /db;dur=[\d.]+;desc="[^"]*primary\.query@(lend|add)-book-copy:\d/.test(h))).toBe(true);
  });

  it("gives each endpoint its own statements' execution, and the endpoints differ", () => {
    const split = computeSplit({ endpoints: recorded.byEndpoint, statements: [window], probes: recorded.probes });
    const own = (endpoint: string) =>
      splitOf(split, endpoint)
        .statements.filter((s) => !UTILITY.has(s.statement.split('@')[0]!))
        .reduce((sum, s) => sum + s.callsPerRequest * s.meanExecMs!, 0);
    for (const endpoint of ['lend-book-copy', 'add-book-copy']) {
      expect(own(endpoint)).toBeCloseTo(ownExecPerRequest(endpoint), 6);
      const e = splitOf(split, endpoint);
      expect(e.warnings.filter((w) => /exceeds the DB round trip/.test(w))).toEqual([]);
      expect(e.rows.find((r) => r.component === 'dbPlanning')?.mean).toBeGreaterThan(0);
    }
    const lendExec = ownExecPerRequest('lend-book-copy');
    const addExec = ownExecPerRequest('add-book-copy');
    // Lend reads two boundaries; add-copy one.
    expect(Math.abs(lendExec - addExec) / Math.max(lendExec, addExec)).toBeGreaterThan(0.1);
    // What a mapping by statement name alone (the old split) would have charged both: it must
    // differ from each endpoint's own figure, or this test could not catch the mixing.
    let calls = 0;
    let total = 0;
    for (const e of Object.values(window.byName)) {
      if (e.name.startsWith('query@')) {
        calls += e.calls;
        total += e.totalExecMs;
      }
    }
    const mixed = total / calls;
    expect(Math.abs(mixed - window.byName['query@lend-book-copy']!.meanExecMs!)).toBeGreaterThan(0.05 * mixed);
    expect(Math.abs(mixed - window.byName['query@add-book-copy']!.meanExecMs!)).toBeGreaterThan(0.05 * mixed);
  });

  it('reports planning, the driver (rows, bytes, round trips) and the probe', () => {
    expect(window.planning).toBe('tracked');
    expect(window.byName['query@lend-book-copy']!.totalPlanMs).toBeGreaterThan(0);
    const lend = recorded.byEndpoint['lend-book-copy']!.driver!;
    expect(lend.responses).toBe(N);
    expect(lend.rows / N).toBeGreaterThan(10);
    expect(lend.bytes).toBeGreaterThan(lend.rows * 20);
    expect(lend.roundTrips / N).toBeGreaterThanOrEqual(2);
    expect(recorded.probes.length).toBeGreaterThanOrEqual(1);
    expect(window.byName['probe']?.calls).toBeGreaterThanOrEqual(1);
  });
});
