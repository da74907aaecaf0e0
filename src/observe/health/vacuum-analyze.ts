/** Seed 004 test 1: when were the event store's tables last vacuumed and analyzed (primary). */
import { asStatus, defineCheck, num, rows, thresholdText, worst, type CheckOutcome } from './check.ts';

const SQL = '01_vacuum_analyze_recency.sql';

/** Per table: seconds since the last (auto)vacuum and (auto)analyze; null when never. */
export interface VacuumAnalyzeFigure {
  table: string;
  vacuumAgeS: number | null;
  analyzeAgeS: number | null;
}

export const vacuumAnalyze = defineCheck({
  id: 'vacuum_analyze',
  title: 'vacuum/analyze recency',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<VacuumAnalyzeFigure[]>> {
    const r = await rows(s.primary, SQL);
    const ages = r.map((row) => num(row.analyze_age_s)).filter((a): a is number => a !== null);
    return {
      status: worst(r.map((row) => asStatus(row.status))),
      figures: r.map((row): VacuumAnalyzeFigure => ({
        table: String(row.table_name),
        vacuumAgeS: num(row.vacuum_age_s),
        analyzeAgeS: num(row.analyze_age_s),
      })),
      value: ages.length > 0 ? Math.max(...ages) : null,
      threshold: thresholdText(
        r[0],
        SQL,
        (t) =>
          `good: within ${Number(t.good_max_s) / 3600} h (or nothing to do), ok: within ${Number(t.ok_max_s) / 86_400} d, warning: older or never with dead/changed rows`,
      ),
      nodes: ['primary'],
      details: r,
    };
  },
});
