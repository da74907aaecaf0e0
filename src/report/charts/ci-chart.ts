/**
 * A metric per level with its confidence interval: a point at the estimate, an error bar from lo to
 * hi, levels in the order they were run, one colour per factor. Used for sweep curves and for the
 * study's configurations.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface CiPoint {
  level: string;
  factor: string;
  estimate: number | null;
  lo: number | null;
  hi: number | null;
  baseline: boolean;
}

export function ciSpec(points: readonly CiPoint[], options: { title: string; subtitle: string; yTitle: string; xTitle?: string }): TopLevelSpec {
  // The baseline is named on the axis: a marker shape alone is easy to miss.
  const label = (p: CiPoint) => (p.baseline ? `${p.level} (baseline)` : p.level);
  const order = [...new Set(points.map(label))];
  const rows = points.map((p) => ({ ...p, level: label(p) }));
  const withCi = rows.filter((p) => p.lo !== null && p.hi !== null);
  const withEstimate = rows.filter((p) => p.estimate !== null);
  const oneFactor = new Set(points.map((p) => p.factor)).size <= 1;
  const top = Math.max(0, ...rows.flatMap((p) => [p.estimate ?? 0, p.hi ?? 0]));
  // All zeros (no timeouts anywhere) would collapse the axis to one tick.
  const yScale = top === 0 ? { domain: [0, 1] } : { zero: true };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(360, Math.min(760, order.length * 70)),
    height: 200,
    title: { text: options.title, subtitle: options.subtitle },
    layer: [
      {
        data: { values: withCi },
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: {
          x: { field: 'level', type: 'nominal', sort: order, title: options.xTitle ?? 'level', axis: { labelAngle: -30, labelLimit: 240 } },
          y: { field: 'lo', type: 'quantitative', title: options.yTitle, scale: yScale, axis: { format: ',~r' } },
          y2: { field: 'hi' },
          color: { field: 'factor', type: 'nominal', title: 'factor', legend: oneFactor ? null : {} },
        },
      },
      {
        data: { values: withEstimate },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x: { field: 'level', type: 'nominal', sort: order },
          y: { field: 'estimate', type: 'quantitative', scale: yScale, axis: { format: ',~r' } },
          color: { field: 'factor', type: 'nominal', legend: oneFactor ? null : {} },
        },
      },
    ],
  } as TopLevelSpec;
}
