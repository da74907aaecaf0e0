/** Seed 004 test 3: is every index scanned on some node, and is any invalid. */
import {
  countingNote,
  defineCheck,
  nodesOf,
  num,
  rows,
  type CheckStatus,
  type NodeName,
  type Sessions,
  type CheckOutcome,
} from './check.ts';

const SQL = '03_index_usage.sql';

interface IndexUse {
  table: string;
  index: string;
  scans: Record<NodeName, number>;
  valid: boolean;
  sizeBytes: number;
}

/** Each node counts only its own scans: add them up per index. */
async function indexUse(s: Sessions): Promise<IndexUse[]> {
  const merged = new Map<string, IndexUse>();
  for (const [node, client] of nodesOf(s)) {
    for (const row of await rows(client, SQL)) {
      const key = `${String(row.table_name)}.${String(row.index_name)}`;
      const entry = merged.get(key) ?? {
        table: String(row.table_name),
        index: String(row.index_name),
        scans: { primary: 0, replica: 0 },
        valid: true,
        sizeBytes: num(row.size_bytes) ?? 0,
      };
      entry.scans[node] += num(row.idx_scan) ?? 0;
      entry.valid &&= row.is_valid === true;
      merged.set(key, entry);
    }
  }
  return [...merged.values()];
}

/** How many indexes some node scanned, the scans per node, and the indexes not scanned yet or invalid. */
export interface IndexUsageFigures {
  indexes: number;
  scanned: number;
  scans: Array<{ node: NodeName; scans: number }>;
  unscanned: string[];
  invalid: string[];
}

export const indexUsage = defineCheck({
  id: 'index_usage',
  title: 'index usage',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<IndexUsageFigures>> {
    const indexes = await indexUse(s);
    const unscanned = indexes.filter((i) => i.scans.primary + i.scans.replica === 0);
    const invalid = indexes.filter((i) => !i.valid);
    const status: CheckStatus = invalid.length > 0 ? 'warning' : unscanned.length > 0 ? 'ok' : 'good';
    const total = (n: NodeName) => indexes.reduce((a, i) => a + i.scans[n], 0);
    const nodes = nodesOf(s).map(([n]) => n);
    return {
      status,
      figures: {
        indexes: indexes.length,
        scanned: indexes.length - unscanned.length,
        scans: nodes.map((node) => ({ node, scans: total(node) })),
        unscanned: unscanned.map((i) => i.index),
        invalid: invalid.map((i) => i.index),
      },
      value: unscanned.length,
      threshold:
        'good: every index scanned on some node; ok: some not scanned yet (normal when fresh); warning: an invalid index',
      nodes,
      details: indexes.map((i) => ({ ...i })),
      notes: [
        ...invalid.map(
          (i) => `${i.index} is invalid (interrupted concurrent build): DROP INDEX CONCURRENTLY ${i.index}`,
        ),
        ...countingNote(s),
      ],
    };
  },
});
