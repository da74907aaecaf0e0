import { describe, expect, it } from 'vitest';
import { differenceSigma, halfSampleMode, mannWhitneyGreater, rateLower, spearman } from '../../src/analysis/robust-stats.ts';

describe('robust statistics of the spike analysis', () => {
  it('half-sample mode finds the dense level even when most values are a spread-out ramp', () => {
    const normal = [20, 21, 19, 20, 22, 20, 21, 19, 20, 20];
    const ramp = Array.from({ length: 30 }, (_, i) => 30 + i * 30);
    expect(halfSampleMode([...normal, ...ramp])!).toBeGreaterThanOrEqual(19);
    expect(halfSampleMode([...normal, ...ramp])!).toBeLessThanOrEqual(22);
    expect(halfSampleMode([])).toBeNull();
    expect(halfSampleMode([5])).toBe(5);
  });

  it('the MAD of first differences ignores a trend and a level shift', () => {
    const jitter = [0, 0.1, -0.1, 0.05, -0.05, 0.1, 0, -0.1, 0.05, 0];
    const flat = jitter.map((j) => 3 + j);
    const trend = jitter.map((j, i) => 3 + i * 0.5 + j);
    expect(differenceSigma(trend)!).toBeCloseTo(differenceSigma(flat)!, 6);
  });

  it('Spearman ρ is 1 for any increasing relation and null for a constant series', () => {
    expect(spearman([1, 2, 3, 4, 5, 6], [1, 4, 9, 16, 25, 36])).toBeCloseTo(1, 9);
    expect(spearman([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])).toBeNull();
  });

  it('Mann-Whitney: clearly greater → small p; same distribution → large p', () => {
    const a = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11];
    const b = a.map((x) => x + 20);
    expect(mannWhitneyGreater(a, b)!.pValue).toBeLessThan(0.001);
    expect(mannWhitneyGreater(a, b)!.probabilityBGreater).toBe(1);
    expect(mannWhitneyGreater(a, [...a])!.pValue).toBeGreaterThan(0.3);
    expect(mannWhitneyGreater([1], [2, 3, 4])).toBeNull();
  });

  it('rate test: 0 vs 6 events in equal time is significant, 0 vs 1 is not', () => {
    expect(rateLower(0, 120, 6, 120)!.pValue).toBeCloseTo(1 / 64, 6);
    expect(rateLower(0, 120, 1, 120)!.pValue).toBeCloseTo(0.5, 6);
    expect(rateLower(5, 100, 5, 100)!.pValue).toBeGreaterThan(0.5);
    expect(rateLower(0, 0, 5, 100)).toBeNull();
  });
});
