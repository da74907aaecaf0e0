/** Seed 004 test 8: table and index sizes (primary), and the disk usage of a local data directory. */
import fs from 'node:fs';
import { asStatus, defineCheck, num, rows, thresholdText, worst, type Row, type CheckOutcome } from './check.ts';

const SQL = '08_storage.sql';

/** Disk usage thresholds of the data directory (seed 002: critical above 90 %); no SQL decides these. */
export const DISK_OK_BELOW_PCT = 80;
export const DISK_WARNING_FROM_PCT = 90;

/** The database's size, each table's estimated rows and heap and index bytes, and the data directory's disk usage when local. */
export interface StorageFigures {
  databaseBytes: number | null;
  tables: Array<{ table: string; estimatedRows: number | null; tableBytes: number | null; indexBytes: number | null }>;
  disk?: { dataDir: string; usedPct: number };
}

export const storage = defineCheck({
  id: 'storage',
  title: 'storage summary',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<StorageFigures>> {
    const r = await rows(s.primary, SQL);
    const statuses = r.map((row) => asStatus(row.status));
    const first = r[0] ?? {};
    const figures: StorageFigures = {
      databaseBytes: num(first.database_bytes),
      tables: r.map((row) => ({
        table: String(row.table_name),
        estimatedRows: num(row.estimated_rows),
        tableBytes: num(row.table_bytes),
        indexBytes: num(row.index_bytes),
      })),
    };
    const details: Row[] = [...r];
    let threshold = thresholdText(
      r[0],
      SQL,
      (t) =>
        `indexes/heap: good <= ${String(t.good_max_ratio)}, ok <= ${String(t.ok_max_ratio)}, warning above (tables under 1 MB always good)`,
    );
    if (s.dataDir) {
      try {
        const st = fs.statfsSync(s.dataDir);
        const usedPct = st.blocks > 0 ? (100 * (st.blocks - st.bavail)) / st.blocks : 0;
        statuses.push(usedPct >= DISK_WARNING_FROM_PCT ? 'warning' : usedPct >= DISK_OK_BELOW_PCT ? 'ok' : 'good');
        figures.disk = { dataDir: s.dataDir, usedPct };
        details.push({ dataDir: s.dataDir, diskUsedPct: usedPct, diskFreeBytes: st.bavail * st.bsize });
        threshold += `; disk used: good < ${DISK_OK_BELOW_PCT}%, ok < ${DISK_WARNING_FROM_PCT}%, warning from ${DISK_WARNING_FROM_PCT}% (seed 002)`;
      } catch {
        /* not a local directory we can stat: storage figures stand alone */
      }
    }
    return {
      status: worst(statuses),
      figures,
      value: num(first.database_bytes),
      threshold,
      nodes: ['primary'],
      details,
    };
  },
});
