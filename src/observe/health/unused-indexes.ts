/** Indexes no node has scanned since the statistics reset (pk/unique excluded). */
import { formatBytes } from '../../core/format.ts';
import {
  asStatus,
  countingNote,
  defineCheck,
  nodesOf,
  num,
  rows,
  thresholdText,
  worst,
  type Row,
  type CheckOutcome,
} from './check.ts';

const SQL = '10_unused_indexes.sql';

/** The indexes no node scanned since the statistics reset, with their size. */
export type UnusedIndexesFigures = Array<{ index: string; sizeBytes: number | null }>;

export const unusedIndexes = defineCheck({
  id: 'unused_indexes',
  title: 'unused indexes',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<UnusedIndexesFigures>> {
    // An index is unused only if no node scanned it: intersect the per-node lists.
    const perNode = await Promise.all(
      nodesOf(s).map(async ([node, client]) => [node, await rows(client, SQL)] as const),
    );
    const [firstNode, ...others] = perNode;
    const key = (r: Row) => `${String(r.table_name)}.${String(r.index_name)}`;
    const unused = (firstNode?.[1] ?? []).filter((r) =>
      others.every(([, list]) => list.some((o) => key(o) === key(r))),
    );
    // The size line comes from the SQL's min_warning_bytes column (none when nothing is unused).
    return {
      status: unused.length === 0 ? 'good' : worst(unused.map((r) => asStatus(r.status))),
      figures: unused.map((r): UnusedIndexesFigures[number] => ({
        index: String(r.index_name),
        sizeBytes: num(r.size_bytes),
      })),
      value: unused.length,
      threshold: thresholdText(
        unused[0],
        SQL,
        (t) =>
          `idx_scan = 0 on every node since the statistics reset (pk/unique excluded): ok below ${formatBytes(t.min_warning_bytes)}, warning from ${formatBytes(t.min_warning_bytes)}`,
      ),
      nodes: perNode.map(([n]) => n),
      details: unused,
      notes: countingNote(s),
    };
  },
});
