import { describe, expect, it } from 'vitest';
import {
  binomial,
  bootstrapCi,
  bootstrapDifferenceCi,
  compareSamples,
  holm,
  meanOf,
  medianOf,
  minimumDetectableEffect,
  minimumPermutationP,
  permutationTest,
  practicalLimit,
  welchTest,
} from '../../src/analysis/statistics.js';
import { createRng } from '../../src/core/prng.js';

describe('permutationTest', () => {
  it('enumerates every split exactly on a tiny case', () => {
    // 6 values, 20 splits; only the observed split and its mirror reach |mean difference| = 3.
    const r = permutationTest([1, 2, 3], [4, 5, 6], { stat: meanOf });
    expect(r.method).toBe('exact');
    expect(r.permutations).toBe(20);
    expect(r.effect).toBe(3);
    expect(r.pValue).toBeCloseTo(2 / 20, 12);
  });

  it('counts ties as extreme (2 of 6 splits of [1,2] vs [3,4])', () => {
    const r = permutationTest([1, 2], [3, 4], { stat: meanOf });
    expect(r.pValue).toBeCloseTo(2 / 6, 12);
    // {1,4} vs {2,3} and {1,3} vs {2,4}... only the two extreme splits have |diff| = 2.
  });

  it('gives p = 1 for identical groups', () => {
    expect(permutationTest([5, 5, 5], [5, 5, 5]).pValue).toBe(1);
  });

  it('samples (Monte Carlo) large cases, reproducibly, and finds a real shift', () => {
    const rng = createRng(7);
    const a = Array.from({ length: 40 }, () => rng());
    const b = Array.from({ length: 40 }, () => rng() + 0.5);
    const r1 = permutationTest(a, b, { seed: 3, iterations: 2000 });
    const r2 = permutationTest(a, b, { seed: 3, iterations: 2000 });
    expect(r1.method).toBe('monte-carlo');
    expect(r1.pValue).toBe(r2.pValue);
    expect(r1.pValue).toBeLessThan(0.01);
    expect(r1.pValue).toBeGreaterThan(0); // (count + 1) / (n + 1) never returns 0
  });
});

describe('bootstrapCi', () => {
  it('contains the true median of a known distribution', () => {
    // Exponential(1): median ln 2.
    const rng = createRng(11);
    const xs = Array.from({ length: 400 }, () => -Math.log(1 - rng()));
    const ci = bootstrapCi(xs, medianOf, { seed: 5 });
    expect(ci.level).toBe(0.95);
    expect(ci.lo).toBeLessThan(Math.LN2);
    expect(ci.hi).toBeGreaterThan(Math.LN2);
    expect(ci.hi - ci.lo).toBeLessThan(0.3);
    expect(ci.lo).toBeLessThanOrEqual(ci.estimate);
    expect(ci.hi).toBeGreaterThanOrEqual(ci.estimate);
  });

  it('covers the true median in about 95 % of repeated samples', () => {
    let covered = 0;
    const runs = 100;
    for (let s = 0; s < runs; s++) {
      const rng = createRng(1000 + s);
      const xs = Array.from({ length: 60 }, () => -Math.log(1 - rng()));
      const ci = bootstrapCi(xs, medianOf, { seed: s, iterations: 500 });
      if (ci.lo <= Math.LN2 && Math.LN2 <= ci.hi) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(85);
  });

  it('replays with the same seed and degenerates to the value for n = 1', () => {
    expect(bootstrapCi([1, 5, 2, 8, 3], medianOf, { seed: 9 })).toEqual(bootstrapCi([1, 5, 2, 8, 3], medianOf, { seed: 9 }));
    expect(bootstrapCi([4], medianOf)).toEqual({ estimate: 4, lo: 4, hi: 4, level: 0.95 });
  });

  it('difference CI excludes 0 for a clear shift', () => {
    const d = bootstrapDifferenceCi([10, 11, 12, 10, 11], [20, 21, 22, 20, 21], medianOf, { seed: 1 });
    expect(d.estimate).toBe(10);
    expect(d.lo).toBeGreaterThan(0);
  });

  it('rejects empty input', () => {
    expect(() => bootstrapCi([], medianOf)).toThrow(RangeError);
  });
});

describe('holm', () => {
  it('matches the textbook step-down adjustment', () => {
    // sorted: 0.005×4 = 0.02, 0.01×3 = 0.03, 0.03×2 = 0.06, 0.04×1 = 0.04 → monotone 0.06
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
    expect(adj[3]).toBeCloseTo(0.02, 12);
  });
  it('caps at 1 and handles empty input', () => {
    expect(holm([0.6, 0.7])).toEqual([1, 1]);
    expect(holm([])).toEqual([]);
  });
});

describe('welchTest', () => {
  it('matches R: t.test(1:5, c(2,4,6,8,10))', () => {
    const w = welchTest([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
    expect(w.t).toBeCloseTo(1.8974, 4);
    expect(w.df).toBeCloseTo(5.8824, 4);
    expect(w.pValue).toBeCloseTo(0.1075, 3);
    expect(w.effect).toBe(3);
    // R: 95 percent CI -0.8878 6.8878 (for b - a)
    expect(w.ci[0]).toBeCloseTo(-0.8878, 3);
    expect(w.ci[1]).toBeCloseTo(6.8878, 3);
  });
});

describe('minimumDetectableEffect', () => {
  it('approaches the normal formula for large groups', () => {
    // (1.95996 + 0.84162) × sqrt(2/1000)
    expect(minimumDetectableEffect(1000, 1000, 1)).toBeCloseTo(2.80158 * Math.sqrt(2 / 1000), 3);
  });
  it('is larger with fewer repetitions and Infinity when nothing can be estimated', () => {
    expect(minimumDetectableEffect(3, 3, 1)).toBeGreaterThan(minimumDetectableEffect(10, 10, 1));
    expect(minimumDetectableEffect(1, 1, 1)).toBe(Infinity);
  });
});

describe('compareSamples', () => {
  it('uses Welch at 3 + 3 trials, where a permutation test cannot reach 0.05', () => {
    expect(minimumPermutationP(3, 3)).toBeCloseTo(0.1, 12);
    const c = compareSamples([10, 10.2, 9.9], [20, 20.3, 19.8], { metric: 'p50', labels: ['x', 'y'] });
    expect(c.test).toBe('welch-t');
    expect(c.a).toBe('x');
    expect(c.significant).toBe(true);
    expect(c.practical).toBe(true);
    expect(c.ci[0]).toBeGreaterThan(0);
  });

  it('uses the exact permutation test at 5 + 5', () => {
    expect(binomial(10, 5)).toBe(252);
    const c = compareSamples([1, 2, 3, 4, 5], [11, 12, 13, 14, 15], { metric: 'p50', stat: meanOf });
    expect(c.test).toBe('permutation (exact)');
    expect(c.pValue).toBeCloseTo(2 / 252, 12);
    expect(c.significant).toBe(true);
  });

  it('calls a significant but tiny difference not practical', () => {
    const c = compareSamples([100, 100.1, 100.05], [100.5, 100.6, 100.55], { metric: 'p50' });
    expect(c.significant).toBe(true);
    expect(c.practical).toBe(false); // 0.5 ms < max(5 % of 100, 1 ms)
    expect(practicalLimit(100)).toBe(5);
    expect(practicalLimit(4)).toBe(1);
  });

  it('says identical levels do not differ', () => {
    const c = compareSamples([12, 13, 12.5], [12, 13, 12.5], { metric: 'p50' });
    expect(c.significant).toBe(false);
    expect(c.effect).toBe(0);
  });
});
