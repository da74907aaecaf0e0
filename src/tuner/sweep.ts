/**
 * A sweep: trials of named levels (a factor's values, or a grid), each repeated, in a seeded random order,
 * with the baseline re-run at intervals to measure drift. Each trial is one runTrial (its own service
 * process, the same workload seed for every level), its run.json saved under
 * `<dir>/trials/<i>-<key>-r<rep>/run.json`. Database settings of a level are applied over a journal and
 * restored at the end, on interruption, and first thing when a sweep is resumed.
 *
 * Resumable: `<dir>/plan.json` holds the plan and its schedule; a trial whose run.json exists is never run
 * again.
 */
import fs from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.ts';
import path from 'node:path';
import { EsbenchError } from '../core/errors.ts';
import { createRng } from '../core/prng.ts';
import { bootstrapCi, medianOf, type Threshold } from '../analysis/statistics.ts';
import { applySettings, isEmptyPlan, readJournal, restoreSettings, type SettingsTarget } from './settings.ts';
import { analyzeSweep, type CompletedTrial, type SweepAnalysis } from './sweep-analysis.ts';
import type { SweepLevel } from './sweep-factors.ts';
import { summarizeTrial } from './trial-summary.ts';
import { runTrial, withServicePatch, type TrialConfig, type TrialHooks, type TrialResult, type TrialTarget } from './trial.ts';

export type { SweepLevel } from './sweep-factors.ts';

export interface SweepPlan {
  levels: SweepLevel[];
  baselineKey: string;
  repeats: number;
  /** The base trial (rate, duration, warm-up, workload, seed...); each level patches its pools/service. */
  trial: TrialConfig;
  /** Default: every level against the baseline. */
  comparisons?: Array<[string, string]>;
  threshold: Threshold;
  seed: number;
  /** Re-run the baseline every this many trials (default 4; 0: only its own repetitions measure drift). */
  driftEvery?: number;
}

export interface ScheduledTrial {
  index: number;
  key: string;
  rep: string;
  kind: 'level' | 'drift';
}

export interface SweepTarget extends SettingsTarget, TrialTarget {}

export type TrialRunner = (target: TrialTarget, config: TrialConfig, env: Readonly<Record<string, string | undefined>>, hooks: TrialHooks) => Promise<TrialResult>;

export interface SweepHooks {
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
  /** Injected in tests; default runTrial. */
  runTrial?: TrialRunner;
}

export interface SweepResult extends SweepAnalysis {
  kind: 'sweep';
  partial: boolean;
  dir: string;
  startedAt: string;
  finishedAt: string;
  plan: { levels: Array<Pick<SweepLevel, 'key' | 'factor' | 'value'>>; baselineKey: string; repeats: number; seed: number; threshold: Threshold; rate: number; durationMs: number; warmupMs: number };
  schedule: ScheduledTrial[];
  /** Trials run in this invocation, and trials found done (resume). */
  ran: number;
  reused: number;
  settingsRestored: boolean;
}

const PLAN_FILE = 'plan.json';
export const JOURNAL_FILE = 'settings-journal.json';

/** Levels × repeats in a seeded random order, with baseline drift runs every `driftEvery` trials. */
export function buildSchedule(plan: Pick<SweepPlan, 'levels' | 'repeats' | 'seed' | 'baselineKey' | 'driftEvery'>): ScheduledTrial[] {
  const rng = createRng(plan.seed);
  const driftEvery = plan.driftEvery ?? 4;
  const runs = plan.levels.flatMap((l) => Array.from({ length: plan.repeats }, (_, r) => ({ key: l.key, rep: `r${r + 1}` })));
  for (let i = runs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [runs[i], runs[j]] = [runs[j]!, runs[i]!];
  }
  const out: ScheduledTrial[] = [];
  let drift = 0;
  runs.forEach((r, i) => {
    if (driftEvery > 0 && i > 0 && i % driftEvery === 0) out.push({ index: 0, key: plan.baselineKey, rep: `d${++drift}`, kind: 'drift' });
    out.push({ index: 0, ...r, kind: 'level' });
  });
  if (driftEvery > 0) out.push({ index: 0, key: plan.baselineKey, rep: `d${++drift}`, kind: 'drift' });
  return out.map((t, i) => ({ ...t, index: i + 1 }));
}

