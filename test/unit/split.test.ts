import { describe, expect, it } from 'vitest';
import { computeSplit, type EndpointSplit, type SplitComponent } from '../../src/analysis/split.ts';
import { LatencyRecorder, type EndpointRecord } from '../../src/load/latency-recorder.ts';
import { createRng } from '../../src/core/prng.ts';
import type { StatementWindow, StatementWindowEntry } from '../../src/observe/statement-stats.ts';

interface Synthetic {
  pool: () => number;
  db: () => number;
  app: () => number;
  transport: () => number;
}

/** Records n responses whose parts are known, through the same recorder the engines use. */
function record(endpoints: Record<string, Synthetic>, n: number): Record<string, EndpointRecord> {
  const rec = new LatencyRecorder({ originMs: 0, originEpochMs: 0, phase: 'measure' });
  for (let i = 0; i < n; i++) {
    for (const [name, s] of Object.entries(endpoints)) {
      const pool = s.pool();
      const db = s.db();
      const app = s.app();
      const total = pool + db + app;
      rec.sent(name, i);
      rec.completed(name, i + 1, {
        status: 201,
        latencyMs: total + s.transport(),
        timing: { totalMs: total, poolMs: pool, dbMs: db, appMs: app },
      });
    }
  }
  return rec.finish().byEndpoint;
}

function statementWindow(node: string, entries: Array<Pick<StatementWindowEntry, 'name' | 'calls' | 'meanExecMs' | 'stddevExecMs'>>): StatementWindow {
  const byName: Record<string, StatementWindowEntry> = {};
  for (const e of entries) {
    byName[e.name] = {
      ...e,
      node,
      queryids: ['1'],
      query: `/* esbench:${e.name} */ ...`,
      totalExecMs: (e.meanExecMs ?? 0) * e.calls,
      totalPlanMs: 0,
      meanPlanMs: 0,
      shapes: [],
      rows: e.calls,
      rowsPerCall: 1,
      sharedBlksHit: 0,
      sharedBlksRead: 0,
      hitRatio: null,
      walBytes: 0,
      walBytesPerCall: 0,
      reset: false,
    };
  }
  return { node, fromAt: 0, toAt: 1, byName, untagged: [], observerCalls: 0, observerMs: 0, databaseMs: 0, observerShare: null, planning: 'tracked', evictions: 0, warnings: [] };
}

const part = (s: EndpointSplit, c: SplitComponent) => s.rows.find((r) => r.component === c);

