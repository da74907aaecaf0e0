/** Seed 004 test 6: dead + free space per table (pgstattuple, else statistics), and GIN pending lists (primary). */
import { formatBytes } from '../../core/format.ts';
import { asStatus, defineCheck, num, rows, thresholdText, worst, type Row, type CheckOutcome } from './check.ts';

/**
 * Per table: the estimated bloat and the table's size; with pgstattuple (`measured: 'pgstattuple'`)
 * also its dead and free shares, from statistics (`'statistics'`) the dead share alone.
 */
export interface BloatFigures {
  measured: 'pgstattuple' | 'statistics';
  tables: Array<{
    table: string;
    bloatPct: number | null;
    tableBytes: number | null;
    deadPct?: number | null;
    freePct?: number | null;
  }>;
}

export const bloat = defineCheck({
  id: 'bloat',
  title: 'bloat estimate',
  sources: ['06_bloat.sql', '06_bloat_estimate.sql', '06_gin_pending.sql'],
  async run(s): Promise<CheckOutcome<BloatFigures>> {
    const notes: string[] = [];
    let r: Row[];
    let source = '06_bloat.sql';
    try {
      r = await rows(s.primary, source);
    } catch (e) {
      // pgstattuple missing or not permitted: fall back to what the statistics can say.
      source = '06_bloat_estimate.sql';
      notes.push(
        `pgstattuple unavailable (${(e as Error).message}): dead share from statistics only, free space unknown`,
      );
      r = await rows(s.primary, source);
    }
    const sources = [source];
    try {
      const gin = await rows(s.primary, '06_gin_pending.sql');
      sources.push('06_gin_pending.sql');
      for (const g of gin) {
        notes.push(
          `${String(g.index_name)}: fastupdate ${String(g.fastupdate)}, ${String(g.pending_pages)} pending pages / ${String(g.pending_tuples)} pending entries`,
        );
      }
    } catch {
      /* pending-list detail needs pgstattuple too; the bloat figure does not */
    }
    return {
      status: worst(r.map((row) => asStatus(row.status))),
      figures: {
        measured: source === '06_bloat.sql' ? 'pgstattuple' : 'statistics',
        tables: r.map((row) => ({
          table: String(row.table_name),
          bloatPct: num(row.bloat_pct),
          tableBytes: num(row.table_bytes),
          ...(row.dead_tuple_percent !== undefined
            ? { deadPct: num(row.dead_tuple_percent), freePct: num(row.approx_free_percent) }
            : {}),
        })),
      },
      value: r.length > 0 ? Math.max(...r.map((row) => num(row.bloat_pct) ?? 0)) : null,
      threshold: thresholdText(
        r[0],
        source,
        (t) =>
          `dead + free space: good < ${String(t.good_below_pct)}%, ok <= ${String(t.warning_above_pct)}%, warning above; tables under ${formatBytes(t.min_table_bytes)} always good`,
      ),
      nodes: ['primary'],
      sources,
      details: r,
      notes,
    };
  },
});
