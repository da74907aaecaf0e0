import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EsbenchError } from '../../src/core/errors.ts';
import { parseSize } from '../../src/core/units.ts';
import { printTuneConfig } from '../../src/report/tune-config-printer.ts';
import { parseAutovacuumProfile } from '../../src/store/maintenance.ts';
import { parseTuneConfigFlags, sizeMemory, tuneConfig, type TuneConfigResult } from '../../src/tuner/memory-sizing.ts';

const GB = 1024 ** 3;
const MB = 1024 ** 2;
const TUNING = path.resolve('tuning');

function setting(result: TuneConfigResult, name: string): string | undefined {
  return result.settings.find((s) => s.name === name)?.value;
}

function confValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_][a-z0-9_.]*)\s*=\s*('[^']*'|[^#\s]+)/.exec(line);
    if (m) values.set(m[1]!, m[2]!);
  }
  return values;
}

describe('seed 002 sizing table', () => {
  // The table verbatim: RAM | shared_buffers | effective_cache_size | work_mem | maintenance_work_mem.
  const TABLE: Array<[string, string, string, string, string]> = [
    ['16GB', '4GB', '12GB', '128MB', '1GB'],
    ['32GB', '8GB', '24GB', '256MB', '2GB'],
    ['64GB', '16GB', '48GB', '512MB', '4GB'],
    ['128GB', '32GB', '96GB', '1GB', '8GB'],
  ];

  it.each(TABLE)('RAM %s gives the table row (library and printed fragment)', (ram, sb, ecs, wm, mwm) => {
    for (const role of ['primary', 'replica'] as const) {
      const result = tuneConfig(parseTuneConfigFlags({ ram, role }));
      expect([setting(result, 'shared_buffers'), setting(result, 'effective_cache_size'), setting(result, 'work_mem'), setting(result, 'maintenance_work_mem')]).toEqual([
        sb,
        ecs,
        wm,
        mwm,
      ]);
      const printed = printTuneConfig(result);
      expect(printed).toMatch(new RegExp(`^shared_buffers = ${sb}\\s+# `, 'm'));
      expect(printed).toMatch(new RegExp(`^work_mem = ${wm}\\s+# `, 'm'));
    }
  });

  it('interpolates between rows with the same rules, floored to whole MB', () => {
    const m = sizeMemory(4 * GB);
    expect(m.sharedBuffersBytes).toBe(1 * GB);
    expect(m.effectiveCacheSizeBytes).toBe(3 * GB);
    expect(m.workMemBytes).toBe(32 * MB);
    expect(m.maintenanceWorkMemBytes).toBe(256 * MB);
    const odd = sizeMemory(1000 * MB);
    expect(odd.workMemBytes).toBe(7 * MB); // 7.8 MB floored
    expect(odd.sharedBuffersBytes % MB).toBe(0);
  });
});

