import * as ss from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { statementName } from '../../src/observe/observer-client.ts';
import { diffStatements, type StatementEntry, type StatementSnapshot } from '../../src/observe/statement-stats.ts';

/** What pg_stat_statements would hold after these executions (population stddev, as it keeps). */
function entry(key: string, query: string, times: number[], statsSince: number | null = null, planMs = 0): StatementEntry {
  return {
    key,
    queryid: key,
    toplevel: true,
    name: statementName(query),
    query,
    calls: times.length,
    totalExecMs: ss.sum(times),
    meanExecMs: times.length ? ss.mean(times) : 0,
    stddevExecMs: times.length ? ss.standardDeviation(times) : 0,
    totalPlanMs: planMs,
    rows: times.length,
    sharedBlksHit: 10 * times.length,
    sharedBlksRead: times.length,
    walBytes: 100 * times.length,
    statsSince,
  };
}

const snapshot = (takenAt: number, entries: StatementEntry[], deallocations = 0): StatementSnapshot => ({
  node: 'primary',
  takenAt,
  serverVersionNum: 170000,
  planning: 'tracked',
  deallocations,
  entries,
});

describe('pg_stat_statements window', () => {
  it('reads statement names from the esbench comment, leading or trailing (PG 18 keeps only the trailing one)', () => {
    expect(statementName('/* esbench:append */ INSERT INTO events ...')).toBe('append');
    expect(statementName('  /* esbench:lock_keys */ SELECT esbench_lock_keys($1, $2)')).toBe('lock_keys');
    expect(statementName('SELECT esbench_lock_keys($1, $2) /* esbench:lock_keys */')).toBe('lock_keys');
    expect(statementName('/* other */ SELECT 1')).toBeNull();
  });

  it("recovers the window's calls, mean and stddev from two cumulative snapshots", () => {
    const history = [3, 5, 4, 100, 2];
    const window = [1.5, 2.5, 1.25, 8, 0.75, 3];
    const start = snapshot(0, [entry('a', '/* esbench:append */ INSERT', history)]);
    const end = snapshot(1000, [
      entry('a', '/* esbench:append */ INSERT', [...history, ...window]),
      entry('obs', '/* esbench:observer */ SELECT', [1, 1, 1]),
      entry('u', 'SELECT pg_sleep(0)', [0.5]),
    ]);
    const w = diffStatements(start, end);
    const a = w.byName.append!;
    expect(a.calls).toBe(window.length);
    expect(a.meanExecMs!).toBeCloseTo(ss.mean(window), 9);
    expect(a.stddevExecMs!).toBeCloseTo(ss.standardDeviation(window), 9);
    expect(a.sharedBlksHit).toBe(10 * window.length);
    expect(a.hitRatio).toBeCloseTo(10 / 11, 9);
    expect(a.walBytesPerCall).toBe(100);
    expect(w.byName.observer).toBeUndefined();
    expect(w.observerCalls).toBe(3);
    expect(w.untagged.map((u) => u.calls)).toEqual([1]);
    expect(w.warnings).toEqual([]);
  });

  it('groups several queryids under one name and treats a reset entry as all-window', () => {
    const start = snapshot(0, [entry('q1', '/* esbench:query */ SELECT a', [1, 2, 3]), entry('q2', '/* esbench:query */ SELECT b', [9, 9])], 5);
    const end = snapshot(
      1000,
      [entry('q1', '/* esbench:query */ SELECT a', [1, 2, 3, 4, 6]), entry('q2', '/* esbench:query */ SELECT b', [7])],
      7,
    );
    const w = diffStatements(start, end);
    const q = w.byName.query!;
    // q1 adds [4, 6]; q2 went from 2 calls to 1: it was reset, so its one call is the window's.
    expect(q.calls).toBe(3);
    expect(q.meanExecMs!).toBeCloseTo(ss.mean([4, 6, 7]), 9);
    expect(q.stddevExecMs!).toBeCloseTo(ss.standardDeviation([4, 6, 7]), 9);
    expect(q.reset).toBe(true);
    expect(q.queryids.sort()).toEqual(['q1', 'q2']);
    expect(w.evictions).toBe(2);
    expect(w.warnings.join(' ')).toMatch(/evicted/);
  });

  it("reports the observer's share of the database's statement time, planning included, and each shape", () => {
    const start = snapshot(0, [entry('a', 'INSERT /* esbench:append@lend-book-copy */', [1, 1], null, 0.4), entry('obs', 'SELECT /* esbench:observer */', [0.1], null, 0.05)]);
    const end = snapshot(1000, [
      entry('a', 'INSERT /* esbench:append@lend-book-copy */', [1, 1, 2, 2], null, 1.0),
      entry('obs', 'SELECT /* esbench:observer */', [0.1, 0.2, 0.2], null, 0.15),
    ]);
    const w = diffStatements(start, end);
    const a = w.byName['append@lend-book-copy']!;
    expect(a.totalPlanMs).toBeCloseTo(0.6, 9);
    expect(a.meanPlanMs).toBeCloseTo(0.3, 9);
    expect(a.shapes).toEqual([{ queryid: 'a', calls: 2, meanExecMs: 2, meanPlanMs: 0.3 }]);
    // Observer: exec 0.4 + plan 0.1; database: 4 + 0.6 + 0.5.
    expect(w.observerMs).toBeCloseTo(0.5, 9);
    expect(w.databaseMs).toBeCloseTo(5.1, 9);
    expect(w.observerShare).toBeCloseTo(0.5 / 5.1, 9);
    expect(w.planning).toBe('tracked');
  });
});
