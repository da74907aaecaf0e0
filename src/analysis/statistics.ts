/**
 * Statistics for comparing trials: bootstrap confidence intervals, permutation tests (Welch's t where a
 * permutation test cannot reach the significance level), Holm's correction, a practical threshold, and the
 * smallest effect a set of repetitions could have detected.
 *
 * The unit of replication is the TRIAL, not the request: requests within one run share the same warm
 * caches, the same autovacuum timing and the same background noise, so treating 30,000 requests as
 * 30,000 independent samples is how a tool "finds" a 14 ms difference in noise. Callers pass one value
 * per trial (its p50, its p99, its timeouts).
 *
 * Every random draw comes from the seeded PRNG (src/core/prng.ts) so a result replays exactly.
 * Distributions: simple-statistics (quantiles, sample SD, normal quantile) and jStat (Student's t, which
 * simple-statistics lacks).
 */
import jstatPkg from 'jstat';
import { mean, median, quantileSorted, sampleStandardDeviation, sampleVariance } from 'simple-statistics';
import { createRng, type Rng } from '../core/prng.js';

const { jStat } = jstatPkg;

export type Statistic = (xs: readonly number[]) => number;

export interface Estimate {
  estimate: number;
  lo: number;
  hi: number;
  level: number;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  iterations?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  seed?: number;
}

export const medianOf: Statistic = (xs) => median([...xs]);
export const meanOf: Statistic = (xs) => mean([...xs]);

function resample(values: readonly number[], rng: Rng): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[Math.floor(rng() * values.length)]!;
  return out;
}

function requireValues(values: readonly number[], what: string): void {
  if (values.length === 0) throw new RangeError(`${what}: no values`);
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`${what}: non-finite value ${v}`);
}

/**
 * Percentile bootstrap CI of `stat`. With one value the interval is that value (nothing to resample):
 * callers report n next to the interval so a degenerate CI is not mistaken for a precise one.
 */
export function bootstrapCi(values: readonly number[], stat: Statistic, options: BootstrapOptions = {}): Estimate {
  requireValues(values, 'bootstrapCi');
  const iterations = options.iterations ?? 2000;
  const level = options.level ?? 0.95;
  const estimate = stat(values);
  if (values.length === 1) return { estimate, lo: estimate, hi: estimate, level };
  const rng = createRng(options.seed ?? 1);
  const draws = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) draws[i] = stat(resample(values, rng));
  draws.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return { estimate, lo: quantileSorted(draws, tail), hi: quantileSorted(draws, 1 - tail), level };
}

/** Bootstrap CI of stat(b) - stat(a), resampling each group on its own. */
export function bootstrapDifferenceCi(
  a: readonly number[],
  b: readonly number[],
  stat: Statistic,
  options: BootstrapOptions = {},
): Estimate {
  requireValues(a, 'bootstrapDifferenceCi(a)');
  requireValues(b, 'bootstrapDifferenceCi(b)');
  const iterations = options.iterations ?? 2000;
  const level = options.level ?? 0.95;
  const estimate = stat(b) - stat(a);
  const rng = createRng(options.seed ?? 1);
  const draws = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) draws[i] = stat(resample(b, rng)) - stat(resample(a, rng));
  draws.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return { estimate, lo: quantileSorted(draws, tail), hi: quantileSorted(draws, 1 - tail), level };
}

export interface PermutationOptions {
  stat?: Statistic;
  /** Random relabellings when the exact enumeration is larger than this (default 10,000). */
  iterations?: number;
  seed?: number;
}

export interface PermutationResult {
  /** Two-sided: the share of relabellings whose |effect| is at least the observed |effect|. */
  pValue: number;
  /** stat(b) - stat(a). */
  effect: number;
  /** 'exact' enumerates every split of the pooled values; 'monte-carlo' samples them. */
  method: 'exact' | 'monte-carlo';
  /** Number of splits enumerated or sampled. */
  permutations: number;
}

