/**
 * Capacity: the highest rate that holds an SLO. A ramp (rates multiplied by `growth` until the SLO breaks),
 * then a bisection between the last rate that held and the first that broke, each step repeated; the
 * answer with the bracket it is known within, and what saturated first, with the figures behind it.
 *
 * The trial is injected: the CLI runs a full trial against the service; a test can run the paced engine
 * against any URL (e.g. a server with a known limit).
 */
import { writeJsonAtomic } from '../core/atomic-file.ts';
import path from 'node:path';
import { evaluateSlo, parseSlo, type SloClause, type SloVerdict } from '../analysis/slo.ts';
import { EsbenchError } from '../core/errors.ts';
import { summarizeTrial, type TrialSummary } from './trial-summary.ts';
import { runTrial, type TrialConfig, type TrialTarget } from './trial.ts';

export const DEFAULT_SLO = 'p99<200ms,timeouts=0,errors<0.1%';

export interface CapacityTrial {
  rate: number;
  /** The SLO's verdicts for this trial. */
  verdicts: SloVerdict[];
  held: boolean;
  summary: TrialSummary;
  /** run.json of the trial, when saved. */
  file?: string;
}

export type CapacityTrialRunner = (rate: number, step: number, rep: number) => Promise<{ result: Parameters<typeof evaluateSlo>[1]; summary: TrialSummary; file?: string }>;

export interface CapacityOptions {
  slo?: readonly SloClause[];
  startRate: number;
  maxRate: number;
  /** Ramp multiplier (default 1.5). */
  growth?: number;
  /** Trials per bisection step (default 3). The ramp runs one per rate. */
  repeats?: number;
  /** Stop bisecting when (hi − lo) / lo is below this (default 0.1). */
  precision?: number;
  /** At most this many bisection steps (default 6). */
  maxSteps?: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
  /** Injected trial (tests, other targets). Default: a full trial (runTrial) of `base` at each rate against the target. */
  trial?: CapacityTrialRunner;
  /** The trial every step runs at its own rate (required without `trial`). */
  base?: TrialConfig;
  env?: Readonly<Record<string, string | undefined>>;
  /** Where each trial's run.json goes: `<dir>/trials/<step>-<rate>-r<rep>/run.json`. */
  dir?: string;
}

/** The default trial of a capacity step: runTrial at `rate`, its run.json saved under dir. */
export function serviceTrialRunner(target: TrialTarget, options: Pick<CapacityOptions, 'base' | 'env' | 'dir' | 'signal' | 'onProgress'>): CapacityTrialRunner {
  const base = options.base;
  if (!base) throw new EsbenchError('BAD_FLAG', 'capacity needs a base trial (or an injected trial function)');
  return async (rate, step, rep) => {
    const r = await runTrial(target, { ...base, rate }, options.env ?? {}, {
      ...(options.signal ? { signal: options.signal } : {}),
      onStatus: (l) => options.onProgress?.(`capacity:   ${l}`),
    });
    let file: string | undefined;
    if (options.dir) {
      const tdir = path.join(options.dir, 'trials', `${String(step).padStart(2, '0')}-${rate}-r${rep}`);
      file = path.join(tdir, 'run.json');
      writeJsonAtomic(file, r);
    }
    const achievedRate = r.load.engine === 'paced' ? r.load.achievedRate : r.load.completedRate;
    return { result: { latency: r.load.latency, counters: r.load.counters, achievedRate }, summary: summarizeTrial(r), ...(file ? { file } : {}) };
  };
}

export interface CapacityStep {
  phase: 'ramp' | 'bisect';
  rate: number;
  trials: CapacityTrial[];
  /** Share of its trials that held the SLO; a step holds when at least half did. */
  heldShare: number;
  held: boolean;
}

export interface Saturation {
  cause: 'cpu' | 'pool wait' | 'lock waits' | 'db execution' | 'generator' | 'not reached' | 'unexplained';
  evidence: string[];
}

export interface CapacityResult {
  kind: 'capacity';
  partial: boolean;
  /** Highest tested rate whose step held the SLO; null if even the lowest rate broke it. */
  maxRate: number | null;
  /**
   * [lo, hi]: lo = the highest rate at which every trial held (and every step below held); hi = the lowest
   * rate at or above which every trial broke the SLO (null: none broke). The true limit lies between them
   * as far as these trials can tell; the repetitions at the boundary decide how tight it is.
   */
  ci: { lo: number | null; hi: number | null; method: string };
  slo: string[];
  steps: CapacityStep[];
  saturation: Saturation;
}

