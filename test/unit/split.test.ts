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
  return { node, fromAt: 0, toAt: 1, byName, untagged: [], observerCalls: 0, evictions: 0, warnings: [] };
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
      expect(parts.map((r) => r.component).sort()).toEqual(['appOverhead', 'clientTransport', 'dbExecution', 'networkProtocol', 'poolWait']);
      for (const r of parts) expect(r.mean!).toBeGreaterThanOrEqual(0);
      const client = part(e, 'client')!;
      expect(Math.abs(e.sumOfPartsMs! - client.mean!)).toBeLessThan(1e-6);
      expect(Math.abs(e.residualMs!)).toBeLessThan(1e-6);
      // Percentiles exist where a per-request distribution does, and only there.
      expect(part(e, 'clientTransport')!.p99).not.toBeNull();
      expect(part(e, 'appOverhead')!.p50).not.toBeNull();
      expect(part(e, 'dbExecution')!.p99).toBeNull();
      expect(part(e, 'networkProtocol')!.p50).toBeNull();
      for (const r of e.rows) expect(r.measuredAt.length).toBeGreaterThan(5);
    }
    const lend = split.endpoints.find((e) => e.endpoint === 'lend-book-copy')!;
    expect(part(lend, 'dbExecution')!.mean).toBeCloseTo(0.74 + 0.82, 9);
    expect(part(lend, 'networkProtocol')!.mean).toBeCloseTo(part(lend, 'dbRoundTrip')!.mean! - 1.56, 9);
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
    expect(part(e, 'networkProtocol')!.mean!).toBeLessThan(0);
    expect(e.warnings.join(' ')).toMatch(/exceeds the DB round trip/);
    expect(e.warnings.join(' ')).toMatch(/network \+ protocol is negative/);
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
