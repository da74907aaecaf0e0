/**
 * Robust location / scale and small tests used by the spike analysis, on simple-statistics.
 *
 * Why these and not mean / stddev: a run's per-second latency has a normal regime and excursions
 * (the spikes themselves, or a degradation that lasts most of the run). The half-sample mode finds
 * the densest level even when the excursions are the majority, and the MAD of first differences
 * measures second-to-second noise without being inflated by a slow trend or a level shift.
 */
import * as ss from 'simple-statistics';

/** Standard normal CDF from the error function (simple-statistics' table lookup stops at |z| = 3.09). */
export function normalCdf(z: number): number {
  return 0.5 * (1 + ss.errorFunction(z / Math.SQRT2));
}

/** The consistency constant that makes a MAD estimate a normal distribution's sigma. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * Half-sample mode (Bickel & Frühwirth 2006): repeatedly keep the half of the sorted values with
 * the smallest range; the level where most values sit. Returns null for no values.
 */
export function halfSampleMode(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let y = [...values].sort((a, b) => a - b);
  while (y.length > 3) {
    const h = Math.ceil(y.length / 2);
    let best = 0;
    let bestWidth = Number.POSITIVE_INFINITY;
    for (let i = 0; i + h - 1 < y.length; i++) {
      const width = y[i + h - 1]! - y[i]!;
      if (width < bestWidth) {
        bestWidth = width;
        best = i;
      }
    }
    y = y.slice(best, best + h);
  }
  if (y.length === 3) {
    const [a, b, c] = y as [number, number, number];
    if (b - a < c - b) return (a + b) / 2;
    if (b - a > c - b) return (b + c) / 2;
    return b;
  }
  return ss.mean(y);
}

/** Noise sigma from the MAD of first differences (÷√2: a difference carries two values' noise). */
export function differenceSigma(values: readonly number[]): number | null {
  if (values.length < 3) return null;
  const diffs = values.slice(1).map((v, i) => v - values[i]!);
  return (MAD_TO_SIGMA * ss.medianAbsoluteDeviation(diffs)) / Math.SQRT2;
}

/** Spearman rank correlation; null when fewer than 5 pairs or a series is constant. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length || x.length < 5) return null;
  if (ss.min(x as number[]) === ss.max(x as number[]) || ss.min(y as number[]) === ss.max(y as number[])) return null;
  const r = ss.sampleRankCorrelation(x as number[], y as number[]);
  return Number.isFinite(r) ? r : null;
}

export interface MannWhitneyResult {
  test: 'Mann-Whitney U (normal approximation, tie-corrected), one-sided';
  u: number;
  z: number;
  /** P(a value of `a` is stochastically smaller than of `b`) under H0: no difference. */
  pValue: number;
  /** Probability that a random value of `b` exceeds one of `a` (ties count half): the effect size. */
  probabilityBGreater: number;
}

/** One-sided Mann-Whitney U: is `b` stochastically greater than `a`? Null with fewer than 3 values per side. */
export function mannWhitneyGreater(a: readonly number[], b: readonly number[]): MannWhitneyResult | null {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 < 3 || n2 < 3) return null;
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((p, q) => p.v - q.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let rankSumB = 0;
  all.forEach((x, i) => {
    if (x.g === 1) rankSumB += ranks[i]!;
  });
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mu - 0.5) / Math.sqrt(variance) : 0;
  return {
    test: 'Mann-Whitney U (normal approximation, tie-corrected), one-sided',
    u,
    z,
    pValue: variance > 0 ? 1 - normalCdf(z) : 1,
    probabilityBGreater: u / (n1 * n2),
  };
}

export interface RateTestResult {
  test: 'conditional binomial test of two Poisson rates, one-sided';
  /** Events per unit of exposure. */
  rateA: number;
  rateB: number;
  /** P(as few events in `a` or fewer | the total, equal rates). */
  pValue: number;
}

/**
 * Are events rarer in `a` than in `b`? Given the total count, `a`'s count is binomial with
 * p = exposureA / (exposureA + exposureB) when the rates are equal; the p-value is its lower tail.
 */
export function rateLower(countA: number, exposureA: number, countB: number, exposureB: number): RateTestResult | null {
  if (!(exposureA > 0 && exposureB > 0)) return null;
  const total = countA + countB;
  const p = exposureA / (exposureA + exposureB);
  let pValue = 1;
  if (total > 0) {
    const dist = total <= 1000 ? (ss.binomialDistribution(total, p) as number[] | undefined) : undefined;
    if (dist) {
      pValue = Math.min(1, dist.slice(0, countA + 1).reduce((s, x) => s + x, 0));
    } else {
      // Large counts: the normal approximation (binomialDistribution enumerates every outcome).
      const sd = Math.sqrt(total * p * (1 - p));
      pValue = sd > 0 ? normalCdf((countA + 0.5 - total * p) / sd) : 1;
    }
  }
  return { test: 'conditional binomial test of two Poisson rates, one-sided', rateA: countA / exposureA, rateB: countB / exposureB, pValue };
}
