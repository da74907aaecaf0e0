/**
 * Service-level objectives for `esbench run --slo 'p99<200ms,errors<0.1%,timeouts=0'` (CI use).
 *
 * Latency terms read the client latency of the measured window (the engine's, from the intended
 * send time for the paced engine). `errors` are 5xx responses and transport errors; `rejections`
 * are 4xx (business-rule refusals are outcomes, not failures); `timeouts` and `dropped` are counted
 * apart. A percentage is of requests sent; a bare number is a count.
 */
import { EsbenchError } from '../core/errors.ts';
import type { EncodedHistogram } from '../load/histogram.ts';
import type { RequestCounters } from '../load/latency-recorder.ts';

const LATENCY = ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const;
const COUNTS = ['errors', 'rejections', 'timeouts', 'dropped'] as const;
type Metric = (typeof LATENCY)[number] | (typeof COUNTS)[number] | 'rate';
type Op = '<' | '<=' | '=' | '>=' | '>';

export interface SloClause {
  text: string;
  metric: Metric;
  op: Op;
  /** ms for latency, a fraction (0.001) for a percentage, a count otherwise, req/s for rate. */
  value: number;
  percent: boolean;
}

export interface SloVerdict extends SloClause {
  actual: number | null;
  ok: boolean;
}

export function parseSlo(text: string): SloClause[] {
  const clauses = text.split(',').map((c) => c.trim()).filter(Boolean);
  if (clauses.length === 0) throw new EsbenchError('BAD_FLAG', '--slo is empty');
  return clauses.map((clause) => {
    const m = /^([a-z0-9]+)\s*(<=|>=|<|>|=)\s*(\d+(?:\.\d+)?)\s*(ms|s|%)?$/.exec(clause);
    if (!m) throw new EsbenchError('BAD_FLAG', `--slo term '${clause}' is not like p99<200ms, errors<0.1%, timeouts=0`);
    const metric = m[1] as Metric;
    const unit = m[4];
    let value = Number(m[3]);
    const isLatency = (LATENCY as readonly string[]).includes(metric);
    if (!isLatency && !(COUNTS as readonly string[]).includes(metric) && metric !== 'rate') {
      throw new EsbenchError('BAD_FLAG', `--slo metric '${metric}' is unknown (known: ${[...LATENCY, ...COUNTS, 'rate'].join(', ')})`);
    }
    if (isLatency) {
      if (unit === '%') throw new EsbenchError('BAD_FLAG', `--slo '${clause}': a latency takes ms or s`);
      if (unit === 's') value *= 1000;
    } else if (unit === 'ms' || unit === 's') {
      throw new EsbenchError('BAD_FLAG', `--slo '${clause}': ${metric} is a count or a percentage`);
    }
    const percent = unit === '%';
    return { text: clause, metric, op: m[2] as Op, value: percent ? value / 100 : value, percent };
  });
}

function compare(actual: number, op: Op, value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '=':
      return actual === value;
    case '>=':
      return actual >= value;
    case '>':
      return actual > value;
  }
}

export function evaluateSlo(clauses: readonly SloClause[], run: { latency: EncodedHistogram; counters: RequestCounters; achievedRate: number | null }): SloVerdict[] {
  const c = run.counters;
  const counts: Record<(typeof COUNTS)[number], number> = {
    errors: c.http5xx + c.transportErrors,
    rejections: c.http4xx,
    timeouts: c.timeouts,
    dropped: c.dropped,
  };
  return clauses.map((clause) => {
    let actual: number | null;
    if (clause.metric === 'rate') actual = run.achievedRate;
    else if ((COUNTS as readonly string[]).includes(clause.metric)) {
      const n = counts[clause.metric as (typeof COUNTS)[number]];
      actual = clause.percent ? (c.sent + c.dropped > 0 ? n / (c.sent + c.dropped) : 0) : n;
    } else actual = run.latency[clause.metric as (typeof LATENCY)[number]];
    return { ...clause, actual, ok: actual !== null && compare(actual, clause.op, clause.value) };
  });
}
