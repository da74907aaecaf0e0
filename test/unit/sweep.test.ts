import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/prng.ts';
import { erlangC, busyConnections } from '../../src/tuner/queueing.ts';
import { analyzeSweep, type CompletedTrial } from '../../src/tuner/sweep-analysis.ts';
import { gridLevels, parseFactor } from '../../src/tuner/sweep-factors.ts';
import { buildSchedule, runSweep, trialDir, type SweepPlan, type TrialRunner } from '../../src/tuner/sweep.ts';
import { summarizeTrial } from '../../src/tuner/trial-summary.ts';
import { trialConfig } from '../../src/tuner/trial.ts';
import { fakeTrialResult } from '../helpers/fake-trial.ts';

const TUNING = path.resolve('tuning');
const levels = (spec: string) => gridLevels([parseFactor(spec)], TUNING);

function trials(byKey: Record<string, number[]>): CompletedTrial[] {
  const cfg = trialConfig({ rate: 30, durationMs: 10_000 });
  let index = 0;
  return Object.entries(byKey).flatMap(([key, p50s]) =>
    p50s.map((p50, r) => ({ index: ++index, key, rep: `r${r + 1}`, kind: 'level' as const, file: '', poolMinTotal: 4, summary: summarizeTrial(fakeTrialResult(cfg, { p50, p99: p50 * 3 })) })),
  );
}

describe('sweep analysis', () => {
  it('two identical levels → "no significant difference" and the smallest is chosen', () => {
    const lv = levels('pool-min=20,2');
    const rng = createRng(3);
    const same = Array.from({ length: 3 }, () => 10 + rng());
    const a = analyzeSweep(lv, trials({ 'pool-min=20': same, 'pool-min=2': [...same] }), { baselineKey: 'pool-min=20', seed: 1 });
    expect(a.recommendation.value).toBe('2');
    expect(a.recommendation.basis).toBe('no significant difference');
    expect(a.recommendation.reason).toMatch(/^no significant difference — use the smallest/);
    expect(a.comparisons.every((c) => !c.significant)).toBe(true);
    expect(a.levels.map((l) => l.trials)).toEqual([3, 3]);
  });

  it('chooses the smallest level not worse than the best beyond the threshold', () => {
    const lv = levels('pool-min=0,2,5,20');
    const a = analyzeSweep(
      lv,
      trials({ 'pool-min=0': [30, 30.5, 29.8], 'pool-min=2': [20.1, 20.3, 19.9], 'pool-min=5': [20.0, 20.2, 19.8], 'pool-min=20': [20.2, 19.9, 20.1] }),
      { baselineKey: 'pool-min=2', seed: 1 },
    );
    expect(a.recommendation.basis).toBe('smallest not worse than the best');
    expect(a.recommendation.value).toBe('2');
    const c0 = a.comparisons.find((c) => c.b === 'pool-min=0' && c.metric === 'p50')!;
    expect(c0.significant).toBe(true);
    expect(c0.practical).toBe(true);
    expect(c0.pAdjusted).toBeGreaterThanOrEqual(c0.pValue);
    // Power is reported for every metric.
    expect(a.power.find((p) => p.metric === 'p50')!.mde).toBeGreaterThan(0);
    expect(a.recommendation.crossCheck?.littlesLaw).toMatch(/connections busy/);
  });

  it('flags drift as large as the effect', () => {
    const lv = levels('pool-min=2,20');
    const t = trials({ 'pool-min=2': [10, 10.1, 10.2], 'pool-min=20': [10, 10.1, 10.2] });
    t.push({ ...t[0]!, index: 99, rep: 'd1', kind: 'drift', summary: { ...t[0]!.summary, p50: 25 } });
    const a = analyzeSweep(lv, t, { baselineKey: 'pool-min=2', seed: 1 });
    expect(a.drift.flagged).toBe(true);
    expect(a.drift.rangeMs).toBeCloseTo(15, 5);
  });
});

describe('queueing', () => {
  it("Erlang C matches the textbook (c = 2, A = 1 → 1/3) and Little's law multiplies", () => {
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 10);
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 10); // M/M/1: P(wait) = ρ
    expect(erlangC(4, 5)).toBe(1);
    expect(busyConnections(300, 5)).toBeCloseTo(1.5, 10);
  });
});