function safeName(key: string): string {
  return key.replace(/,/g, '+').replace(/[^a-zA-Z0-9_.=+-]/g, '_');
}

export function trialDir(dir: string, t: ScheduledTrial): string {
  return path.join(dir, 'trials', `${String(t.index).padStart(3, '0')}-${safeName(t.key)}-${t.rep}`);
}


interface StoredPlan {
  kind: 'sweep-plan';
  plan: SweepPlan;
  schedule: ScheduledTrial[];
}

/** The plan stored in a sweep directory (for --resume). */
export function readStoredPlan(dir: string): SweepPlan {
  const file = path.join(dir, PLAN_FILE);
  if (!fs.existsSync(file)) throw new EsbenchError('SWEEP_DIR_INVALID', `${dir} holds no ${PLAN_FILE}: not a sweep directory`);
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredPlan;
    if (stored.kind !== 'sweep-plan') throw new Error('not a sweep plan');
    return stored.plan;
  } catch (e) {
    throw new EsbenchError('SWEEP_DIR_INVALID', `${file}: ${(e as Error).message}`);
  }
}

function poolMinTotal(config: TrialConfig): number {
  return config.pools.primary.min + config.pools.replica.min;
}

function fmtEta(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export async function runSweep(target: SweepTarget, plan: SweepPlan, dir: string, hooks: SweepHooks = {}): Promise<SweepResult> {
  const startedAt = new Date().toISOString();
  const progress = hooks.onProgress ?? (() => {});
  const run = hooks.runTrial ?? runTrial;
  const levelsByKey = new Map(plan.levels.map((l) => [l.key, l]));
  if (!levelsByKey.has(plan.baselineKey)) throw new EsbenchError('BAD_PLAN', `baseline '${plan.baselineKey}' is not one of the levels (${[...levelsByKey.keys()].join(' | ')})`);
  if (plan.repeats < 1) throw new EsbenchError('BAD_PLAN', 'repeats must be at least 1');
  // Every level's config is validated before anything runs.
  const configs = new Map(plan.levels.map((l) => [l.key, withServicePatch(plan.trial, l.config)]));

  fs.mkdirSync(dir, { recursive: true });
  const planFile = path.join(dir, PLAN_FILE);
  let schedule: ScheduledTrial[];
  if (fs.existsSync(planFile)) {
    const stored = JSON.parse(fs.readFileSync(planFile, 'utf8')) as StoredPlan;
    schedule = stored.schedule;
    const same = JSON.stringify(stored.plan.levels.map((l) => l.key)) === JSON.stringify(plan.levels.map((l) => l.key)) && stored.plan.repeats === plan.repeats && stored.plan.seed === plan.seed;
    if (!same) throw new EsbenchError('SWEEP_DIR_INVALID', `${dir} holds another sweep's plan (levels, repeats or seed differ); resume it with --resume ${dir} alone`);
  } else {
    schedule = buildSchedule(plan);
    writeJsonAtomic(planFile, { kind: 'sweep-plan', plan, schedule } satisfies StoredPlan);
  }

  // First thing: settings a crashed or killed sweep left behind go back to their originals.
  const journal = path.join(dir, JOURNAL_FILE);
  if (readJournal(journal)) {
    progress('sweep: restoring the database settings a previous run of this sweep left applied');
    await restoreSettings(target, journal);
  }

  const done: CompletedTrial[] = [];
  let ran = 0;
  let reused = 0;
  let partial = false;
  const durations: number[] = [];
  const toRun = () => schedule.filter((t) => !fs.existsSync(path.join(trialDir(dir, t), 'run.json'))).length;
  const leader = (): string => {
    let best: { key: string; est: ReturnType<typeof bootstrapCi> } | undefined;
    for (const key of levelsByKey.keys()) {
      const xs = done.filter((t) => t.key === key && t.kind === 'level' && t.summary.p50 !== null).map((t) => t.summary.p50!);
      if (xs.length === 0) continue;
      const est = bootstrapCi(xs, medianOf, { seed: plan.seed, iterations: 500 });
      if (!best || est.estimate < best.est.estimate) best = { key, est };
    }
    return best ? `leader ${best.key}: p50 ${best.est.estimate.toFixed(1)} ms [${best.est.lo.toFixed(1)}, ${best.est.hi.toFixed(1)}] (n=${done.filter((t) => t.key === best!.key && t.kind === 'level').length})` : 'no leader yet';
  };

  let settingsRestored = false;
  try {
    for (const t of schedule) {
      const level = levelsByKey.get(t.key)!;
      const config = configs.get(t.key)!;
      const tdir = trialDir(dir, t);
      const file = path.join(tdir, 'run.json');
      if (fs.existsSync(file)) {
        const result = JSON.parse(fs.readFileSync(file, 'utf8')) as TrialResult;
        done.push({ ...t, file, poolMinTotal: poolMinTotal(result.config ?? config), summary: summarizeTrial(result) });
        reused++;
        continue;
      }
      if (hooks.signal?.aborted) {
        partial = true;
        break;
      }
      const remaining = toRun();
      const avg = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : (plan.trial.warmupMs + plan.trial.durationMs) * 1.3 + 5000;
      progress(`sweep: trial ${t.index} of ${schedule.length} (${t.key} ${t.rep}${t.kind === 'drift' ? ', baseline drift check' : ''}), ETA ${fmtEta(avg * remaining)} — ${leader()}`);
      const began = Date.now();
      if (!isEmptyPlan(level.settings) || readJournal(journal)) await applySettings(target, level.settings, journal);
      const result = await run(target, config, hooks.env ?? {}, { ...(hooks.signal ? { signal: hooks.signal } : {}), onStatus: (l) => progress(`sweep:   ${l}`) });
      if (result.partial || hooks.signal?.aborted) {
        // An interrupted trial is not a result: kept for the record, redone on --resume.
        writeJsonAtomic(path.join(tdir, 'run.partial.json'), result);
        partial = true;
        break;
      }
      writeJsonAtomic(file, result);
      durations.push(Date.now() - began);
      ran++;
      done.push({ ...t, file, poolMinTotal: poolMinTotal(config), summary: summarizeTrial(result) });
    }
  } finally {
    // At the end, on an error, and on SIGINT/SIGTERM (the signal ends the trial; we get here).
    if (readJournal(journal)) {
      progress('sweep: restoring the database settings');
      await restoreSettings(target, journal);
      settingsRestored = true;
    }
  }

  const analysis = analyzeSweep(plan.levels, done, {
    baselineKey: plan.baselineKey,
    ...(plan.comparisons ? { comparisons: plan.comparisons } : {}),
    threshold: plan.threshold,
    seed: plan.seed,
  });
  const result: SweepResult = {
    kind: 'sweep',
    partial,
    dir,
    startedAt,
    finishedAt: new Date().toISOString(),
    plan: {
      levels: plan.levels.map((l) => ({ key: l.key, factor: l.factor, value: l.value })),
      baselineKey: plan.baselineKey,
      repeats: plan.repeats,
      seed: plan.seed,
      threshold: plan.threshold,
      rate: plan.trial.rate,
      durationMs: plan.trial.durationMs,
      warmupMs: plan.trial.warmupMs,
    },
    schedule,
    ran,
    reused,
    settingsRestored,
    ...analysis,
  };
  // Saved before anything is printed.
  writeJsonAtomic(path.join(dir, 'sweep.json'), result);
  return result;
}
