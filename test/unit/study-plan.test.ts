import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAutovacuumProfile } from '../../src/store/maintenance.ts';
import {
  ablationLevels,
  configurations,
  estimateDurationMs,
  GIN_INDEXES,
  STUDY_FACTORS,
  ESBENCH_FACTORS,
  studySize,
  type StudyFactor,
} from '../../src/study/study-plan.ts';
import { choosePair, schedule, studyLevels } from '../../src/study/study.ts';

const GiB = 1024 ** 3;
const profile = (name: string) => parseAutovacuumProfile(fs.readFileSync(path.resolve('tuning/autovacuum', name), 'utf8'), name);

describe('study configurations match seed 003', () => {
  const c = configurations(10 * GiB);

  it('GIN fastupdate: original off, tuned on (the "CRITICAL FIX" removed fastupdate=off), esbench on', () => {
    for (const index of GIN_INDEXES) {
      expect(c.original.settings.indexes?.[index]).toEqual({ fastupdate: 'off' });
      expect(c.tuned.settings.indexes?.[index]).toEqual({ fastupdate: 'on' });
      expect(c.esbench.settings.indexes?.[index]).toEqual({ fastupdate: 'on' });
    }
  });

  it('pools: MaxConns 60 everywhere, MinConns 20 before and 2 after', () => {
    expect(c.original.config.pools).toEqual({ primary: { max: 60, min: 20 }, replica: { max: 60, min: 20 } });
    expect(c.tuned.config.pools).toEqual({ primary: { max: 60, min: 2 }, replica: { max: 60, min: 2 } });
    expect(c.esbench.config.pools).toEqual(c.tuned.config.pools);
  });

  it("append, decisions and command path: the study's in original and tuned, esbench's own in esbench", () => {
    // The study's command path is pinned explicitly: esbench's defaults (held / btree / prepared) are not the study's.
    const study = { appendStrategy: 'baseline', decisions: 'full', locking: 'check', boundaryIndex: 'gin', preparedStatements: false };
    expect(c.original.config.service).toEqual(study);
    expect(c.tuned.config.service).toEqual(study);
    expect(c.esbench.config.service).toEqual({ appendStrategy: 'safe', decisions: 'snapshot', locking: 'held', boundaryIndex: 'btree', preparedStatements: true });
  });

  it("autovacuum: PostgreSQL's defaults before, seed 003's primary / replica / per-table settings after", () => {
    const defaults = profile('postgres-defaults.conf');
    const seed003 = profile('seed003-per-table.conf');
    for (const [k, v] of Object.entries(defaults.server)) expect(c.original.settings.primary?.[k]).toBe(v);
    for (const [k, v] of Object.entries(seed003.server)) expect(c.tuned.settings.primary?.[k]).toBe(v);
    expect(c.tuned.settings.tables?.events).toEqual(seed003.tables.events);
    expect(c.tuned.settings.primary).toMatchObject({ autovacuum_vacuum_scale_factor: '0.8', autovacuum_naptime: '2min', autovacuum_analyze_scale_factor: '0.02', autovacuum_vacuum_cost_limit: '8000' });
    expect(c.tuned.settings.replica).toMatchObject({ autovacuum_vacuum_scale_factor: '0.9', autovacuum_naptime: '10min', autovacuum_analyze_scale_factor: '0.05' });
    expect(c.original.settings.replica).toMatchObject({ autovacuum_vacuum_scale_factor: '0.2', autovacuum_naptime: '1min', autovacuum_analyze_scale_factor: '0.1' });
    // Not set = what PostgreSQL uses: fillfactor 100, the server-wide defaults.
    expect(c.original.settings.tables?.events).toMatchObject({ fillfactor: '100', autovacuum_vacuum_scale_factor: '0.2', autovacuum_analyze_scale_factor: '0.1' });
  });

  it("tuned autovacuum is exactly seed 003's values (seed 003's Master/Replica blocks, STUDY.md's per-table line)", () => {
    // Copied from /work/shared/seeds/003 ("Master Database (Write-Heavy) Settings", "Replica
    // Database (Read-Heavy) Settings") and STUDY.md ("Later per-table settings on events"); the
    // study reads them from tuning/autovacuum/seed-003.json, so this fails when that file drifts.
    const seedPrimary = {
      autovacuum_vacuum_scale_factor: '0.8',
      autovacuum_naptime: '2min',
      autovacuum_vacuum_cost_delay: '2ms',
      autovacuum_vacuum_cost_limit: '8000',
      autovacuum_analyze_scale_factor: '0.02',
    };
    const seedReplica = { autovacuum_vacuum_scale_factor: '0.9', autovacuum_naptime: '10min', autovacuum_analyze_scale_factor: '0.05' };
    const seedEvents = {
      autovacuum_analyze_threshold: '3000',
      autovacuum_analyze_scale_factor: '0',
      autovacuum_vacuum_threshold: '50000',
      autovacuum_vacuum_scale_factor: '0.5',
      autovacuum_vacuum_cost_delay: '0',
      autovacuum_vacuum_cost_limit: '10000',
      fillfactor: '98',
    };
    const defaults = profile('postgres-defaults.conf').server;
    const autovacuumOf = (settings: Readonly<Record<string, string>> | undefined) =>
      Object.fromEntries(Object.entries(settings ?? {}).filter(([k]) => k.startsWith('autovacuum_')));
    // Seed 003 left every other autovacuum key at PostgreSQL's default.
    expect(autovacuumOf(c.tuned.settings.primary)).toEqual({ ...defaults, ...seedPrimary });
    expect(autovacuumOf(c.tuned.settings.replica)).toEqual(seedReplica);
    expect(c.tuned.settings.tables?.events).toEqual(seedEvents);
    // The maintenance profile (.conf, `esbench maintain`) says the same (its per-table lines: maintenance-plan.test.ts).
    expect(profile('seed003-per-table.conf').server).toEqual({ ...defaults, ...seedPrimary });
  });

  it("memory: on the study's 10 GB, the swapped split gives seed 003's shared_buffers (1024MB / 1536MB)", () => {
    expect(c.tuned.settings.primary?.shared_buffers).toBe('1GB');
    expect(c.tuned.settings.replica?.shared_buffers).toBe('1536MB');
    expect(c.tuned.settings.primary?.maintenance_work_mem).toBe('256MB');
    expect(c.tuned.settings.replica?.maintenance_work_mem).toBe('384MB');
    expect(c.original.settings.primary?.shared_buffers).toBe('1792MB');
    expect(c.original.settings.replica?.shared_buffers).toBe('768MB');
  });

  it('scales memory to this machine: 24 GiB gives 2.4× the study figures', () => {
    const big = configurations(24 * GiB);
    expect(big.tuned.settings.primary?.shared_buffers).toBe(`${Math.floor((24 * 1024 * 0.4) / 4)}MB`);
  });
});