function majority(trials: readonly CapacityTrial[]): { share: number; held: boolean } {
  const share = trials.filter((t) => t.held).length / Math.max(1, trials.length);
  return { share, held: share >= 0.5 };
}

const round = (r: number) => Math.round(r * 10) / 10;

/** What saturated first: the first broken step compared with the last step that held. */
export function diagnoseSaturation(held: CapacityStep | undefined, broke: CapacityStep | undefined): Saturation {
  if (!broke) return { cause: 'not reached', evidence: ['the SLO held at every rate tried (raise --max-rate)'] };
  const b = broke.trials.map((t) => t.summary);
  const h = held?.trials.map((t) => t.summary) ?? [];
  const avg = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, c) => a + c, 0) / v.length : null;
  };
  const evidence: string[] = [];
  const fmt = (x: number | null, unit = ' ms') => (x === null ? '-' : `${x.toFixed(2)}${unit}`);

  const busiest = b.map((s) => s.busiestProcess).filter((x): x is NonNullable<typeof x> => x !== null).sort((x, y) => y.cores - x.cores)[0];
  const cpuPerReq = avg(b.map((s) => s.cpuMsPerRequest));
  const cpus = b[0]?.cpus ?? 1;
  const totalCores = cpuPerReq !== null ? (cpuPerReq * broke.rate) / 1000 : null;
  const warnings = [...new Set(b.flatMap((s) => s.generatorWarnings))];
  // CPU before the generator: on a machine that runs everything, a process out of CPU delays the
  // generator's event loop too, and its warnings then describe the symptom, not the cause (measured:
  // the study's tuned configuration broke at 87.5 req/s with the service at 0.80 cores and the
  // generator warning about a 14 ms schedule lag). A Node process is one event loop: at 3/4 of a core
  // (its GC runs on other threads) its requests queue; the machine is out of CPU at 80 % of all cores.
  if ((busiest && busiest.cores >= 0.75) || (totalCores !== null && totalCores >= cpus * 0.8)) {
    if (busiest) evidence.push(`${busiest.process} used ${busiest.cores.toFixed(2)} cores (/proc, measured window)`);
    if (totalCores !== null) evidence.push(`all measured processes: ${cpuPerReq!.toFixed(2)} ms CPU per request × ${broke.rate} req/s = ${totalCores.toFixed(2)} of ${cpus} cores`);
    evidence.push(...warnings.slice(0, 2).map((w) => `generator (a symptom): ${w}`));
    return { cause: 'cpu', evidence };
  }
  const achieved = avg(b.map((s) => s.achievedRate));
  const short = achieved !== null && achieved < broke.rate * 0.95;
  if (warnings.length > 0 || short) {
    if (short) evidence.push(`the generator sent ${fmt(achieved, ' req/s')} of ${broke.rate} req/s asked`);
    evidence.push(...warnings.slice(0, 3).map((w) => `generator: ${w}`));
    return { cause: 'generator', evidence };
  }
  const poolB = avg(b.map((s) => s.poolWaitMs));
  const poolH = avg(h.map((s) => s.poolWaitMs));
  const p99B = avg(b.map((s) => s.p99));
  if (poolB !== null && poolB >= 5 && (poolH === null || poolB > 3 * Math.max(poolH, 0.1))) {
    evidence.push(`mean pool wait ${fmt(poolH)} at ${held?.rate ?? '-'} req/s → ${fmt(poolB)} at ${broke.rate} req/s (service, Server-Timing pool)`);
    return { cause: 'pool wait', evidence };
  }
  const locks = [...new Set(b.flatMap((s) => s.lockWaits))];
  if (locks.length > 0) {
    evidence.push(...locks.slice(0, 3));
    return { cause: 'lock waits', evidence };
  }
  const dbB = avg(b.map((s) => s.dbExecutionMs));
  const dbH = avg(h.map((s) => s.dbExecutionMs));
  if (dbB !== null && dbH !== null && dbB > 2 * dbH && dbB >= 1) {
    evidence.push(`mean DB execution per request ${fmt(dbH)} → ${fmt(dbB)} (pg_stat_statements)`);
    return { cause: 'db execution', evidence };
  }
  evidence.push(
    `p99 ${fmt(avg(h.map((s) => s.p99)))} → ${fmt(p99B)}, pool wait ${fmt(poolH)} → ${fmt(poolB)}, DB execution ${fmt(dbH)} → ${fmt(dbB)}, busiest process ${busiest ? `${busiest.process} ${busiest.cores.toFixed(2)} cores` : '-'}`,
  );
  return { cause: 'unexplained', evidence };
}

