/**
 * The per-second timeline of a run: client p50/p99, request rate, and timeouts/errors, one panel
 * each over the same seconds, with the detected spikes as shaded bands on every panel.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface TimelineSecond {
  second: number;
  p50: number | null;
  p99: number | null;
  sent: number;
  completed: number;
  timeouts: number;
  errors: number;
  dropped: number;
}

export interface TimelineBand {
  label: string;
  from: number;
  /** Exclusive end second. */
  to: number;
}

/** What the observer sampled on one node, placed on the same seconds (samples every --sample-interval, 500 ms by default). */
export interface TimelineDb {
  node: string;
  /** GIN pending-list tuples per index. */
  gin: Array<{ second: number; index: string; tuples: number }>;
  /** Backends of the service's pools by what they were doing, and maintenance workers. */
  backends: Array<{ second: number; series: string; count: number }>;
}

const WIDTH = 760;

export function timelineSpec(seconds: readonly TimelineSecond[], bands: readonly TimelineBand[], options: { thresholdMs: number | null; db?: TimelineDb | null }): TopLevelSpec {
  // Second n covers [n, n+1): its figures sit at the middle, spike bands span whole seconds.
  const lat = seconds.flatMap((s) => [
    ...(s.p50 === null ? [] : [{ second: s.second + 0.5, series: 'p50', ms: s.p50 }]),
    ...(s.p99 === null ? [] : [{ second: s.second + 0.5, series: 'p99', ms: s.p99 }]),
  ]);
  const rate = seconds.flatMap((s) => [
    { second: s.second + 0.5, series: 'sent', perSecond: s.sent },
    { second: s.second + 0.5, series: 'completed', perSecond: s.completed },
  ]);
  const bad = seconds.flatMap((s) => [
    { second: s.second + 0.5, series: 'timeouts', count: s.timeouts },
    { second: s.second + 0.5, series: 'errors (5xx + transport)', count: s.errors },
    { second: s.second + 0.5, series: 'dropped (concurrency cap)', count: s.dropped },
  ]);
  const positives = lat.map((d) => d.ms).filter((v) => v > 0);
  // A spike of 1 s timeouts flattens a 10 ms baseline on a linear axis: switch to log when the range is wide.
  const log = positives.length > 0 && Math.max(...positives) / Math.max(0.1, Math.min(...positives)) > 50;
  const xMax = seconds.length > 0 ? Math.max(...seconds.map((s) => s.second)) + 1 : 1;
  const x = { field: 'second', type: 'quantitative' as const, title: 'second of the measured window', scale: { domain: [0, xMax], nice: false }, axis: { format: 'd', tickMinStep: 1 } };
  const bandData = bands.map((b) => ({ ...b, mid: (b.from + b.to) / 2 }));
  const bandLayers = bandData.length === 0
    ? []
    : [
        {
          data: { values: bandData },
          mark: { type: 'rect' as const, color: '#f4b183', opacity: 0.35 },
          encoding: { x: { field: 'from', type: 'quantitative' as const }, x2: { field: 'to' } },
        },
      ];
  const bandLabels = bandData.length === 0
    ? []
    : [
        {
          data: { values: bandData },
          mark: { type: 'text' as const, baseline: 'top' as const, dy: 2, fontSize: 10, color: '#9c4a00', y: 0 },
          encoding: { x: { field: 'mid', type: 'quantitative' as const }, text: { field: 'label' } },
        },
      ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: [
      {
        width: WIDTH,
        height: 180,
        title: { text: 'Client latency per second (ms)', subtitle: `p50 and p99 of the responses completed in each second — load generator, from the intended send time${log ? '; log scale' : ''}` },
        layer: [
          ...bandLayers,
          {
            data: { values: lat },
            mark: { type: 'line' as const, point: seconds.length <= 30, strokeWidth: 1.5 },
            encoding: {
              x,
              y: { field: 'ms', type: 'quantitative' as const, title: 'ms', scale: log ? { type: 'log' as const } : { zero: true } },
              color: { field: 'series', type: 'nominal' as const, title: 'client latency', scale: { domain: ['p50', 'p99'], range: ['#4c78a8', '#e45756'] } },
            },
          },
          ...(options.thresholdMs === null
            ? []
            : [
                {
                  data: { values: [{ ms: options.thresholdMs, label: `spike threshold ${Math.round(options.thresholdMs)} ms` }] },
                  mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#999' },
                  encoding: { y: { field: 'ms', type: 'quantitative' as const } },
                },
              ]),
          ...bandLabels,
        ],
      },
      {
        width: WIDTH,
        height: 110,
        title: { text: 'Requests per second', subtitle: 'sent and completed (any status) per second — load generator' },
        layer: [
          ...bandLayers,
          {
            data: { values: rate },
            mark: { type: 'line' as const, strokeWidth: 1.5 },
            encoding: {
              x,
              y: { field: 'perSecond', type: 'quantitative' as const, title: 'requests/s' },
              color: { field: 'series', type: 'nominal' as const, title: 'requests', scale: { domain: ['sent', 'completed'], range: ['#72b7b2', '#54a24b'] } },
              strokeDash: { field: 'series', type: 'nominal' as const, legend: null, scale: { domain: ['sent', 'completed'], range: [[4, 2], [1, 0]] } },
            },
          },
        ],
      },
      {
        width: WIDTH,
        height: 90,
        title: { text: 'Timeouts, errors and drops per second', subtitle: 'client timeout, 5xx + transport errors, and requests dropped at the concurrency cap — load generator' },
        layer: [
          ...bandLayers,
          {
            data: { values: bad },
            mark: { type: 'bar' as const, width: Math.max(1, (WIDTH / Math.max(1, xMax)) * 0.8) },
            encoding: {
              x,
              y: { field: 'count', type: 'quantitative' as const, title: 'count', stack: 'zero' as const, axis: { format: 'd', tickMinStep: 1 }, scale: { domainMin: 0, ...(bad.every((b) => b.count === 0) ? { domainMax: 1 } : {}) } },
              color: {
                field: 'series',
                type: 'nominal' as const,
                title: 'failed requests',
                scale: { domain: ['timeouts', 'errors (5xx + transport)', 'dropped (concurrency cap)'], range: ['#e45756', '#b279a2', '#9d755d'] },
              },
            },
          },
        ],
      },
      ...dbPanels(options.db ?? null, x, bandLayers),
    ],
    resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
  } as TopLevelSpec;
}