describe('ablation levels', () => {
  const levels = ablationLevels(10 * GiB);
  const byKey = new Map(levels.map((l) => [l.key, l]));

  it('changes exactly one factor from its baseline', () => {
    for (const l of levels.filter((x) => x.factor !== 'configuration')) {
      const base = byKey.get(l.baseline!)!;
      const changed = (Object.keys(l.values) as StudyFactor[]).filter((f) => l.values[f] !== base.values[f]);
      expect(changed, l.key).toEqual([l.factor]);
    }
    expect(levels.map((l) => l.key)).toEqual([
      'original',
      ...STUDY_FACTORS.map((f) => `original+${f}`),
      'tuned',
      ...ESBENCH_FACTORS.map((f) => `tuned+${f}`),
      'esbench',
    ]);
  });

  it('drops the memory level and memory settings on a cluster that cannot restart', () => {
    const external = studyLevels(10 * GiB, false);
    expect(external.find((l) => l.factor === 'memory')).toBeUndefined();
    for (const l of external) expect(l.settings.primary?.shared_buffers).toBeUndefined();
  });
});

describe('rate pair and schedule', () => {
  it('scales 250:300 to the capacity of tuned when the machine cannot hold 300', () => {
    expect(choosePair({ maxRate: 150, ci: null, configuration: 'tuned', saturation: { cause: 'CPU', evidence: 'x' }, path: null })).toMatchObject({ low: 125, high: 150, scaled: true });
    expect(choosePair({ maxRate: 400, ci: null, configuration: 'tuned', saturation: null, path: null })).toMatchObject({ low: 250, high: 300, scaled: false });
  });

  it('runs every ablation level `repeats` times at the low rate, flipping the order', () => {
    const size = studySize('quick');
    const levels = studyLevels(10 * GiB, true);
    const s = schedule(levels, { low: 125, high: 150, scaled: true, reason: 'x' }, size);
    const ablation = s.filter((t) => t.phase === 'ablation');
    expect(ablation).toHaveLength(levels.length * size.repeats);
    expect(ablation.every((t) => t.rate === 125)).toBe(true);
    const r1 = ablation.filter((t) => t.rep === 1).map((t) => t.level.key);
    const r2 = ablation.filter((t) => t.rep === 2).map((t) => t.level.key);
    expect(r2).not.toEqual(r1);
    expect([...r2].sort()).toEqual([...r1].sort());
    expect(s.filter((t) => t.phase === 'study-pair').every((t) => t.rate === 300)).toBe(true);
    expect(s.filter((t) => t.phase === 'scaled-pair').map((t) => `${t.level.key}@${t.rate}`)).toEqual(['tuned@150']);
  });

  it('--quick fits in 15 minutes here; --full says it is longer', () => {
    const n = ablationLevels(10 * GiB).length;
    expect(estimateDurationMs(studySize('quick'), n)).toBeLessThanOrEqual(15 * 60_000);
    expect(estimateDurationMs(studySize('full'), n)).toBeGreaterThan(60 * 60_000);
  });
});
