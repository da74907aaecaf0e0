/** The list of health checks: one file per check, each naming SQL files that exist, none left over. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_DEFINITIONS, CHECK_IDS, CHECK_TITLES, parseCheckIds } from '../../src/observe/health-checks.ts';

const SQL_DIR = path.resolve(import.meta.dirname, '../../sql/health');

describe('health checks', () => {
  it('have unique ids and titles', () => {
    expect(new Set(CHECK_IDS).size).toBe(CHECK_IDS.length);
    expect(new Set(Object.values(CHECK_TITLES)).size).toBe(CHECK_IDS.length);
    expect(CHECK_IDS.slice(0, 2)).toEqual(['vacuum_analyze', 'dead_tuples']); // before anything scans events
  });

  it('read SQL files that exist, and every file of sql/health is read by a check', () => {
    const files = fs.readdirSync(SQL_DIR).filter((f) => f.endsWith('.sql'));
    const sources = CHECK_DEFINITIONS.flatMap((c) => c.sources);
    for (const s of sources) expect(files, s).toContain(s);
    expect(files.filter((f) => !sources.includes(f))).toEqual([]);
  });

  it('parses --only', () => {
    expect(parseCheckIds('bloat, cache_hit')).toEqual(['bloat', 'cache_hit']);
    expect(() => parseCheckIds('bloat,nope')).toThrow(/unknown check 'nope'/);
    expect(() => parseCheckIds(' , ')).toThrow(/at least one/);
  });
});
