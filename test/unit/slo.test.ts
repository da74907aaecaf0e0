import { describe, expect, it } from 'vitest';
import { evaluateSlo, parseSlo } from '../../src/analysis/slo.ts';
import { emptyCounters } from '../../src/load/latency-recorder.ts';
import type { EncodedHistogram } from '../../src/load/histogram.ts';

const latency = { unit: 'ms', count: 100, mean: 20, stddev: 5, min: 1, p50: 18, p90: 30, p99: 150, p999: 300, max: 400, hdr: null, sumSquares: 0 } as EncodedHistogram;

describe('--slo', () => {
  it('parses terms with units and rejects nonsense with BAD_FLAG', () => {
    expect(parseSlo('p99<200ms, errors<0.1%,timeouts=0, max<=1s')).toMatchObject([
      { metric: 'p99', op: '<', value: 200 },
      { metric: 'errors', op: '<', value: 0.001, percent: true },
      { metric: 'timeouts', op: '=', value: 0 },
      { metric: 'max', op: '<=', value: 1000 },
    ]);
    for (const bad of ['', 'p99', 'p99<fast', 'p42<1ms', 'errors<3ms', 'p99<5%']) expect(() => parseSlo(bad)).toThrow(/--slo/);
  });

  it('evaluates against the measured window: errors are 5xx + transport, 4xx are rejections', () => {
    const counters = { ...emptyCounters(), sent: 1000, http4xx: 50, http5xx: 1, transportErrors: 0, timeouts: 2 };
    const v = evaluateSlo(parseSlo('p99<200ms,errors<0.2%,timeouts=0,rejections<10%'), { latency, counters, achievedRate: 300 });
    expect(v.map((x) => [x.metric, x.ok])).toEqual([
      ['p99', true],
      ['errors', true],
      ['timeouts', false],
      ['rejections', true],
    ]);
    expect(v[2]!.actual).toBe(2);
  });
});
