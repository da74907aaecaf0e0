/**
 * `esbench study`: seed 003 reproduced on this machine.
 *
 * 1. Seed the history once (COPY); every trial starts from it (history.ts).
 * 2. Capacity of `tuned`: the highest rate this machine holds. If it is below the study's 300 req/s,
 *    the study's pair still runs (the evidence that it cannot be held here) and the pair scaled to
 *    the machine (same 250:300 ratio, the higher rate at tuned's capacity) is where the criteria
 *    are judged.
 * 3. The three configurations at the high rate of each pair; the ablation (every level, repeated)
 *    at the low rate of the judged pair.
 * 4. Verdicts from the saved runs; study.json; settings restored.
 *
 * Every trial is saved as `trials/<i>-<key>-<rate>rps-r<rep>/run.json` before the next starts;
 * `--resume <dir>` redoes none of them. Settings are journaled before they change and restored at
 * the end, on SIGINT/SIGTERM, and on resume after a crash.
 */
import fs from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.ts';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { APPLICATION_NAMES } from '../core/application-names.ts';
import { withClient } from '../core/pg-client.ts';
import { EsbenchError } from '../core/errors.ts';
import type { SecondRecord } from '../load/latency-recorder.ts';
import { parseSlo } from '../analysis/slo.ts';
import { runCapacity, type CapacityResult } from '../tuner/capacity.ts';
import { summarizeTrial } from '../tuner/trial-summary.ts';
import { applySettings, restoreSettings, type SettingsNode, type SettingsTarget } from '../tuner/settings.ts';
import { runTrial, trialConfig, withServicePatch, type TrialConfig, type TrialResult, type TrialTarget } from '../tuner/trial.ts';
import { readHistoryBase, resetHistory, type HistoryBase } from './history.ts';
import { ablationLevels, STUDY_RATES, TUNED_VALUES, type StudyLevel, type StudySize } from './study-plan.ts';
import type { StudyPair, StudyResult } from './study-result.ts';
import { figuresOf, type TrialFigures, type TrialPhase } from './trial-figures.ts';
import { judge, type CapacityFigures } from './verdicts.ts';

export interface StudyTarget extends TrialTarget {
  /** Restarts a node (embedded cluster); absent on an external cluster. */
  restart?: (node: SettingsNode) => Promise<void>;
}

export interface StudyOptions {
  /** The study's directory (new, or the one to resume). */
  dir: string;
  id: string;
  size: StudySize;
  seed: number;
  machineRamBytes: number;
  resume: boolean;
  /** Test-only: skip the capacity search and take this rate as tuned's capacity (labelled as given). */
  capacityRate?: number | undefined;
  env: Readonly<Record<string, string | undefined>>;
}

export interface StudyHooks {
  signal?: AbortSignal;
  /** One line of progress (stderr). */
  log: (line: string) => void;
  /** Seeds a fresh history of `events` events (COPY); throws INTERRUPTED when stopped. */
  seedHistory: (events: number) => Promise<void>;
}

interface PlanFile {
  kind: 'study-plan';
  version: 1;
  id: string;
  size: StudySize;
  seed: number;
  machineRamBytes: number;
  memoryMeasurable: boolean;
  createdAt: string;
}

interface ScheduledTrial {
  level: StudyLevel;
  phase: TrialPhase;
  rate: number;
  rep: number;
}

const JOURNAL = 'settings-journal.json';
/**
 * What "holding a rate" means for the study: its own criterion, no timeout errors (and no 5xx). The
 * tuner's default adds p99 < 200 ms, which is a service-level choice the study never made.
 */
export const CAPACITY_SLO = 'timeouts=0,errors<0.1%';

function withPrimary<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withClient(url, fn, { applicationName: APPLICATION_NAMES.study, connectionTimeoutMillis: 10_000, what: 'primary' });
}

const writeJson = (file: string, value: unknown): void => writeJsonAtomic(file, value);

function readJson<T>(file: string): T | null {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : null;
}

