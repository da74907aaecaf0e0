/** Seed 004 test 7: buffer cache hit ratio, per node (each counts its own reads). */
import {
  asStatus,
  defineCheck,
  nodesOf,
  num,
  rows,
  thresholdText,
  worst,
  type CheckStatus,
  type NodeName,
  type Row,
  type CheckOutcome,
} from './check.ts';

const SQL = '07_cache_hit.sql';

/** Per node: the database's buffer cache hit ratio; null before any block was read. */
export interface CacheHitFigure {
  node: NodeName;
  hitPct: number | null;
}

export const cacheHit = defineCheck({
  id: 'cache_hit',
  title: 'cache hit ratio',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<CacheHitFigure[]>> {
    const details: Row[] = [];
    const statuses: CheckStatus[] = [];
    const figures: CacheHitFigure[] = [];
    let lowest: number | null = null;
    let first: Row | undefined;
    for (const [node, client] of nodesOf(s)) {
      const r = await rows(client, SQL);
      first ??= r[0];
      for (const row of r) details.push({ node, ...row });
      // The database figure decides; per-table figures of rarely read tables are noise.
      const db = r.find((row) => row.scope === 'database');
      if (!db) continue;
      statuses.push(asStatus(db.status));
      const hit = num(db.hit_pct);
      if (hit !== null) lowest = lowest === null ? hit : Math.min(lowest, hit);
      figures.push({ node, hitPct: hit });
    }
    return {
      status: worst(statuses),
      figures,
      value: lowest,
      threshold: thresholdText(
        first,
        SQL,
        (t) =>
          `database blocks hit/(hit+read): good >= ${String(t.good_min_pct)}%, ok >= ${String(t.ok_min_pct)}%, warning below (seed 004; the study saw 99.9-100%)`,
      ),
      nodes: nodesOf(s).map(([n]) => n),
      details,
    };
  },
});
