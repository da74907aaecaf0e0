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
  const order = [...new Set(points.map((p) => p.level))];
  const rows = points.map((p) => ({ ...p, kind: p.baseline ? 'baseline' : 'level' }));
  const withCi = rows.filter((p) => p.lo !== null && p.hi !== null);
  const withEstimate = rows.filter((p) => p.estimate !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(240, Math.min(760, order.length * 70)),
    height: 200,
    title: { text: options.title, subtitle: options.subtitle },
    layer: [
      {
        data: { values: withCi },
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: {
          x: { field: 'level', type: 'nominal', sort: order, title: options.xTitle ?? 'level', axis: { labelAngle: -30, labelLimit: 160 } },
          y: { field: 'lo', type: 'quantitative', title: options.yTitle },
          y2: { field: 'hi' },
          color: { field: 'factor', type: 'nominal', title: 'factor' },
        },
      },
      {
        data: { values: withEstimate },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: 'level', type: 'nominal', sort: order },
          y: { field: 'estimate', type: 'quantitative' },
          color: { field: 'factor', type: 'nominal' },
          shape: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['baseline', 'level'], range: ['diamond', 'circle'] } },
        },
      },
    ],
  } as TopLevelSpec;
}
