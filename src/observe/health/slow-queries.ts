/** Slowest DML statements by mean execution time, from pg_stat_statements on each node. */
import {
  asStatus,
  defineCheck,
  nodesOf,
  num,
  rows,
  thresholdText,
  worst,
  type NodeName,
  type Row,
  type CheckOutcome,
} from './check.ts';

const SQL = '11_slow_queries.sql';

/**
 * The DML statement with the slowest mean execution on any node; `available` false when no node has
 * pg_stat_statements, `slowest` null when none was recorded yet.
 */
export interface SlowQueriesFigures {
  available: boolean;
  slowest: { meanMs: number | null; calls: number | null; node: NodeName; query: string } | null;
}

export const slowQueries = defineCheck({
  id: 'slow_queries',
  title: 'slow queries',
  sources: [SQL],
  async run(s): Promise<CheckOutcome<SlowQueriesFigures>> {
    const details: Row[] = [];
    const notes: string[] = [];
    const nodes: NodeName[] = [];
    let first: Row | undefined;
    for (const [node, client] of nodesOf(s)) {
      const ext = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
      if (ext.rowCount === 0) {
        notes.push(`${node}: pg_stat_statements is not installed in this database`);
        continue;
      }
      try {
        const r = await rows(client, SQL);
        nodes.push(node);
        first ??= r[0];
        for (const row of r) details.push({ node, ...row });
      } catch (e) {
        // Installed but not preloaded (shared_preload_libraries): the view errors.
        notes.push(`${node}: ${(e as Error).message}`);
      }
    }
    details.sort((a, b) => (num(b.mean_ms) ?? 0) - (num(a.mean_ms) ?? 0));
    const top = details[0];
    const threshold = thresholdText(
      first,
      SQL,
      (t) =>
        `mean execution per DML statement: good <= ${String(t.good_max_ms)} ms, ok <= ${String(t.ok_max_ms)} ms (seed 002: slow > 100 ms), warning above`,
    );
    if (nodes.length === 0) {
      return {
        status: 'ok',
        figures: { available: false, slowest: null },
        value: null,
        threshold,
        nodes,
        details,
        notes,
      };
    }
    return {
      status: worst(details.map((r) => asStatus(r.status))),
      figures: {
        available: true,
        slowest: top
          ? { meanMs: num(top.mean_ms), calls: num(top.calls), node: top.node as NodeName, query: String(top.query) }
          : null,
      },
      value: top ? num(top.mean_ms) : null,
      threshold,
      nodes,
      details,
      notes,
    };
  },
});
