/**
 * The capacity search: each step's target rate against its client p99, marked held or missed, with
 * the SLO's p99 limit and the highest rate held.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface CapacityStep {
  rate: number;
  p99: number | null;
  achievedRate: number | null;
  timeouts: number | null;
  held: boolean | null;
}

export function capacitySpec(steps: readonly CapacityStep[], options: { p99LimitMs: number | null; maxRate: number | null }): TopLevelSpec {
  const rows = steps
    .filter((s) => s.p99 !== null)
    .map((s) => ({ ...s, outcome: s.held === null ? 'unknown' : s.held ? 'held' : 'missed' }))
    .sort((a, b) => a.rate - b.rate);
  const outcomes = ['held', 'missed', 'unknown'].filter((o) => o !== 'unknown' || rows.some((r) => r.outcome === 'unknown'));
  const positives = rows.map((r) => r.p99 as number).filter((v) => v > 0);
  const log = positives.length > 0 && Math.max(...positives) / Math.max(0.1, Math.min(...positives)) > 30;
  const x = { field: 'rate', type: 'quantitative' as const, title: 'target rate (req/s)' };
  const achieved = steps.filter((s) => s.achievedRate !== null).map((s) => ({ rate: s.rate, achieved: s.achievedRate }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: [
      {
        width: 620,
        height: 220,
        title: { text: 'Client p99 at each step of the search (ms)', subtitle: `load generator, measured window of each step${log ? '; log scale' : ''}` },
        layer: [
          { data: { values: rows }, mark: { type: 'line', color: '#bbb' }, encoding: { x, y: { field: 'p99', type: 'quantitative', title: 'client p99 (ms)', scale: log ? { type: 'log' } : { zero: true } } } },
          {
            data: { values: rows },
            mark: { type: 'point', filled: true, size: 80 },
            encoding: {
              x,
              y: { field: 'p99', type: 'quantitative' },
              color: { field: 'outcome', type: 'nominal', title: 'step', scale: { domain: outcomes, range: ['#54a24b', '#e45756', '#999'] } },
              shape: { field: 'outcome', type: 'nominal', scale: { domain: outcomes, range: ['circle', 'cross', 'square'] } },
            },
          },
          ...(options.p99LimitMs === null
            ? []
            : [{ data: { values: [{ p99: options.p99LimitMs }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#e45756' }, encoding: { y: { field: 'p99', type: 'quantitative' } } }]),
          ...(options.maxRate === null
            ? []
            : [{ data: { values: [{ rate: options.maxRate }] }, mark: { type: 'rule', strokeDash: [2, 2], color: '#54a24b' }, encoding: { x: { field: 'rate', type: 'quantitative' } } }]),
        ],
      },
      ...(achieved.length === 0
        ? []
        : [
            {
              width: 620,
              height: 140,
              title: { text: 'Achieved rate at each step (req/s)', subtitle: 'requests sent per second of the measured window — load generator; the dashed line is achieved = target' },
              layer: [
                { data: { values: achieved }, mark: { type: 'line', point: true, color: '#4c78a8' }, encoding: { x, y: { field: 'achieved', type: 'quantitative', title: 'achieved (req/s)' } } },
                {
                  data: { values: achieved.map((a) => ({ rate: a.rate, achieved: a.rate })) },
                  mark: { type: 'line', strokeDash: [4, 3], color: '#999' },
                  encoding: { x, y: { field: 'achieved', type: 'quantitative' } },
                },
              ],
            },
          ]),
    ],
  } as TopLevelSpec;
}