export async function runCapacity(target: TrialTarget | null, options: CapacityOptions): Promise<CapacityResult> {
  if (!options.trial && !target) throw new EsbenchError('BAD_FLAG', 'capacity needs a target or an injected trial function');
  const trial = options.trial ?? serviceTrialRunner(target!, options);
  const slo = options.slo ?? parseSlo(DEFAULT_SLO);
  const growth = options.growth ?? 1.5;
  const repeats = options.repeats ?? 3;
  const precision = options.precision ?? 0.1;
  const maxSteps = options.maxSteps ?? 6;
  if (!(options.startRate > 0) || !(options.maxRate >= options.startRate)) throw new EsbenchError('BAD_FLAG', 'capacity needs 0 < start rate ≤ max rate');
  if (!(growth > 1)) throw new EsbenchError('BAD_FLAG', 'the ramp growth must be above 1');
  const progress = options.onProgress ?? (() => {});
  const steps: CapacityStep[] = [];
  let partial = false;

  const step = async (phase: CapacityStep['phase'], rate: number, n: number): Promise<CapacityStep | undefined> => {
    const trials: CapacityTrial[] = [];
    for (let rep = 1; rep <= n; rep++) {
      if (options.signal?.aborted) return undefined;
      progress(`capacity: ${phase} step ${steps.length + 1}, ${rate} req/s, trial ${rep} of ${n}`);
      const { result, summary, file } = await trial(rate, steps.length + 1, rep);
      if (summary.partial || options.signal?.aborted) return undefined;
      const verdicts = evaluateSlo(slo, result);
      const held = verdicts.every((v) => v.ok);
      trials.push({ rate, verdicts, held, summary, ...(file ? { file } : {}) });
      progress(`capacity:   ${held ? 'held' : 'broke'}: ${verdicts.map((v) => `${v.text} (${v.actual === null ? '-' : round(v.percent ? v.actual * 100 : v.actual)}${v.percent ? '%' : ''})`).join(', ')}`);
    }
    const m = majority(trials);
    const s: CapacityStep = { phase, rate, trials, heldShare: m.share, held: m.held };
    steps.push(s);
    return s;
  };

  // Ramp.
  let lo: CapacityStep | undefined;
  let hi: CapacityStep | undefined;
  for (let rate = options.startRate; ; rate = Math.min(options.maxRate, round(rate * growth))) {
    const s = await step('ramp', rate, 1);
    if (!s) {
      partial = true;
      break;
    }
    if (s.held) lo = s;
    else {
      hi = s;
      break;
    }
    if (rate >= options.maxRate) break;
  }
  // Below the start rate when even it broke: halve until a rate holds.
  while (!partial && !lo && hi && hi.rate / 2 >= 1) {
    const s = await step('ramp', round(hi.rate / 2), 1);
    if (!s) {
      partial = true;
      break;
    }
    if (s.held) lo = s;
    else hi = s;
  }
  // Bisection, with repetitions; the bracket's ends are re-measured too when they had a single trial.
  for (let i = 0; !partial && lo && hi && i < maxSteps && (hi.rate - lo.rate) / lo.rate > precision; i++) {
    const mid = round((lo.rate + hi.rate) / 2);
    if (mid <= lo.rate || mid >= hi.rate) break;
    const s = await step('bisect', mid, repeats);
    if (!s) {
      partial = true;
      break;
    }
    if (s.held) lo = s;
    else hi = s;
  }

  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  let ciLo: number | null = null;
  for (const s of sorted) {
    if (s.trials.every((t) => t.held)) ciLo = s.rate;
    else break;
  }
  const allBroke = sorted.filter((s) => s.trials.every((t) => !t.held) && s.rate > (ciLo ?? 0));
  const ciHi = allBroke.length ? allBroke[0]!.rate : null;
  return {
    kind: 'capacity',
    partial,
    maxRate: lo?.rate ?? null,
    ci: { lo: ciLo, hi: ciHi, method: 'bracket: every trial held at lo (and at every lower step); every trial broke the SLO at hi' },
    slo: slo.map((c) => c.text),
    steps,
    saturation: diagnoseSaturation(lo, hi),
  };
}