/** On an external cluster shared_buffers cannot change: the memory split is left as the cluster has it. */
function withoutMemory(level: StudyLevel): StudyLevel {
  const strip = (gucs: Readonly<Record<string, string>> | undefined) =>
    Object.fromEntries(Object.entries(gucs ?? {}).filter(([k]) => !['shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem'].includes(k)));
  return { ...level, needsRestart: false, settings: { ...level.settings, primary: strip(level.settings.primary), replica: strip(level.settings.replica) } };
}

export function studyLevels(machineRamBytes: number, memoryMeasurable: boolean): StudyLevel[] {
  const levels = ablationLevels(machineRamBytes);
  return memoryMeasurable ? levels : levels.filter((l) => l.factor !== 'memory').map(withoutMemory);
}

/** The pair the criteria are judged at: the study's when tuned holds 300 req/s, else scaled to its capacity. */
export function choosePair(capacity: CapacityFigures | null): StudyPair {
  const max = capacity?.maxRate ?? null;
  if (capacity && max === null) {
    // Not even the smallest rate tried was held: judge at a token pair rather than at none.
    return { low: 8, high: 10, scaled: true, reason: `${capacity.configuration} held no rate tried${capacity.saturation ? `; ${capacity.saturation.cause}` : ''}` };
  }
  if (max === null || max >= STUDY_RATES.high) return { low: STUDY_RATES.low, high: STUDY_RATES.high, scaled: false, reason: null };
  const high = Math.max(2, Math.round(max));
  const low = Math.max(1, Math.round((high * STUDY_RATES.low) / STUDY_RATES.high));
  const sat = capacity?.saturation ? `; saturated first: ${capacity.saturation.cause}` : '';
  return { low, high, scaled: true, reason: `${capacity!.configuration} holds at most ${max.toFixed(0)} req/s here${sat}` };
}

/**
 * The trials after capacity, in the order they run. Levels sharing a memory split run together and
 * the order flips every repetition (fewer restarts, and drift does not favour one level).
 */
export function schedule(levels: readonly StudyLevel[], pair: StudyPair, size: StudySize): ScheduledTrial[] {
  const byKey = new Map(levels.map((l) => [l.key, l]));
  const pick = (keys: readonly string[]) => keys.map((k) => byKey.get(k)).filter((l): l is StudyLevel => l !== undefined);
  const out: ScheduledTrial[] = [];
  for (let rep = 1; rep <= size.pairRepeats; rep++) {
    for (const level of pick(size.studyPairLevels)) out.push({ level, phase: 'study-pair', rate: STUDY_RATES.high, rep });
    if (pair.scaled) {
      const tuned = byKey.get('tuned');
      if (tuned && size.studyLowRate) out.push({ level: tuned, phase: 'study-pair', rate: STUDY_RATES.low, rep });
      for (const level of pick(size.scaledPairLevels)) out.push({ level, phase: 'scaled-pair', rate: pair.high, rep });
    }
  }
  const after = levels.filter((l) => l.values.memory === TUNED_VALUES.memory);
  const before = levels.filter((l) => l.values.memory !== TUNED_VALUES.memory);
  for (let rep = 1; rep <= size.repeats; rep++) {
    // Flip the order every repetition: drift (a warming cache, a neighbour's load) favours no level.
    const order = rep % 2 === 1 ? [...before, ...after] : [...after].reverse().concat([...before].reverse());
    for (const level of order) out.push({ level, phase: 'ablation', rate: pair.low, rep });
  }
  return out;
}

function trialDirName(i: number, t: { level: StudyLevel; rate: number; rep: number }): string {
  return `${String(i).padStart(3, '0')}-${t.level.key}-${Math.round(t.rate)}rps-r${t.rep}`;
}

function trialFor(level: StudyLevel, rate: number, durationMs: number, size: StudySize, seed: number): TrialConfig {
  // The level's pools and service settings reach the trial's service whole (serve --config).
  return withServicePatch(trialConfig({ rate, durationMs, warmupMs: size.warmupMs, seed }), level.config);
}

