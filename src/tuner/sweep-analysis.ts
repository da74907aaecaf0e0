/**
 * What a sweep's trials say: per level estimates with bootstrap CIs, comparisons corrected with Holm, drift of
 * the baseline, the smallest detectable effect, a recommendation and its queueing cross-check. Pure: the
 * same trials give the same sweep.json (seeded resampling).
 */
import { linearRegression } from 'simple-statistics';
import {
  bootstrapCi,
  compareSamples,
  DEFAULT_THRESHOLD,
  holm,
  medianOf,
  minimumDetectableEffect,
  pooledStandardDeviation,
  practicalLimit,
  type Comparison,
  type Estimate,
  type Threshold,
} from '../analysis/statistics.ts';
import { busyConnections, erlangC } from './queueing.ts';
import { ORDINAL, type SweepLevel } from './sweep-factors.ts';
import type { TrialSummary } from './trial-summary.ts';

export interface CompletedTrial {
  /** Position in the schedule (1-based). */
  index: number;
  key: string;
  rep: string;
  /** 'level': one of the level's repetitions; 'drift': an extra baseline run to measure drift. */
  kind: 'level' | 'drift';
  file: string;
  /** pools.primary.min + pools.replica.min of the trial's service (for the Erlang C cross-check). */
  poolMinTotal: number;
  summary: TrialSummary;
}

export type Metric = 'p50' | 'p99' | 'timeouts';
export const METRICS: readonly Metric[] = ['p50', 'p99', 'timeouts'];

export interface LevelResult {
  factor: string;
  value: string;
  key: string;
  trials: number;
  p50: Estimate | null;
  p99: Estimate | null;
  timeouts: Estimate | null;
  achievedRate: Estimate | null;
  /** Little's law inputs and result, means over the level's trials. */
  queueing: { rate: number; holdMs: number; busyConnections: number; poolMinTotal: number; pWait: number } | null;
  /** Per trial (for charts and for checking a CI by eye). */
  values: Array<{ index: number; rep: string; p50: number | null; p99: number | null; timeouts: number; achievedRate: number | null }>;
}

export interface SweepComparison extends Comparison {
  /** Holm-adjusted over every comparison of the sweep; `significant` is pAdjusted < alpha. */
  pAdjusted: number;
}

export interface Recommendation {
  factor: string;
  value: string;
  reason: string;
  /** 'no significant difference' | 'smallest not worse than the best' | 'best' | 'insufficient data'. */
  basis: string;
  crossCheck: { littlesLaw: string; erlangC: string; agrees: boolean | null } | null;
}

export interface SweepAnalysis {
  levels: LevelResult[];
  comparisons: SweepComparison[];
  recommendation: Recommendation;
  drift: {
    metric: 'p50';
    baselineTrials: Array<{ index: number; p50: number | null }>;
    rangeMs: number | null;
    slopeMsPerTrial: number | null;
    /** True when the baseline moved as much as the largest effect claimed (or the practical threshold). */
    flagged: boolean;
    note: string;
  };
  power: Array<{ metric: Metric; repeats: number; sd: number | null; alpha: number; mde: number | null; mdeRelative: number | null; note: string }>;
  charts: {
    levels: Array<{ key: string; value: string; p50: number | null; p50Lo: number | null; p50Hi: number | null; p99: number | null; p99Lo: number | null; p99Hi: number | null }>;
    trials: Array<{ index: number; key: string; kind: string; p50: number | null; p99: number | null }>;
  };
}

export interface AnalysisOptions {
  baselineKey: string;
  comparisons?: ReadonlyArray<readonly [string, string]>;
  threshold?: Threshold;
  seed: number;
  alpha?: number;
}

function values(trials: readonly CompletedTrial[], metric: Metric | 'achievedRate'): number[] {
  return trials.map((t) => t.summary[metric]).filter((v): v is number => v !== null && Number.isFinite(v));
}