describe('split of client latency', () => {
  const rng = createRng(11);
  const uniform = (lo: number, hi: number) => () => lo + rng() * (hi - lo);

  it('has non-negative parts that add up to the client latency (mapping given, two endpoints)', () => {
    const endpoints = record(
      {
        'lend-book-copy': { pool: uniform(0, 0.4), db: uniform(1.8, 3.5), app: uniform(0.3, 1.2), transport: uniform(0.2, 2) },
        'books-lent': { pool: uniform(0, 0.1), db: uniform(0.6, 1.1), app: uniform(0.1, 0.5), transport: uniform(0.2, 1) },
      },
      2000,
    );
    const split = computeSplit({
      endpoints,
      statements: [
        statementWindow('primary', [
          { name: 'query', calls: 2000, meanExecMs: 0.74, stddevExecMs: 0.1 },
          { name: 'append', calls: 2000, meanExecMs: 0.82, stddevExecMs: 0.2 },
        ]),
        statementWindow('replica', [{ name: 'query', calls: 2000, meanExecMs: 0.5, stddevExecMs: 0.05 }]),
      ],
      statementsPerRequest: {
        'lend-book-copy': [
          { node: 'primary', statement: 'query', callsPerRequest: 1 },
          { node: 'primary', statement: 'append', callsPerRequest: 1 },
        ],
        'books-lent': [{ node: 'replica', statement: 'query', callsPerRequest: 1 }],
      },
    });
    expect(split.endpoints.map((e) => e.endpoint).sort()).toEqual(['books-lent', 'lend-book-copy']);
    for (const e of split.endpoints) {
      expect(e.warnings).toEqual([]);
      const parts = e.rows.filter((r) => r.part);
      expect(parts.map((r) => r.component).sort()).toEqual(['appOverhead', 'clientTransport', 'dbExecution', 'dbPlanning', 'dbUnexplained', 'poolWait']);
      for (const r of parts) expect(r.mean!).toBeGreaterThanOrEqual(0);
      const client = part(e, 'client')!;
      expect(Math.abs(e.sumOfPartsMs! - client.mean!)).toBeLessThan(1e-6);
      expect(Math.abs(e.residualMs!)).toBeLessThan(1e-6);
      // Percentiles exist where a per-request distribution does, and only there.
      expect(part(e, 'clientTransport')!.p99).not.toBeNull();
      expect(part(e, 'appOverhead')!.p50).not.toBeNull();
      expect(part(e, 'dbExecution')!.p99).toBeNull();
      expect(part(e, 'dbUnexplained')!.p50).toBeNull();
      for (const r of e.rows) expect(r.measuredAt.length).toBeGreaterThan(5);
    }
    const lend = split.endpoints.find((e) => e.endpoint === 'lend-book-copy')!;
    expect(part(lend, 'dbExecution')!.mean).toBeCloseTo(0.74 + 0.82, 9);
    expect(part(lend, 'dbUnexplained')!.mean).toBeCloseTo(part(lend, 'dbRoundTrip')!.mean! - 1.56, 9);
  });

  it('derives calls per request from a single-endpoint run', () => {
    const endpoints = record({ 'events-append': { pool: () => 0.05, db: uniform(1, 2), app: () => 0.4, transport: () => 0.6 } }, 500);
    const split = computeSplit({
      endpoints,
      statements: [statementWindow('primary', [{ name: 'append', calls: 1000, meanExecMs: 0.3, stddevExecMs: 0.1 }])],
    });
    const e = split.endpoints[0]!;
    expect(e.statements).toEqual([
      expect.objectContaining({ node: 'primary', statement: 'append', callsPerRequest: 2, source: 'derived from a single-endpoint run' }),
    ]);
    expect(part(e, 'dbExecution')!.mean).toBeCloseTo(0.6, 9);
    expect(Math.abs(e.residualMs!)).toBeLessThan(1e-6);
  });

  it('flags an impossible mapping instead of hiding it', () => {
    const endpoints = record({ 'events-query': { pool: () => 0, db: () => 1, app: () => 0.2, transport: () => 0.3 } }, 100);
    const split = computeSplit({
      endpoints,
      statements: [statementWindow('primary', [{ name: 'query', calls: 100, meanExecMs: 1.5, stddevExecMs: 0 }])],
    });
    const e = split.endpoints[0]!;
    const rest = part(e, 'dbUnexplained')!;
    expect(rest.mean!).toBeLessThan(0);
    // Not clamped, not hidden: shown as noise with its magnitude, and the mapping is flagged.
    expect(rest.noise).toBe(true);
    expect(rest.label).toMatch(/measurement noise \(-0\.500 ms/);
    expect(e.warnings.join(' ')).toMatch(/exceeds the DB round trip/);
  });

  it('keeps the DB round trip as one part when statements are not known', () => {
    const endpoints = record(
      {
        a: { pool: () => 0.1, db: () => 1, app: () => 0.2, transport: () => 0.3 },
        b: { pool: () => 0.1, db: () => 2, app: () => 0.2, transport: () => 0.3 },
      },
      50,
    );
    const split = computeSplit({ endpoints, statements: [statementWindow('primary', [{ name: 'query', calls: 100, meanExecMs: 0.5, stddevExecMs: 0 }])] });
    for (const e of split.endpoints) {
      expect(part(e, 'dbExecution')).toBeUndefined();
      expect(part(e, 'dbRoundTrip')!.part).toBe(true);
      expect(e.warnings.join(' ')).toMatch(/statementsPerRequest/);
      expect(Math.abs(e.residualMs!)).toBeLessThan(1e-9);
    }
  });
});

describe('split: statements per endpoint, probe and driver', () => {
  /** A response as the service reports it: its own tagged statements, decode and probe. */
  function recordTagged(n: number): Record<string, EndpointRecord> {
    const rec = new LatencyRecorder({ originMs: 0, originEpochMs: 0, phase: 'measure' });
    for (let i = 0; i < n; i++) {
      rec.sent('lend-book-copy', i);
      rec.completed('lend-book-copy', i + 1, {
        status: 201,
        latencyMs: 10,
        timing: {
          totalMs: 9,
          poolMs: 0.5,
          dbMs: 6,
          appMs: 2.5,
          calls: { 'primary.query@lend-book-copy': 1, 'primary.begin@lend-book-copy': 1 },
          driver: { decodeMs: 1, roundTrips: 2, rows: 100, bytes: 40_000 },
          probe: { seq: 1 + Math.floor(i / 10), ms: 0.4 },
        },
      });
      rec.sent('add-book-copy', i);
      rec.completed('add-book-copy', i + 1, {
        status: 201,
        latencyMs: 4,
        timing: { totalMs: 3, poolMs: 0.1, dbMs: 2, appMs: 0.9, calls: { 'primary.query@add-book-copy': 1, 'primary.begin@lend-book-copy': 0 } },
      });
    }
    return rec.finish().byEndpoint;
  }

  it("charges each endpoint its own tag's mean, falls back to the shared entry of a utility statement, and subtracts wire and decode", () => {
    const endpoints = recordTagged(100);
    const window = statementWindow('primary', [
      { name: 'query@lend-book-copy', calls: 100, meanExecMs: 3, stddevExecMs: 0 },
      { name: 'query@add-book-copy', calls: 100, meanExecMs: 0.5, stddevExecMs: 0 },
      // BEGIN of every endpoint landed in the entry tagged by the first one (PG 16+).
      { name: 'begin@add-book-copy', calls: 100, meanExecMs: 0.01, stddevExecMs: 0 },
      { name: 'probe', calls: 10, meanExecMs: 0.05, stddevExecMs: 0 },
    ]);
    const probes = Array.from({ length: 10 }, (_, i) => ({ seq: i + 1, ms: 0.4 }));
    const split = computeSplit({ endpoints, statements: [window], probes });
    const lend = split.endpoints.find((e) => e.endpoint === 'lend-book-copy')!;
    const add = split.endpoints.find((e) => e.endpoint === 'add-book-copy')!;
    expect(part(lend, 'dbExecution')!.mean).toBeCloseTo(3 + 0.01, 9);
    expect(part(add, 'dbExecution')!.mean).toBeCloseTo(0.5, 9);
    expect(lend.statements.find((s) => s.statement === 'begin@lend-book-copy')!.source).toBe('shared between endpoints');
    expect(split.probe).toMatchObject({ readings: 10, roundTripMeanMs: 0.4 });
    expect(split.probe!.wireMeanMs).toBeCloseTo(0.35, 9);
    expect(part(lend, 'wire')!.mean).toBeCloseTo(0.7, 9);
    expect(part(lend, 'decode')!.mean).toBeCloseTo(1, 9);
    expect(part(lend, 'dbUnexplained')!.mean).toBeCloseTo(6 - 3.01 - 0.7 - 1, 9);
    expect(lend.driver).toEqual({ roundTripsPerRequest: 2, rowsPerRequest: 100, bytesPerRequest: 40_000 });
    expect(Math.abs(lend.residualMs!)).toBeLessThan(1e-6);
  });
});