describe('tune-config settings', () => {
  it('puts seed 003 primary autovacuum on a primary and the replica values on a replica', () => {
    const p = tuneConfig(parseTuneConfigFlags({ ram: '4GB', role: 'primary' }));
    expect(p.input.workload).toBe('append');
    expect(setting(p, 'autovacuum_vacuum_scale_factor')).toBe('0.8');
    expect(setting(p, 'autovacuum_analyze_scale_factor')).toBe('0.02');
    expect(setting(p, 'autovacuum_naptime')).toBe('2min');
    expect(setting(p, 'autovacuum_vacuum_cost_delay')).toBe('2ms');
    expect(setting(p, 'autovacuum_vacuum_cost_limit')).toBe('8000');
    expect(setting(p, 'wal_level')).toBe('replica');
    expect(setting(p, 'hot_standby_feedback')).toBeUndefined();

    const r = tuneConfig(parseTuneConfigFlags({ ram: '6GB', role: 'replica' }));
    expect(r.input.workload).toBe('read');
    expect(setting(r, 'autovacuum_vacuum_scale_factor')).toBe('0.9');
    expect(setting(r, 'autovacuum_analyze_scale_factor')).toBe('0.05');
    expect(setting(r, 'autovacuum_naptime')).toBe('10min');
    expect(setting(r, 'hot_standby_feedback')).toBe('on');
    expect(setting(r, 'wal_level')).toBeUndefined();
    expect(r.notes.join(' ')).toMatch(/does not run on a standby/);
  });

  it('gives append workloads checkpoint tuning that read workloads do not get', () => {
    const append = tuneConfig(parseTuneConfigFlags({ ram: '32GB', role: 'primary', workload: 'append' }));
    const read = tuneConfig(parseTuneConfigFlags({ ram: '32GB', role: 'primary', workload: 'read' }));
    expect(setting(append, 'checkpoint_timeout')).toBe('15min');
    expect(setting(append, 'max_wal_size')).toBe('4GB');
    expect(setting(read, 'checkpoint_timeout')).toBe('5min');
    expect(setting(read, 'max_wal_size')).toBeUndefined();
  });

  it('caps work_mem by --connections and never raises it', () => {
    const capped = tuneConfig(parseTuneConfigFlags({ ram: '4GB', role: 'primary', connections: '200' }));
    expect(setting(capped, 'max_connections')).toBe('200');
    // (4GB - 1GB shared_buffers) / (200 x 3) = 5.12 MB -> 5 MB
    expect(setting(capped, 'work_mem')).toBe('5MB');
    expect(capped.notes.join(' ')).toMatch(/work_mem lowered from 32MB/);
    const roomy = tuneConfig(parseTuneConfigFlags({ ram: '32GB', role: 'primary', connections: '10' }));
    expect(setting(roomy, 'work_mem')).toBe('256MB');
  });

  it('gives every setting a reason and prints one commented line per setting', () => {
    const result = tuneConfig(parseTuneConfigFlags({ ram: '16GB', role: 'replica', connections: '50' }));
    const printed = printTuneConfig(result);
    for (const s of result.settings) {
      expect(s.why.length).toBeGreaterThan(10);
      expect(printed).toContain(`${s.name} = ${s.value}`);
    }
    const settingLines = printed.split('\n').filter((l) => /^[a-z_]+ = /.test(l));
    expect(settingLines).toHaveLength(result.settings.length);
    for (const l of settingLines) expect(l).toMatch(/ # \S/);
  });

  it.each([
    [{ ram: '-1GB', role: 'primary' }, /positive size/],
    [{ ram: 'lots', role: 'primary' }, /positive size/],
    [{ ram: '0', role: 'primary' }, /positive size/],
    [{ ram: '100MB', role: 'primary' }, /between 256MB and 64TB/],
    [{ ram: '100000TB', role: 'primary' }, /between 256MB and 64TB/],
    [{ ram: '4GB', role: 'leader' }, /--role must be one of/],
    [{ ram: '4GB', role: 'primary', workload: 'mixed' }, /--workload must be one of/],
    [{ ram: '4GB', role: 'primary', connections: '0' }, /--connections must be between/],
    [{ ram: '4GB', role: 'primary', connections: '-5' }, /not a whole number/],
  ])('rejects %o with BAD_FLAG (exit 2)', (flags, message) => {
    try {
      parseTuneConfigFlags(flags);
      expect.unreachable('should have thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(EsbenchError);
      expect((e as EsbenchError).code).toBe('BAD_FLAG');
      expect((e as EsbenchError).exitCode).toBe(2);
      expect((e as Error).message).toMatch(message);
    }
  });
});

describe('tuning/ files of the embedded cluster', () => {
  const primary = fs.readFileSync(path.join(TUNING, 'primary.conf'), 'utf8');
  const replica = fs.readFileSync(path.join(TUNING, 'replica.conf'), 'utf8');

  it.each([
    ['primary.conf', primary],
    ['replica.conf', replica],
  ])('%s memory lines are tune-config\'s for the budget its header names', (_name, text) => {
    const budget = /^# budget: esbench tune-config --ram (\S+) --role (\S+)/m.exec(text);
    expect(budget).not.toBeNull();
    const expected = tuneConfig(parseTuneConfigFlags({ ram: budget![1]!, role: budget![2]! }));
    const values = confValues(text);
    for (const name of ['shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem']) {
      expect([name, values.get(name)]).toEqual([name, setting(expected, name)]);
    }
    // Modest enough for CI's 2-core box running both nodes and the tests.
    expect(parseSize(values.get('shared_buffers')!)).toBeLessThanOrEqual(256 * MB);
    expect(text.startsWith('# tuning/')).toBe(true);
  });

  it('leave to the cluster what the cluster sets itself, and keep the standby startable', () => {
    const owned = ['port', 'listen_addresses', 'shared_preload_libraries', 'wal_level', 'max_wal_senders', 'hot_standby', 'hot_standby_feedback', 'primary_conninfo', 'primary_slot_name'];
    for (const text of [primary, replica]) {
      const values = confValues(text);
      for (const name of owned) expect(values.has(name), name).toBe(false);
    }
    // A hot standby refuses to start with fewer connections than its primary.
    expect(Number(confValues(replica).get('max_connections'))).toBeGreaterThanOrEqual(Number(confValues(primary).get('max_connections')));
  });

  it('primary.conf carries the seed-003 primary profile the tuner sweeps', () => {
    const profile = parseAutovacuumProfile(fs.readFileSync(path.join(TUNING, 'autovacuum', 'seed003-primary.conf'), 'utf8'), 'seed003-primary.conf');
    const values = confValues(primary);
    for (const name of ['autovacuum_vacuum_scale_factor', 'autovacuum_analyze_scale_factor', 'autovacuum_naptime', 'autovacuum_vacuum_cost_delay', 'autovacuum_vacuum_cost_limit']) {
      expect([name, values.get(name)]).toEqual([name, profile.server[name]]);
    }
  });
});