function estimate(xs: number[], seed: number): Estimate | null {
  return xs.length === 0 ? null : bootstrapCi(xs, medianOf, { seed });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function levelResult(level: SweepLevel, trials: CompletedTrial[], seed: number): LevelResult {
  const rates = trials.map((t) => t.summary.achievedRate).filter((v): v is number => v !== null);
  const holds = trials.map((t) => t.summary.dbRoundTripMs).filter((v): v is number => v !== null);
  let queueing: LevelResult['queueing'] = null;
  if (rates.length > 0 && holds.length > 0) {
    const rate = mean(rates);
    const holdMs = mean(holds);
    const busy = busyConnections(rate, holdMs);
    const poolMinTotal = trials[0]!.poolMinTotal;
    queueing = { rate, holdMs, busyConnections: busy, poolMinTotal, pWait: erlangC(poolMinTotal, busy) };
  }
  return {
    factor: level.factor,
    value: level.value,
    key: level.key,
    trials: trials.length,
    p50: estimate(values(trials, 'p50'), seed),
    p99: estimate(values(trials, 'p99'), seed + 1),
    timeouts: estimate(values(trials, 'timeouts'), seed + 2),
    achievedRate: estimate(values(trials, 'achievedRate'), seed + 3),
    queueing,
    values: trials.map((t) => ({ index: t.index, rep: t.rep, p50: t.summary.p50, p99: t.summary.p99, timeouts: t.summary.timeouts, achievedRate: t.summary.achievedRate })),
  };
}

function thresholdFor(metric: Metric, t: Threshold): Threshold {
  // Timeouts are counts: a difference of one timeout is the smallest that can matter.
  return metric === 'timeouts' ? { relative: t.relative, absoluteMs: 1 } : t;
}

function compareAll(
  pairs: ReadonlyArray<readonly [string, string]>,
  metrics: readonly Metric[],
  byKey: Map<string, CompletedTrial[]>,
  threshold: Threshold,
  seed: number,
  alpha: number,
): SweepComparison[] {
  const raw: Comparison[] = [];
  for (const [a, b] of pairs) {
    for (const metric of metrics) {
      const xa = values(byKey.get(a) ?? [], metric);
      const xb = values(byKey.get(b) ?? [], metric);
      if (xa.length === 0 || xb.length === 0) continue;
      raw.push(compareSamples(xa, xb, { metric, threshold: thresholdFor(metric, threshold), seed, alpha, labels: [a, b] }));
    }
  }
  const adjusted = holm(raw.map((c) => c.pValue));
  return raw.map((c, i) => ({ ...c, pAdjusted: adjusted[i]!, significant: adjusted[i]! < alpha }));
}

function numericOrder(levels: readonly SweepLevel[]): SweepLevel[] {
  const ordinal = levels.every((l) => ORDINAL.has(l.factor) && Number.isFinite(Number(l.value)));
  return ordinal ? [...levels].sort((x, y) => Number(x.value) - Number(y.value)) : [...levels];
}

function recommend(levels: readonly SweepLevel[], results: LevelResult[], byKey: Map<string, CompletedTrial[]>, o: Required<Omit<AnalysisOptions, 'comparisons'>>): Recommendation {
  const factor = levels[0]?.factor ?? '';
  const withData = results.filter((r) => r.p50 !== null);
  if (withData.length < 2 || withData.some((r) => r.trials < 2)) {
    return { factor, value: levels.find((l) => l.key === o.baselineKey)?.value ?? '', reason: 'insufficient data: every level needs at least 2 completed trials', basis: 'insufficient data', crossCheck: null };
  }
  const best = [...withData].sort((x, y) => x.p50!.estimate - y.p50!.estimate)[0]!;
  const ordered = numericOrder(levels).filter((l) => withData.some((r) => r.key === l.key));
  const others = ordered.filter((l) => l.key !== best.key);
  const vsBest = compareAll(others.map((l) => [best.key, l.key] as const), ['p50', 'p99'], byKey, o.threshold, o.seed, o.alpha);
  const worse = (key: string) => vsBest.some((c) => c.b === key && c.significant && c.practical && c.effect > 0);
  const anyDifference = compareAll(
    ordered.flatMap((l, i) => ordered.slice(i + 1).map((m) => [l.key, m.key] as const)),
    ['p50', 'p99'],
    byKey,
    o.threshold,
    o.seed,
    o.alpha,
  ).some((c) => c.significant && c.practical);
  const isOrdinal = ordered.length > 0 && ORDINAL.has(ordered[0]!.factor);
  const lim = practicalLimit(best.p50!.estimate, o.threshold);
  const thresholdText = `${(o.threshold.relative * 100).toFixed(0)} % or ${o.threshold.absoluteMs} ms (here ${lim.toFixed(1)} ms)`;
  let chosen: SweepLevel;
  let reason: string;
  let basis: string;
  if (!anyDifference) {
    chosen = isOrdinal ? ordered[0]! : (levels.find((l) => l.key === o.baselineKey) ?? ordered[0]!);
    basis = 'no significant difference';
    reason = isOrdinal
      ? `no significant difference — use the smallest: no pair of levels differs in p50 or p99 beyond ${thresholdText} with significance (Holm-corrected, α = ${o.alpha})`
      : `no significant difference — keep the baseline: no pair of levels differs in p50 or p99 beyond ${thresholdText} with significance (Holm-corrected, α = ${o.alpha})`;
  } else if (isOrdinal) {
    chosen = ordered.find((l) => l.key === best.key || !worse(l.key))!;
    basis = 'smallest not worse than the best';
    reason = `${chosen.value} is the smallest ${chosen.factor} whose p50 and p99 are not worse than the best level (${best.value}: p50 ${best.p50!.estimate.toFixed(1)} ms) beyond ${thresholdText}`;
  } else {
    chosen = levels.find((l) => l.key === best.key)!;
    basis = 'best';
    reason = `${best.value} has the lowest p50 (${best.p50!.estimate.toFixed(1)} ms [${best.p50!.lo.toFixed(1)}, ${best.p50!.hi.toFixed(1)}]) and differs significantly and practically from at least one other level`;
  }
  return { factor: chosen.factor, value: chosen.value, reason, basis, crossCheck: crossCheck(chosen, results, basis) };
}

/** Little's law and Erlang C for pool-size factors: does queueing theory expect a difference at these sizes? */
function crossCheck(chosen: SweepLevel, results: LevelResult[], basis: string): Recommendation['crossCheck'] {
  if (!/pool-min|pool-max/.test(chosen.factor)) return null;
  const q = results.map((r) => ({ r, q: r.queueing })).filter((x): x is { r: LevelResult; q: NonNullable<LevelResult['queueing']> } => x.q !== null);
  if (q.length === 0) return { littlesLaw: 'no DB round trip figures in the trials', erlangC: '-', agrees: null };
  const busy = mean(q.map((x) => x.q.busyConnections));
  const rate = mean(q.map((x) => x.q.rate));
  const hold = mean(q.map((x) => x.q.holdMs));
  const littlesLaw = `${rate.toFixed(1)} req/s × ${hold.toFixed(2)} ms mean DB round trip per request (service, a lower bound of the connection hold time) = ${busy.toFixed(2)} connections busy on average (both pools)`;
  const waits = q.map((x) => `${x.r.value}: ${(x.q.pWait * 100).toFixed(1)} %`).join(', ');
  const erlang = `chance that a request finds every pre-opened connection busy (Erlang C, c = primary + replica minimum, M/M/c): ${waits}`;
  const theoryExpectsDifference = q.some((x) => x.q.pWait >= 0.05) && q.some((x) => x.q.pWait < 0.05);
  const measuredDifference = basis !== 'no significant difference';
  const agrees = theoryExpectsDifference === measuredDifference;
  const verdict = agrees
    ? theoryExpectsDifference
      ? 'agrees: theory expects waiting at the small sizes, and the measurement shows a difference'
      : 'agrees: theory expects (almost) no waiting at any of these sizes, and the measurement shows no difference'
    : theoryExpectsDifference
      ? 'DISAGREES: theory expects waiting at the small sizes, the measurement shows no significant difference (a new connection may cost less than a measurable delay, or the sweep lacks power)'
      : 'DISAGREES: theory expects no waiting at any size, yet the measurement differs (look for another cause: connection setup, warm-up, drift)';
  return { littlesLaw, erlangC: `${erlang}; ${verdict}`, agrees };
}

export function analyzeSweep(levels: readonly SweepLevel[], trials: readonly CompletedTrial[], options: AnalysisOptions): SweepAnalysis {
  const o = { threshold: options.threshold ?? DEFAULT_THRESHOLD, alpha: options.alpha ?? 0.05, seed: options.seed, baselineKey: options.baselineKey };
  const complete = trials.filter((t) => !t.summary.partial);
  const byKey = new Map<string, CompletedTrial[]>();
  for (const t of complete.filter((t) => t.kind === 'level')) byKey.set(t.key, [...(byKey.get(t.key) ?? []), t]);
  const results = levels.map((l, i) => levelResult(l, byKey.get(l.key) ?? [], o.seed + 10 * i));
  const pairs = options.comparisons ?? levels.filter((l) => l.key !== o.baselineKey).map((l) => [o.baselineKey, l.key] as const);
  const comparisons = compareAll(pairs, METRICS, byKey, o.threshold, o.seed, o.alpha);
  const recommendation = recommend(levels, results, byKey, o);

  // Drift: every baseline run (its repetitions and the extra drift runs) in the order they ran.
  const baselineRuns = complete.filter((t) => t.key === o.baselineKey).sort((a, b) => a.index - b.index);
  const points = baselineRuns.map((t) => ({ index: t.index, p50: t.summary.p50 }));
  const finite = points.filter((p): p is { index: number; p50: number } => p.p50 !== null);
  const rangeMs = finite.length >= 2 ? Math.max(...finite.map((p) => p.p50)) - Math.min(...finite.map((p) => p.p50)) : null;
  const slope = finite.length >= 2 ? linearRegression(finite.map((p) => [p.index, p.p50])).m : null;
  const effects = comparisons.filter((c) => c.metric === 'p50' && c.significant).map((c) => Math.abs(c.effect));
  const baseP50 = results.find((r) => r.key === o.baselineKey)?.p50?.estimate ?? null;
  const yardstick = effects.length > 0 ? Math.max(...effects) : baseP50 !== null ? practicalLimit(baseP50, o.threshold) : null;
  const flagged = rangeMs !== null && yardstick !== null && rangeMs >= yardstick;
  const driftNote =
    rangeMs === null
      ? 'fewer than two baseline runs: drift not measured'
      : flagged
        ? `the baseline's p50 moved by ${rangeMs.toFixed(2)} ms over the sweep, as much as ${effects.length > 0 ? 'the largest significant effect' : 'the practical threshold'} (${yardstick!.toFixed(2)} ms): differences of that size may be drift, not the factor`
        : `the baseline's p50 moved by ${rangeMs.toFixed(2)} ms over the sweep, less than ${effects.length > 0 ? 'the significant effects' : 'the practical threshold'} (${yardstick!.toFixed(2)} ms)`;

  // Power: with these repetitions and this spread, the smallest difference of means a two-sided test at the
  // corrected level would detect 80 % of the time.
  const m = Math.max(1, comparisons.length);
  const power = METRICS.map((metric) => {
    const groups = levels.map((l) => values(byKey.get(l.key) ?? [], metric));
    const sd = pooledStandardDeviation(groups);
    const repeats = Math.min(...groups.map((g) => g.length));
    const alpha = o.alpha / m;
    const mde = Number.isFinite(sd) && repeats >= 2 ? minimumDetectableEffect(repeats, repeats, sd, { alpha }) : null;
    const base = results.find((r) => r.key === o.baselineKey)?.[metric]?.estimate ?? null;
    const unit = metric === 'timeouts' ? '' : ' ms';
    return {
      metric,
      repeats,
      sd: Number.isFinite(sd) ? sd : null,
      alpha,
      mde,
      mdeRelative: mde !== null && base ? mde / base : null,
      note:
        mde === null
          ? 'not enough repetitions to estimate the spread'
          : `with ${repeats} trials per level and a trial-to-trial SD of ${sd.toFixed(2)}${unit}, a difference smaller than ${mde.toFixed(2)}${unit}${base ? ` (${((mde / base) * 100).toFixed(0)} % of the baseline)` : ''} would likely go undetected (80 % power, α = ${o.alpha} / ${m} comparisons)`,
    };
  });

  return {
    levels: results,
    comparisons,
    recommendation,
    drift: { metric: 'p50', baselineTrials: points, rangeMs, slopeMsPerTrial: slope, flagged, note: driftNote },
    power,
    charts: {
      levels: results.map((r) => ({ key: r.key, value: r.value, p50: r.p50?.estimate ?? null, p50Lo: r.p50?.lo ?? null, p50Hi: r.p50?.hi ?? null, p99: r.p99?.estimate ?? null, p99Lo: r.p99?.lo ?? null, p99Hi: r.p99?.hi ?? null })),
      trials: [...complete].sort((a, b) => a.index - b.index).map((t) => ({ index: t.index, key: t.key, kind: t.kind, p50: t.summary.p50, p99: t.summary.p99 })),
    },
  };
}