function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export async function runStudy(target: StudyTarget, options: StudyOptions, hooks: StudyHooks): Promise<{ result: StudyResult; file: string }> {
  const startedAt = new Date();
  const loadStart = os.loadavg()[0] ?? 0;
  const dir = options.dir;
  const log = hooks.log;
  const aborted = () => hooks.signal?.aborted === true;
  const settingsTarget: SettingsTarget = { primaryUrl: target.primaryUrl, replicaUrl: target.replicaUrl, ...(target.restart ? { restart: target.restart } : {}), onProgress: (l) => log(`study: ${l}`) };
  const journal = path.join(dir, JOURNAL);

  // --- plan (kept on resume: the same size, seed and levels)
  const planFile = path.join(dir, 'plan.json');
  let plan = readJson<PlanFile>(planFile);
  if (options.resume) {
    if (!plan || plan.kind !== 'study-plan' || plan.version !== 1) throw new EsbenchError('STUDY_DIR_INVALID', `${dir} holds no study plan.json of this esbench version`);
    log(`study: resuming ${dir} (${plan.size.mode}); trials already saved are not run again`);
    if (await restoreSettings(settingsTarget, journal)) log('study: settings left by the interrupted run restored');
  } else {
    plan = {
      kind: 'study-plan',
      version: 1,
      id: options.id,
      size: options.size,
      seed: options.seed,
      machineRamBytes: options.machineRamBytes,
      memoryMeasurable: target.restart !== undefined,
      createdAt: startedAt.toISOString(),
    };
    writeJson(planFile, plan);
  }
  const size = plan.size;
  const levels = studyLevels(plan.machineRamBytes, plan.memoryMeasurable);
  const byKey = new Map(levels.map((l) => [l.key, l]));
  const memory = plan.memoryMeasurable
    ? { measurable: true, reason: null }
    : { measurable: false, reason: 'external cluster: shared_buffers needs a restart, which esbench does not do there, so the memory split was left as the cluster has it' };
  const notes: string[] = [];
  const trials: TrialFigures[] = [];
  let capacity: CapacityFigures | null = null;
  let pair: StudyPair = { low: STUDY_RATES.low, high: STUDY_RATES.high, scaled: false, reason: null };
  let partial = false;
  let restored = false;
  let base: HistoryBase | null = null;
  const failures: string[] = [];

  const runOne = async (rel: string, level: StudyLevel, phase: TrialPhase, rate: number, rep: number, durationMs: number, label: string): Promise<{ run: TrialResult; figures: TrialFigures } | 'failed' | null> => {
    const file = path.join(dir, rel, 'run.json');
    const meta = { key: level.key, phase, rate, rep, path: path.join(rel, 'run.json') };
    const saved = readJson<TrialResult>(file);
    if (saved) return { run: saved, figures: figuresOf(saved, meta) };
    if (aborted()) return null;
    log(`study: ${label}: reset history, apply ${level.key}`);
    await withPrimary(target.primaryUrl, (c) => resetHistory(c, base!));
    await applySettings(settingsTarget, level.settings, journal);
    if (aborted()) return null;
    let lastLine = 0;
    const attempt = () =>
      runTrial(target, trialFor(level, rate, durationMs, size, plan!.seed + rep), options.env, {
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onSecond: (s: SecondRecord) => {
          if (s.phase !== 'measure' || Date.now() - lastLine < 5000) return;
          lastLine = Date.now();
          log(`study: ${label}: ${s.index + 1}/${Math.round(durationMs / 1000)} s, ${s.counters.ok} ok, ${s.counters.timeouts} timeouts, p99 ${s.latency.p99 === null ? '-' : s.latency.p99.toFixed(0)} ms`);
        },
      });
    fs.mkdirSync(path.join(dir, rel), { recursive: true });
    let result: TrialResult;
    try {
      result = await attempt();
    } catch (e) {
      // A trial that could not start (e.g. the service's first queries timed out on a starved
      // machine) is tried once more; a second failure is recorded and the study goes on without it.
      if (aborted() || (e instanceof EsbenchError && e.code === 'INTERRUPTED')) return null;
      log(`study: ${label}: trial failed (${(e as Error).message}); trying once more`);
      await new Promise((r) => setTimeout(r, 3000));
      try {
        await withPrimary(target.primaryUrl, (c) => resetHistory(c, base!));
        result = await attempt();
      } catch (again) {
        if (aborted()) return null;
        writeJson(path.join(dir, rel, 'error.json'), { at: new Date().toISOString(), level: level.key, rate, rep, message: (again as Error).message });
        failures.push(`${rel}: ${(again as Error).message}`);
        log(`study: ${label}: failed twice, left out (${rel}/error.json; --resume tries it again)`);
        return 'failed';
      }
    }
    if (result.partial) {
      // An interrupted trial is not a result: --resume runs it again.
      writeJson(path.join(dir, rel, 'run.partial.json'), result);
      return null;
    }
    writeJson(file, { id: `${options.id}/${rel}`, ...result });
    return { run: result, figures: figuresOf(result, meta) };
  };

  try {
    // --- history
    const historyFile = path.join(dir, 'history.json');
    base = readJson<HistoryBase>(historyFile);
    if (base) {
      const now = await withPrimary(target.primaryUrl, (c) => readHistoryBase(c));
      if (now.lastSequence < base.lastSequence) throw new EsbenchError('STUDY_DIR_INVALID', `the store no longer holds the study's seeded history (last sequence ${now.lastSequence} < ${base.lastSequence}); start a new study`);
    } else {
      log(`study: seeding ${size.events} events (COPY, with snapshots)`);
      await hooks.seedHistory(size.events);
      base = await withPrimary(target.primaryUrl, (c) => readHistoryBase(c));
      writeJson(historyFile, base);
    }

    // --- capacity of tuned
    const tuned = byKey.get('tuned')!;
    // capacity.json: the tuner's CapacityResult (the contract's shape); study-capacity.json: what the verdicts use.
    const capacityFile = path.join(dir, 'study-capacity.json');
    capacity = readJson<CapacityFigures>(capacityFile);
    if (!capacity && options.capacityRate !== undefined) {
      capacity = { maxRate: options.capacityRate, ci: null, bracket: null, configuration: 'tuned', saturation: { cause: 'given (--capacity-rate), not measured', evidence: 'test run' }, path: null };
      writeJson(capacityFile, capacity);
    }
    if (!capacity) {
      // The tuner's search (ramp, then bisection), each trial from the same history with tuned's settings.
      const found: CapacityResult = await runCapacity(null, {
        slo: parseSlo(CAPACITY_SLO),
        startRate: 100,
        maxRate: STUDY_RATES.high,
        repeats: size.capacityRepeats,
        maxSteps: size.capacityBisections,
        precision: 0.1,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onProgress: (l) => log(`study: ${l}`),
        trial: async (rate, step, rep) => {
          const rel = path.join('capacity', `${String(step).padStart(2, '0')}-tuned-${rate}rps-r${rep}`);
          const r = await runOne(rel, tuned, 'capacity', rate, rep, size.capacityStepMs, `capacity (tuned @ ${rate} req/s)`);
          if (!r) throw new EsbenchError('INTERRUPTED', 'stopped during the capacity search');
          if (r === 'failed') throw new EsbenchError('INTERNAL', `a capacity trial at ${rate} req/s failed twice: ${failures[failures.length - 1] ?? ''}`);
          const load = r.run.load;
          const achievedRate = load.engine === 'paced' ? load.achievedRate : load.completedRate;
          return { result: { latency: load.latency, counters: load.counters, achievedRate }, summary: summarizeTrial(r.run), file: r.figures.path };
        },
      });
      writeJson(path.join(dir, 'capacity.json'), found);
      capacity = {
        maxRate: found.maxRate,
        ci: null,
        bracket: found.ci.lo !== null && found.ci.hi !== null ? [found.ci.lo, found.ci.hi] : null,
        configuration: 'tuned',
        saturation: { cause: found.saturation.cause, evidence: found.saturation.evidence.join('; ') },
        path: 'capacity.json',
        slo: CAPACITY_SLO,
      };
      if (found.partial) throw new EsbenchError('INTERRUPTED', 'stopped during the capacity search');
      writeJson(capacityFile, capacity);
    }
    pair = choosePair(capacity);
    log(
      pair.scaled
        ? `study: ${pair.reason}: the study's ${STUDY_RATES.low}/${STUDY_RATES.high} req/s run as evidence, the criteria are judged at ${pair.low}/${pair.high} req/s`
        : `study: judged at the study's ${pair.low}/${pair.high} req/s`,
    );

    // --- pairs and ablation
    const todo = schedule(levels, pair, size);
    const began = Date.now();
    let ran = 0;
    for (const [i, t] of todo.entries()) {
      const rel = path.join('trials', trialDirName(i, t));
      const fresh = !fs.existsSync(path.join(dir, rel, 'run.json'));
      const remaining = todo.length - i;
      const eta = ran > 0 ? ` — ETA ${fmtDuration(((Date.now() - began) / ran) * remaining)}` : '';
      const window = t.phase === 'ablation' ? size.durationMs : size.pairDurationMs;
      const r = await runOne(rel, t.level, t.phase, t.rate, t.rep, window, `[${i + 1}/${todo.length}] ${t.level.key} @ ${t.rate} req/s r${t.rep}${eta}`);
      if (!r) {
        partial = true;
        break;
      }
      if (r === 'failed') continue;
      if (fresh) ran++;
      trials.push(r.figures);
    }
  } catch (e) {
    if (!(e instanceof EsbenchError && e.code === 'INTERRUPTED')) throw e;
    partial = true;
  } finally {
    try {
      restored = (await restoreSettings(settingsTarget, journal)) || !fs.existsSync(journal);
      if (restored) log('study: every setting the study changed is restored');
    } catch (e) {
      notes.push(`settings NOT restored: ${(e as Error).message}; \`esbench study --resume ${dir}\` restores them from ${journal}`);
    }
    if (base) await withPrimary(target.primaryUrl, (c) => resetHistory(c, base!)).catch(() => undefined);
  }
  if (failures.length > 0) notes.push(`${failures.length} trial(s) failed twice and were left out (their levels may lack runs): ${failures.join('; ')}`);
  if (partial) notes.push(`interrupted: ${trials.length} trial(s) saved; \`esbench study --resume ${dir}\` runs the rest`);
  const loadEnd = os.loadavg()[0] ?? 0;
  const cpus = os.cpus().length;
  const delays = trials.map((t) => t.generatorDelayP99Ms).filter((d): d is number => typeof d === 'number').sort((a, b) => a - b);
  const medianDelay = delays.length ? delays[Math.floor(delays.length / 2)]! : null;
  if (Math.max(loadStart, loadEnd) > cpus || (medianDelay !== null && medianDelay > 50)) {
    notes.push(
      `the machine was busy with other work: load average ${loadStart.toFixed(1)} at the start and ${loadEnd.toFixed(1)} at the end on ${cpus} CPUs` +
        `${medianDelay !== null ? `, the generator's event-loop delay p99 ${medianDelay.toFixed(0)} ms (median over the trials)` : ''}; latencies include waits for a CPU, and capacity is this machine's under that load`,
    );
  }
  if (size.mode === 'quick') notes.push(`--quick: ${size.events} events instead of the study's ~450K, ${size.repeats} repetitions per level; verdicts marked "not conclusive" need --full`);

  const verdicts = judge({ mode: size.mode, trials, pair, studyRates: { ...STUDY_RATES }, capacity, memory, seed: plan.seed });
  const result: StudyResult = {
    kind: 'study',
    version: 1,
    id: plan.id,
    partial,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}`, loadAverage: { start: loadStart, end: loadEnd } },
    size,
    seed: plan.seed,
    history: { events: base?.events ?? 0, lastSequence: base?.lastSequence ?? 0 },
    levels: levels.map((l) => ({ key: l.key, factor: l.factor, value: l.value, baseline: l.baseline, description: l.description, values: l.values, settings: l.settings })),
    capacity,
    studyRates: { ...STUDY_RATES },
    pair,
    memory,
    trials,
    verdicts,
    settingsRestored: restored,
    notes,
  };
  const file = path.join(dir, 'study.json');
  writeJson(file, result);
  return { result, file };
}