describe('factors and schedule', () => {
  it('turns factors into config patches and settings, and a grid into combinations', () => {
    const [l] = levels('pool-min=5');
    expect(l!.config).toEqual({ pools: { primary: { min: 5 }, replica: { min: 5 } } });
    const g = gridLevels([parseFactor('gin-fastupdate=on,off'), parseFactor('autovacuum=seed-003,postgres-defaults')], TUNING);
    expect(g).toHaveLength(4);
    expect(g[0]!.settings.indexes!.idx_events_payload_gin).toEqual({ fastupdate: 'on' });
    expect(g[0]!.settings.tables!.events!.fillfactor).toBe('98');
    expect(() => parseFactor('pool-mni=2')).toThrow(/unknown factor/);
    expect(() => levels('pool-min=two')).toThrow(/integer/);
    expect(() => levels('autovacuum=nope')).toThrow(/not found/);
  });

  it('randomizes the order reproducibly and inserts baseline drift runs', () => {
    const lv = levels('pool-min=0,2,5');
    const s1 = buildSchedule({ levels: lv, repeats: 3, seed: 4, baselineKey: 'pool-min=2', driftEvery: 4 });
    expect(s1).toEqual(buildSchedule({ levels: lv, repeats: 3, seed: 4, baselineKey: 'pool-min=2', driftEvery: 4 }));
    expect(s1.filter((t) => t.kind === 'level')).toHaveLength(9);
    expect(s1.filter((t) => t.kind === 'drift').length).toBe(3);
    expect(s1.map((t) => t.index)).toEqual(s1.map((_, i) => i + 1));
    const order = s1.filter((t) => t.kind === 'level').map((t) => t.key).join();
    expect(order).not.toBe([...lv.flatMap((l) => [l.key, l.key, l.key])].join());
  });
});

describe('runSweep resume', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('an interrupted sweep resumes without redoing any trial that has a run.json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-sweep-'));
    dirs.push(dir);
    const plan: SweepPlan = {
      levels: levels('pool-min=2,20'),
      baselineKey: 'pool-min=2',
      repeats: 3,
      trial: trialConfig({ rate: 30, durationMs: 1000, warmupMs: 0 }),
      threshold: { relative: 0.05, absoluteMs: 1 },
      seed: 7,
      driftEvery: 0,
    };
    const target = { primaryUrl: 'postgres://unused/x', replicaUrl: 'postgres://unused/x' };
    const calls: number[] = [];
    const controller = new AbortController();
    const first: TrialRunner = async (_t, config) => {
      calls.push(config.pools.primary.min);
      if (calls.length === 3) {
        controller.abort(); // Ctrl-C during the third trial
        return fakeTrialResult(config, { p50: 10, partial: true });
      }
      return fakeTrialResult(config, { p50: 10 + calls.length / 10 });
    };
    const r1 = await runSweep(target, plan, dir, { signal: controller.signal, runTrial: first });
    expect(r1.partial).toBe(true);
    expect(r1.ran).toBe(2);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as { partial: boolean };
    expect(saved.partial).toBe(true);
    const schedule = r1.schedule;
    expect(fs.existsSync(path.join(trialDir(dir, schedule[2]!), 'run.partial.json'))).toBe(true);

    const resumed: string[] = [];
    const second: TrialRunner = async (_t, config) => {
      resumed.push(String(config.pools.primary.min));
      return fakeTrialResult(config, { p50: 10 });
    };
    const r2 = await runSweep(target, plan, dir, { runTrial: second });
    expect(r2.partial).toBe(false);
    expect(r2.reused).toBe(2);
    expect(r2.ran).toBe(4);
    expect(resumed).toEqual(schedule.slice(2).map((t) => t.key.split('=')[1]));
    for (const t of schedule) expect(fs.existsSync(path.join(trialDir(dir, t), 'run.json'))).toBe(true);
    const sweepJson = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as { levels: Array<{ trials: number }>; recommendation: { value: string } };
    expect(sweepJson.levels.map((l) => l.trials)).toEqual([3, 3]);

    // A third run redoes nothing.
    const r3 = await runSweep(target, plan, dir, { runTrial: async () => { throw new Error('must not run'); } });
    expect(r3.ran).toBe(0);
    expect(r3.reused).toBe(6);
  });
});
