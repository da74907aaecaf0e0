/** Seed 004 test 2: dead rows against live rows per table (primary). */
import { percent } from '../../core/format.ts';
import { asStatus, defineCheck, num, rows, thresholdText, worst } from './check.ts';

const SQL = '02_dead_tuples.sql';

export const deadTuples = defineCheck({
  id: 'dead_tuples',
  title: 'dead-tuple ratio',
  sources: [SQL],
  async run(s) {
    const r = await rows(s.primary, SQL);
    const values = r.map((row) => num(row.dead_pct) ?? (num(row.n_dead_tup) ? 100 : 0));
    return {
      status: worst(r.map((row) => asStatus(row.status))),
      figure: r
        .map(
          (row) =>
            `${String(row.table_name)} ${percent(row.dead_pct ?? 0)} (${String(row.n_dead_tup)} dead / ${String(row.n_live_tup)} live)`,
        )
        .join('; '),
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
