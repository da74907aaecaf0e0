/**
 * The figure line of each health check, formatted by the printer from the figures the check
 * returns. The expected lines are what the checks printed when they built the text themselves.
 */
import { describe, expect, it } from 'vitest';
import type { CheckFigures, CheckId, CheckResult } from '../../src/observe/health-checks.ts';
import { figureText } from '../../src/report/health-figures.ts';
import { printHealthReport } from '../../src/report/health-printer.ts';

function check<Id extends CheckId>(id: Id, figures: CheckFigures[Id] | null, error?: string): CheckResult {
  const base = {
    title: id,
    status: 'good' as const,
    value: null,
    threshold: 't',
    nodes: [],
    sources: [],
    details: [],
    notes: [],
  };
  return { ...base, id, figures, ...(error === undefined ? {} : { error }) } as CheckResult;
}

describe('health figure text', () => {
  it('formats every check as its line', () => {
    const cases: Array<[CheckResult, string]> = [
      [
        check('vacuum_analyze', [
          { table: 'events', vacuumAgeS: 5, analyzeAgeS: 4000 },
          { table: 'snapshots', vacuumAgeS: null, analyzeAgeS: 90_000 },
        ]),
        'events: vacuumed 5 s ago, analyzed 67 min ago; snapshots: vacuumed never, analyzed 25 h ago',
      ],
      [
        check('dead_tuples', [{ table: 'events', deadPct: 1.234, deadRows: 12, liveRows: 1000 }]),
        'events 1.23% (12 dead / 1000 live)',
      ],
      [
        check('index_usage', {
          indexes: 4,
          scanned: 2,
          scans: [
            { node: 'primary', scans: 10 },
            { node: 'replica', scans: 3 },
          ],
          unscanned: ['a', 'b'],
          invalid: ['b'],
        }),
        '2 of 4 indexes scanned (primary 10 scans, replica 3 scans); not yet: a, b; INVALID: b',
      ],
      [check('query_plans', []), 'no events to probe yet'],
      [
        check('query_plans', [
          { query: 'boundary query', scan: 'idx_events_payload_gin', executionMs: 1.234 },
          { query: 'occurred_at range', scan: 'seq scan', executionMs: 12.34 },
        ]),
        'boundary query: idx_events_payload_gin 1.23 ms; occurred_at range: seq scan 12.3 ms',
      ],
      [
        check('autovacuum_settings', {
          autovacuum: 'on',
          naptime: '1min',
          vacuumScaleFactor: '0.2',
          analyzeScaleFactor: '0.1',
          perTable: [{ table: 'events', name: 'fillfactor', value: '98' }],
        }),
        'autovacuum on, naptime 1min, vacuum scale 0.2, analyze scale 0.1; per table: events.fillfactor=98',
      ],
      [
        check('autovacuum_settings', {
          autovacuum: 'on',
          naptime: '1min',
          vacuumScaleFactor: '0.2',
          analyzeScaleFactor: '0.1',
          perTable: [],
        }),
        'autovacuum on, naptime 1min, vacuum scale 0.2, analyze scale 0.1; no per-table settings',
      ],
      [
        check('bloat', {
          measured: 'pgstattuple',
          tables: [{ table: 'events', bloatPct: 12.5, tableBytes: 8 * 1024 ** 2, deadPct: 2.5, freePct: 10 }],
        }),
        'events 12.5% of 8MB (dead 2.50%, free 10.0%)',
      ],
      [
        check('bloat', { measured: 'statistics', tables: [{ table: 'events', bloatPct: null, tableBytes: 2048 }] }),
        'events 0.00% dead of 2kB',
      ],
      [
        check('cache_hit', [
          { node: 'primary', hitPct: 99.95 },
          { node: 'replica', hitPct: null },
        ]),
        'primary 100.0%, replica no reads yet',
      ],
      [
        check('storage', {
          databaseBytes: 10 * 1024 ** 2,
          tables: [{ table: 'events', estimatedRows: 1000, tableBytes: 4 * 1024 ** 2, indexBytes: 3 * 1024 ** 2 }],
          disk: { dataDir: '/d', usedPct: 41.6 },
        }),
        'database 10MB; events ~1000 rows, 4MB heap + 3MB indexes; disk of /d 42% used',
      ],
      [
        check('replication', {
          replicaConfigured: true,
          standbys: [{ name: 'esbench_replica', state: 'streaming', replayLagMs: 0.5, replayLagBytes: 0 }],
        }),
        'esbench_replica streaming, replay lag 0.50 ms, 0 bytes behind',
      ],
      [check('replication', { replicaConfigured: true, standbys: [] }), 'not streaming'],
      [
        check('replication', { replicaConfigured: false, standbys: [] }),
        'no replica configured (reads go to the primary)',
      ],
      [
        check('replication', {
          replicaConfigured: false,
          standbys: [{ name: 'x', state: 'streaming', replayLagMs: 0, replayLagBytes: 0 }],
        }),
        '1 standby(s) streaming from the primary; no replica URL given',
      ],
      [check('unused_indexes', []), 'none: every non-unique index was scanned on some node'],
      [
        check('unused_indexes', [{ index: 'idx_events_occurred_at', sizeBytes: 16384 }]),
        '1 unused: idx_events_occurred_at (16kB)',
      ],
      [check('slow_queries', { available: false, slowest: null }), 'pg_stat_statements unavailable: cannot tell'],
      [check('slow_queries', { available: true, slowest: null }), 'no DML statements recorded yet'],
      [
        check('slow_queries', {
          available: true,
          slowest: { meanMs: 150, calls: 3, node: 'primary', query: `INSERT INTO events ${'x'.repeat(100)}` },
        }),
        `slowest mean 150.0 ms over 3 calls on primary: INSERT INTO events ${'x'.repeat(61)}`,
      ],
      [check('bloat', null, 'relation "events" does not exist'), 'could not run: relation "events" does not exist'],
    ];
    for (const [c, line] of cases) expect(figureText(c), c.id).toBe(line);
  });

  it('is the line under each check in the printed report', () => {
    const text = printHealthReport({
      checkedAt: '2026-01-01T00:00:00Z',
      database: 'db',
      primary: 'p',
      replica: null,
      status: 'good',
      counts: { good: 1, ok: 0, warning: 0 },
      checks: [check('cache_hit', [{ node: 'primary', hitPct: 99.5 }])],
    });
    expect(text).toContain('good     cache_hit\n         primary 99.5%\n         threshold: t\n');
  });
});
