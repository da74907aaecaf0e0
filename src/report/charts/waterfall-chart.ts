/**
 * The latency split of each endpoint as a waterfall: the disjoint parts (DB execution, network +
 * protocol, pool wait, app overhead, client / transport), each starting where the previous ended,
 * then the measured client mean they add up to. Colour says where each part was measured.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface WaterfallStep {
  endpoint: string;
  /** Row label, e.g. "DB execution". */
  part: string;
  /** database | service | derived | client | total. */
  where: string;
  start: number;
  end: number;
  ms: number;
  order: number;
}

export const WHERE_COLOURS: Record<string, string> = {
  'database (pg_stat_statements)': '#4c78a8',
  'service (Server-Timing)': '#f58518',
  'derived (a difference)': '#bab0ac',
  'client (load generator)': '#54a24b',
};

export function waterfallSpec(steps: readonly WaterfallStep[]): TopLevelSpec {
  const parts = [...new Map(steps.map((s) => [s.part, s.order])).entries()].sort((a, b) => a[1] - b[1]).map(([p]) => p);
  const rows = steps.map((s) => ({ ...s, lo: Math.min(s.start, s.end), hi: Math.max(s.start, s.end), label: `${s.ms.toFixed(2)} ms` }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: rows },
    facet: { row: { field: 'endpoint', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold' } } },
    spec: {
      width: 620,
      height: { step: 16 },
      layer: [
        {
          mark: { type: 'bar', height: { band: 0.75 } },
          encoding: {
            y: { field: 'part', type: 'nominal', sort: parts, title: null },
            x: { field: 'lo', type: 'quantitative', title: 'ms (mean per request)' },
            x2: { field: 'hi' },
            color: {
              field: 'where',
              type: 'nominal',
              title: 'measured at',
              scale: { domain: Object.keys(WHERE_COLOURS), range: Object.values(WHERE_COLOURS) },
            },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 3, fontSize: 10, color: '#333' },
          encoding: {
            y: { field: 'part', type: 'nominal', sort: parts },
            x: { field: 'hi', type: 'quantitative' },
            text: { field: 'label' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  } as TopLevelSpec;
}
