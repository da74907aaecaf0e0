/** Seed 004 test 2: dead rows against live rows per table (primary). */
import { asStatus, defineCheck, num, rows, thresholdText, worst, type CheckOutcome } from './check.ts';

const SQL = '02_dead_tuples.sql';

/** Per table: dead rows against live rows (pg_stat_user_tables' estimates). */
export interface DeadTuplesFigure {
  table: string;
  /** null when the table has no live rows. */
  deadPct: number | null;
  deadRows: number | null;
  liveRows: number | null;
}

export const deadTuples = defineCheck({
  id: 'dead_tuples',
  title: 'dead-tuple ratio',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<DeadTuplesFigure[]>> {
    const r = await rows(s.primary, SQL);
    const values = r.map((row) => num(row.dead_pct) ?? (num(row.n_dead_tup) ? 100 : 0));
    return {
      status: worst(r.map((row) => asStatus(row.status))),
      figures: r.map((row): DeadTuplesFigure => ({
        table: String(row.table_name),
        deadPct: num(row.dead_pct),
        deadRows: num(row.n_dead_tup),
        liveRows: num(row.n_live_tup),
      })),
      value: values.length > 0 ? Math.max(...values) : null,
      threshold: thresholdText(
        r[0],
        SQL,
        (t) =>
          `dead/live: good < ${String(t.good_below_pct)}%, ok <= ${String(t.warning_above_pct)}%, warning above (seed 004); under ${String(t.min_dead_rows)} dead rows always good`,
      ),
      nodes: ['primary'],
      details: r,
    };
  },
});