function dbPanels(db: TimelineDb | null, x: object, bandLayers: object[]): object[] {
  if (!db) return [];
  const panels: object[] = [];
  if (db.gin.length > 0) {
    panels.push({
      width: WIDTH,
      height: 110,
      title: { text: `GIN pending list (${db.node})`, subtitle: `tuples waiting in each GIN index's pending list — database: the observer on the ${db.node}, pgstatginindex(), every sample` },
      layer: [
        ...bandLayers,
        {
          data: { values: db.gin },
          mark: { type: 'line' as const, strokeWidth: 1.5, interpolate: 'step-after' as const },
          encoding: {
            x,
            y: { field: 'tuples', type: 'quantitative' as const, title: 'pending tuples', axis: { format: ',~r' } },
            color: { field: 'index', type: 'nominal' as const, title: 'GIN index' },
          },
        },
      ],
    });
  }
  if (db.backends.length > 0) {
    panels.push({
      width: WIDTH,
      height: 110,
      title: { text: `Backends on the ${db.node}`, subtitle: `the service's connections running a statement or waiting on a lock, and autovacuum/analyze workers — database: the observer on the ${db.node}, pg_stat_activity` },
      layer: [
        ...bandLayers,
        {
          data: { values: db.backends },
          mark: { type: 'line' as const, strokeWidth: 1.5, interpolate: 'step-after' as const },
          encoding: {
            x,
            y: { field: 'count', type: 'quantitative' as const, title: 'backends', axis: { format: 'd', tickMinStep: 1 } },
            color: {
              field: 'series',
              type: 'nominal' as const,
              title: 'backends',
              scale: { domain: ['active (service)', 'waiting on a lock (service)', 'autovacuum / analyze workers'], range: ['#4c78a8', '#e45756', '#f58518'] },
            },
          },
        },
      ],
    });
  }
  return panels;
}