/** n choose k, as a float (exact for the sizes where enumeration is considered). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - Math.min(k, n - k) + i)) / i;
  return Math.round(r);
}

/** Every k-subset of [0, n), in lexicographic order. */
function* combinations(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield idx;
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

// Floating-point slack so that a relabelling whose effect equals the observed one counts as "as extreme".
const EPS = 1e-9;

/**
 * Two-sided permutation test of stat(b) - stat(a). Exact (every split enumerated) when there are at most
 * `iterations` splits; otherwise Monte Carlo with the (count + 1) / (iterations + 1) estimator, which
 * never returns 0.
 */
export function permutationTest(
  a: readonly number[],
  b: readonly number[],
  options: PermutationOptions = {},
): PermutationResult {
  requireValues(a, 'permutationTest(a)');
  requireValues(b, 'permutationTest(b)');
  const stat = options.stat ?? medianOf;
  const iterations = options.iterations ?? 10_000;
  const effect = stat(b) - stat(a);
  const observed = Math.abs(effect);
  const pooled = [...a, ...b];
  const n = pooled.length;
  const splits = binomial(n, a.length);
  if (splits <= iterations) {
    let extreme = 0;
    const inA = new Array<boolean>(n);
    for (const pick of combinations(n, a.length)) {
      inA.fill(false);
      for (const i of pick) inA[i] = true;
      const xa: number[] = [];
      const xb: number[] = [];
      for (let i = 0; i < n; i++) (inA[i] ? xa : xb).push(pooled[i]!);
      if (Math.abs(stat(xb) - stat(xa)) >= observed - EPS) extreme++;
    }
    return { pValue: extreme / splits, effect, method: 'exact', permutations: splits };
  }
  const rng = createRng(options.seed ?? 1);
  const work = [...pooled];
  let extreme = 0;
  for (let it = 0; it < iterations; it++) {
    // Fisher-Yates on the first |a| positions is enough to draw a random split.
    for (let i = 0; i < a.length; i++) {
      const j = i + Math.floor(rng() * (n - i));
      const t = work[i]!;
      work[i] = work[j]!;
      work[j] = t;
    }
    if (Math.abs(stat(work.slice(a.length)) - stat(work.slice(0, a.length))) >= observed - EPS) extreme++;
  }
  return { pValue: (extreme + 1) / (iterations + 1), effect, method: 'monte-carlo', permutations: iterations };
}

export interface WelchResult {
  t: number;
  df: number;
  pValue: number;
  /** mean(b) - mean(a). */
  effect: number;
  ci: [number, number];
}

/** Welch's unequal-variance t-test of mean(b) - mean(a), two-sided, with its CI at `level`. */
export function welchTest(a: readonly number[], b: readonly number[], level = 0.95): WelchResult {
  if (a.length < 2 || b.length < 2) throw new RangeError('welchTest: each group needs at least 2 values');
  const va = sampleVariance([...a]) / a.length;
  const vb = sampleVariance([...b]) / b.length;
  const effect = mean([...b]) - mean([...a]);
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    // Both groups constant: the difference is known exactly.
    return { t: effect === 0 ? 0 : Infinity, df: a.length + b.length - 2, pValue: effect === 0 ? 1 : 0, effect, ci: [effect, effect] };
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const t = effect / se;
  const pValue = Math.min(1, 2 * (1 - (jStat.studentt.cdf(Math.abs(t), df))));
  const q = jStat.studentt.inv(1 - (1 - level) / 2, df);
  return { t, df, pValue, effect, ci: [effect - q * se, effect + q * se] };
}

/**
 * Holm's step-down adjustment: sort p ascending, multiply the i-th (0-based) by (m - i), keep the sequence
 * monotone, cap at 1. Returned in the input's order. Controls the family-wise error rate without assuming
 * independence between the comparisons (they share a baseline, so they are not independent).
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

export interface MdeOptions {
  alpha?: number;
  power?: number;
}

/**
 * The smallest true difference in means that a two-sided two-sample test with these group sizes and this
 * spread would detect with probability `power` (default 0.8) at `alpha` (default 0.05):
 * (t(1-α/2, df) + t(power, df)) × sd × sqrt(1/nA + 1/nB), df = nA + nB - 2. With fewer than two values in
 * a group (no spread can be estimated) it is Infinity: nothing could have been detected reliably.
 */
export function minimumDetectableEffect(nA: number, nB: number, sd: number, options: MdeOptions = {}): number {
  const alpha = options.alpha ?? 0.05;
  const power = options.power ?? 0.8;
  const df = nA + nB - 2;
  if (nA < 1 || nB < 1 || df < 1 || !Number.isFinite(sd)) return Infinity;
  const q = (jStat.studentt.inv(1 - alpha / 2, df)) + (jStat.studentt.inv(power, df));
  return q * sd * Math.sqrt(1 / nA + 1 / nB);
}

/** Pooled sample SD of groups (each with ≥ 2 values), the spread the MDE is computed from. */
export function pooledStandardDeviation(groups: ReadonlyArray<readonly number[]>): number {
  let ss = 0;
  let df = 0;
  for (const g of groups) {
    if (g.length < 2) continue;
    ss += sampleVariance([...g]) * (g.length - 1);
    df += g.length - 1;
  }
  return df === 0 ? NaN : Math.sqrt(ss / df);
}

export interface Threshold {
  /** Relative to stat(a) (default 0.05). */
  relative: number;
  /** In the metric's own unit (default 1, i.e. 1 ms for latencies). */
  absoluteMs: number;
}

export const DEFAULT_THRESHOLD: Readonly<Threshold> = Object.freeze({ relative: 0.05, absoluteMs: 1 });

/** A difference is practical when it exceeds BOTH 5 % of the reference and 1 ms (by default). */
export function practicalLimit(reference: number, threshold: Threshold = DEFAULT_THRESHOLD): number {
  return Math.max(Math.abs(reference) * threshold.relative, threshold.absoluteMs);
}

export type TestName = 'permutation (exact)' | 'permutation (monte-carlo)' | 'welch-t';

export interface Comparison {
  a: string;
  b: string;
  metric: string;
  /** Which test produced pValue; see compareSamples. */
  test: TestName;
  pValue: number;
  /** stat(b) - stat(a) for permutation tests, mean(b) - mean(a) for Welch. */
  effect: number;
  /** CI of the effect: bootstrap for permutation, t-interval for Welch. */
  ci: [number, number];
  /** pValue < alpha (callers correcting for multiple comparisons overwrite this with the adjusted p). */
  significant: boolean;
  /** |effect| ≥ practicalLimit(stat(a)). */
  practical: boolean;
}

export interface CompareOptions {
  metric: string;
  threshold?: Threshold;
  seed?: number;
  alpha?: number;
  /** Labels of the two groups (default 'a', 'b'). */
  labels?: [string, string];
  stat?: Statistic;
}

/** Smallest p-value an exact two-sided permutation test can return with these group sizes. */
export function minimumPermutationP(nA: number, nB: number): number {
  return 2 / binomial(nA + nB, nA);
}

/**
 * Compares trial-level values of two levels. The permutation test (on the median) is used when it can
 * reach `alpha` at these group sizes — it assumes nothing about the distribution. With 3 + 3 trials there
 * are only 20 splits, so its smallest two-sided p is 0.1 and it could never say "significant"; there
 * Welch's t-test on the means is used instead, which assumes roughly normal trial-level values (each is a
 * median or p99 over thousands of requests). `test` says which one ran.
 */
export function compareSamples(a: readonly number[], b: readonly number[], options: CompareOptions): Comparison {
  requireValues(a, 'compareSamples(a)');
  requireValues(b, 'compareSamples(b)');
  const alpha = options.alpha ?? 0.05;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const [la, lb] = options.labels ?? ['a', 'b'];
  const seed = options.seed ?? 1;
  const stat = options.stat ?? medianOf;
  const canPermute = minimumPermutationP(a.length, b.length) <= alpha;
  let test: TestName;
  let pValue: number;
  let effect: number;
  let ci: [number, number];
  let reference: number;
  if (canPermute || a.length < 2 || b.length < 2) {
    const p = permutationTest(a, b, { stat, seed });
    const d = bootstrapDifferenceCi(a, b, stat, { seed });
    test = p.method === 'exact' ? 'permutation (exact)' : 'permutation (monte-carlo)';
    pValue = p.pValue;
    effect = p.effect;
    ci = [d.lo, d.hi];
    reference = stat(a);
  } else {
    const w = welchTest(a, b, 1 - alpha);
    test = 'welch-t';
    pValue = w.pValue;
    effect = w.effect;
    ci = w.ci;
    reference = mean([...a]);
  }
  return {
    a: la,
    b: lb,
    metric: options.metric,
    test,
    pValue,
    effect,
    ci,
    significant: pValue < alpha,
    practical: Math.abs(effect) >= practicalLimit(reference, threshold),
  };
}

/** SD of one group, NaN below two values (kept here so callers need not import simple-statistics). */
export function standardDeviation(values: readonly number[]): number {
  return values.length < 2 ? NaN : sampleStandardDeviation([...values]);
}
