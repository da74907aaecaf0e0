/**
 * Every run of a study or sweep as one point: a figure (client p99, timeouts) per configuration,
 * one colour per request rate, so the spread between repetitions is visible next to the verdicts.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface RunPoint {
  key: string;
  rate: string;
  p99: number | null;
  timeouts: number | null;
}

export function runsSpec(points: readonly RunPoint[]): TopLevelSpec {
  const order = [...new Set(points.map((p) => p.key))];
  const width = Math.max(300, Math.min(760, order.length * 60));
  const x = { field: 'key', type: 'nominal' as const, sort: order, title: 'configuration', axis: { labelAngle: -30, labelLimit: 180 } };
  const oneRate = new Set(points.map((p) => p.rate)).size <= 1;
  const color = { field: 'rate', type: 'nominal' as const, title: 'target rate (req/s)', legend: oneRate ? null : {} };
  const p99 = points.filter((p) => p.p99 !== null);
  const positives = p99.map((p) => p.p99 as number).filter((v) => v > 0);
  const log = positives.length > 0 && Math.max(...positives) / Math.max(0.1, Math.min(...positives)) > 30;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: [
      {
        width,
        height: 200,
        title: { text: 'Client p99 of each run (ms)', subtitle: `one point per run, load generator, measured window${log ? '; log scale' : ''}` },
        data: { values: p99 },
        mark: { type: 'point', filled: true, size: 55, opacity: 0.85 },
        encoding: { x, xOffset: { field: 'rate', type: 'nominal' }, y: { field: 'p99', type: 'quantitative', title: 'client p99 (ms)', scale: log ? { type: 'log' } : { zero: true } }, color },
      },
      {
        width,
        height: 120,
        title: { text: 'Timeouts of each run', subtitle: 'one point per run, load generator (client timeout), measured window' },
        data: { values: points.filter((p) => p.timeouts !== null) },
        mark: { type: 'point', filled: true, size: 55, opacity: 0.85 },
        encoding: { x, xOffset: { field: 'rate', type: 'nominal' }, y: { field: 'timeouts', type: 'quantitative', title: 'timeouts', axis: { format: ',~r', tickMinStep: 1 }, scale: points.every((p) => !p.timeouts) ? { domain: [0, 1] } : { zero: true } }, color },
      },
    ],
  } as TopLevelSpec;
}
