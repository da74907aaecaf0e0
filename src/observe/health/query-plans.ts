/**
 * Seed 004 test 4: do the hot query shapes use the intended indexes, and how long do they take?
 * EXPLAIN with bound parameters (sql/health/04_query_plans.sql is the same for psql users); the
 * execution-time thresholds are here because the status is decided here, not in SQL.
 */
import { EsbenchError } from '../../core/errors.ts';
import { defineCheck, num, rows, worst, type CheckStatus, type Row, type CheckOutcome } from './check.ts';

const PROBE_SQL = '04_query_plan_probe.sql';

/** The hot query shapes of the study's event store, with the indexes meant to serve them. */
const PLAN_PROBES = [
  {
    name: 'boundary query',
    sql: `SELECT sequence_number, event_type, payload, metadata, occurred_at FROM events
           WHERE event_type = ANY ($1::text[]) AND payload @> $2::jsonb ORDER BY sequence_number`,
    params: (p: Probe) => [[p.type], p.payload],
    intended: ['idx_events_payload_gin'],
  },
  {
    name: 'append version check',
    sql: `SELECT max(sequence_number) FROM events WHERE event_type = ANY ($1::text[]) AND payload @> $2::jsonb`,
    params: (p: Probe) => [[p.type], p.payload],
    intended: ['idx_events_payload_gin'],
  },
  {
    name: 'occurred_at range',
    sql: `SELECT sequence_number FROM events WHERE occurred_at >= $1::timestamptz AND occurred_at <= $2::timestamptz ORDER BY sequence_number`,
    params: (p: Probe) => [p.from, p.to],
    intended: ['idx_events_occurred_at'],
  },
] as const;

interface Probe {
  type: string;
  payload: string;
  from: Date;
  to: Date;
  estimatedRows: number;
}

/** Execution time thresholds (ms): good up to the first, ok up to seed 002's slow-query line. */
export const PLAN_GOOD_MAX_MS = 10;
export const PLAN_OK_MAX_MS = 100;

interface PlanNode {
  'Node Type'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function walkPlan(node: PlanNode, out: { indexes: Set<string>; seqScan: boolean }): void {
  if (node['Index Name']) out.indexes.add(node['Index Name']);
  if (node['Node Type'] === 'Seq Scan') out.seqScan = true;
  for (const child of node.Plans ?? []) walkPlan(child, out);
}

/** Per probed query: the indexes its plan scanned (or a seq scan / no scan) and its execution time. Empty: no events to probe yet. */
export type QueryPlansFigures = Array<{ query: string; scan: string; executionMs: number }>;

export const queryPlans = defineCheck({
  id: 'query_plans',
  title: 'hot query plans',
  sources: [PROBE_SQL, '04_query_plans.sql'],
  async run(s): Promise<CheckOutcome<QueryPlansFigures>> {
    // EXPLAIN ANALYZE runs the query; on the replica it reads what the read models read and, being a
    // standby, cannot prune heap pages (which would change the primary's dead-tuple figures).
    const [node, client] = s.replica ? (['replica', s.replica] as const) : (['primary', s.primary] as const);
    const probeRows = await rows(client, PROBE_SQL);
    const p = probeRows[0];
    const threshold = `execution: good <= ${PLAN_GOOD_MAX_MS} ms with the intended index, ok <= ${PLAN_OK_MAX_MS} ms (seed 002) or another plan, warning above`;
    if (!p) {
      return {
        status: 'ok',
        figures: [],
        value: null,
        threshold,
        nodes: [node],
        sources: [PROBE_SQL],
        details: [],
      };
    }
    const probe: Probe = {
      type: String(p.probe_type),
      payload: String(p.probe_payload),
      from: p.probe_from as Date,
      to: p.probe_to as Date,
      estimatedRows: num(p.estimated_rows) ?? 0,
    };
    const details: Row[] = [];
    const statuses: CheckStatus[] = [];
    const figures: QueryPlansFigures = [];
    const notes: string[] = [];
    let slowest = 0;
    for (const q of PLAN_PROBES) {
      const r = await client.query<{
        'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number; 'Planning Time': number }>;
      }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q.sql}`, q.params(probe));
      const plan = r.rows[0]?.['QUERY PLAN'][0];
      if (!plan) throw new EsbenchError('INTERNAL', `EXPLAIN of ${q.name} returned no plan`);
      const used = { indexes: new Set<string>(), seqScan: false };
      walkPlan(plan.Plan, used);
      const execMs = plan['Execution Time'];
      slowest = Math.max(slowest, execMs);
      const intendedUsed = q.intended.some((i) => used.indexes.has(i));
      // Time decides a warning; the plan shape alone cannot (a seq scan is right on a small table, and
      // the probe's timing says whether another plan hurts at this size), so it shows as ok with a note.
      const status: CheckStatus =
        execMs > PLAN_OK_MAX_MS ? 'warning' : intendedUsed && execMs <= PLAN_GOOD_MAX_MS ? 'good' : 'ok';
      if (!intendedUsed)
        notes.push(
          `${q.name} did not use ${q.intended.join('/')} (~${probe.estimatedRows} rows); it ran ${used.seqScan ? 'a seq scan' : [...used.indexes].join('+')}`,
        );
      statuses.push(status);
      const how = used.indexes.size > 0 ? [...used.indexes].join('+') : used.seqScan ? 'seq scan' : 'no scan';
      figures.push({ query: q.name, scan: how, executionMs: execMs });
      details.push({
        query: q.name,
        status,
        executionMs: execMs,
        planningMs: plan['Planning Time'],
        indexes: [...used.indexes],
        seqScan: used.seqScan,
        intended: q.intended,
      });
    }
    return {
      status: worst(statuses),
      figures,
      value: slowest,
      threshold,
      nodes: [node],
      details,
      notes,
    };
  },
});
