import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadAutovacuumProfile,
  parseAutovacuumProfile,
  parseSteps,
  planMaintenance,
  REINDEX_ALLOW_LIST,
  tableSettingsSql,
} from '../../src/store/maintenance.ts';

const PROFILES = path.resolve('tuning', 'autovacuum');
const SQL = path.resolve('sql', 'maintenance');

/** Statements of a psql file: comments dropped, split on the terminating semicolons. */
function statements(file: string): string[] {
  return fs
    .readFileSync(path.join(SQL, file), 'utf8')
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

describe('autovacuum profiles (tuning/autovacuum)', () => {
  const files = fs.readdirSync(PROFILES).filter((f) => f.endsWith('.conf'));

  it('has the four profiles the tuner sweeps, each documented at the top and setting the same keys', () => {
    expect(files.sort()).toEqual(['postgres-defaults.conf', 'seed003-per-table.conf', 'seed003-primary.conf', 'study-default.conf']);
    const keys = files.map((f) => {
      const text = fs.readFileSync(path.join(PROFILES, f), 'utf8');
      expect(text.startsWith(`# tuning/autovacuum/${f} - `)).toBe(true);
      return Object.keys(loadAutovacuumProfile(path.join(PROFILES, f)).server).sort();
    });
    for (const k of keys) expect(k).toEqual(keys[0]);
    expect(keys[0]).toHaveLength(9);
  });

  it('reads seed 003\'s later per-table settings on events', () => {
    const p = loadAutovacuumProfile(path.join(PROFILES, 'seed003-per-table.conf'));
    expect(p.tables.events).toEqual({
      autovacuum_analyze_threshold: '3000',
      autovacuum_analyze_scale_factor: '0',
      autovacuum_vacuum_threshold: '50000',
      autovacuum_vacuum_scale_factor: '0.5',
      autovacuum_vacuum_cost_delay: '0',
      autovacuum_vacuum_cost_limit: '10000',
      fillfactor: '98',
    });
    expect(loadAutovacuumProfile(path.join(PROFILES, 'postgres-defaults.conf')).tables).toEqual({});
  });

  it('RESETs events for a profile without per-table lines, so sweeps never inherit settings', () => {
    const [sql] = tableSettingsSql(parseAutovacuumProfile('autovacuum_naptime = 1min\n', 'x'));
    expect(sql).toMatch(/^ALTER TABLE events RESET \(autovacuum_enabled, .*fillfactor.*\)$/);
  });

  it.each([
    ['#@table users fillfactor = 90', /table 'users'/],
    ['#@table events fillfactor = 90); DROP TABLE events; --', /expected '#@table/],
    ['#@table events fillfactor = 90;DROP', /value '90;DROP'/],
    ['#@table events owner = 1', /not a storage parameter/],
    ['autovacuum naptime', /expected 'name = value'/],
  ])('rejects %s (identifiers only from the allow-list)', (line, message) => {
    expect(() => parseAutovacuumProfile(`${line}\n`, 'bad.conf')).toThrow(message);
  });
});

describe('maintenance plan', () => {
  const profile = loadAutovacuumProfile(path.join(PROFILES, 'seed003-per-table.conf'));
  const plan = planMaintenance({ steps: ['vacuum', 'analyze', 'reindex', 'autovacuum'], profile });
  const byStep = Object.fromEntries(plan.steps.map((s) => [s.name, s.statements.map((st) => st.sql)]));

  it('is exactly what sql/maintenance/*.sql gives psql users', () => {
    expect(statements('01_vacuum_analyze.sql')).toEqual(byStep.vacuum);
    expect(statements('02_analyze.sql')).toEqual(byStep.analyze);
    expect(statements('03_reindex_concurrently.sql')).toEqual(byStep.reindex);
    expect(statements('04_autovacuum_per_table.sql')).toEqual(byStep.autovacuum);
  });

  it('never takes a lock that blocks appends: no plain REINDEX, no FULL, no truncation unless asked', () => {
    const all = plan.steps.flatMap((s) => s.statements.map((st) => st.sql));
    expect(all.filter((s) => s.startsWith('REINDEX'))).toHaveLength(REINDEX_ALLOW_LIST.length);
    for (const s of all) {
      expect(s).not.toMatch(/VACUUM \(?FULL|REINDEX (TABLE|INDEX) (?!CONCURRENTLY)|LOCK TABLE|CLUSTER/);
      if (s.startsWith('VACUUM')) expect(s).toContain('TRUNCATE false');
    }
    const truncating = planMaintenance({ steps: ['vacuum'], allowTruncate: true });
    expect(truncating.steps[0]!.statements[0]!.sql).toBe('VACUUM (ANALYZE) events');
    for (const step of plan.steps) expect(step.locks).toMatch(/SHARE UPDATE EXCLUSIVE/);
  });

  it('orders steps as seed 004 does and rejects unknown ones', () => {
    expect(parseSteps('autovacuum, vacuum')).toEqual(['vacuum', 'autovacuum']);
    expect(() => parseSteps('vacuum,full')).toThrow(/unknown step 'full'/);
    expect(() => planMaintenance({ steps: ['autovacuum'] })).toThrow(/needs a profile/);
  });
});
