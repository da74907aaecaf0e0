/**
 * Decision cost vs history size (issue 7): lend and return commands through the real service over
 * HTTP (one client, sequential, so queueing does not pollute server time), at 10K and 450K events,
 * with `full` decisions (re-fold the boundary, the study's behaviour) and `snapshot` decisions
 * (seeded warm with `--snapshots`). Figures: server time p50/p99 from each response's
 * Server-Timing `total` (service side), and mean execution time per statement from
 * pg_stat_statements (database side, primary).
 */
import pg from 'pg';
import { quantileSorted } from 'simple-statistics';
import { resolveConfig } from '../src/core/config.ts';
import { createRng } from '../src/core/prng.ts';
import { startServer } from '../src/service/server.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

const SERVER_TOTAL = /total;dur=([\d.]+)/;

interface Row {
  events: number;
  mode: 'full' | 'snapshot';
  command: 'lend' | 'return';
  samples: number;
  serverP50Ms: number;
  serverP99Ms: number;
}

async function post(url: string, body: object): Promise<{ status: number; totalMs: number }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await r.arrayBuffer();
  return { status: r.status, totalMs: Number(SERVER_TOTAL.exec(r.headers.get('server-timing') ?? '')?.[1] ?? NaN) };
}

async function statementStats(primaryUrl: string): Promise<Record<string, { calls: number; meanMs: number }>> {
  const c = new pg.Client({ connectionString: primaryUrl });
  await c.connect();
  try {
    const r = await c.query<{ name: string; calls: string; mean: number }>(
      `SELECT substring(query from '/\\* esbench:([a-z_]+) \\*/') AS name, sum(calls) AS calls,
              sum(total_exec_time) / NULLIF(sum(calls), 0) AS mean
         FROM pg_stat_statements WHERE query LIKE '%/* esbench:%' GROUP BY 1 ORDER BY 1`,
    );
    return Object.fromEntries(r.rows.map((x) => [x.name, { calls: Number(x.calls), meanMs: Number(x.mean) }]));
  } finally {
    await c.end();
  }
}

async function resetStatements(primaryUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: primaryUrl });
  await c.connect();
  await c.query('SELECT pg_stat_statements_reset()');
  await c.end();
}

const p = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : quantileSorted(sorted, q));

export async function decisionCost(ctx: BenchContext): Promise<BenchResult> {
  const pairs = ctx.quick ? 100 : 300;
  const rows: Row[] = [];
  const statements: Array<{ events: number; mode: string; stats: Record<string, { calls: number; meanMs: number }> }> = [];
  for (const events of [10_000, 450_000]) {
    await ctx.reseed(events, { snapshots: true });
    for (const mode of ['full', 'snapshot'] as const) {
      const config = resolveConfig({ service: { decisions: mode, port: 0 }, pools: { primary: { min: 2, max: 10 }, replica: { min: 1, max: 10 } } });
      const server = await startServer(config, ctx.primaryUrl, ctx.replicaUrl);
      ctx.progress(`decision-cost: ${events} events, ${mode} decisions, ${pairs} lend+return pairs`);
      // Warm-up (connections, JIT of the service), then measure from a clean pg_stat_statements.
      for (let i = 0; i < 20; i++) await post(`${server.url}/library/commands/lend-book-copy`, { bookId: `book-${i + 1}`, readerId: 'reader-1' });
      await resetStatements(ctx.primaryUrl);
      const times = { lend: [] as number[], return: [] as number[] };
      const rnd = createRng(events + (mode === 'full' ? 1 : 2));
      let attempts = 0;
      while (times.return.length < pairs && attempts < pairs * 20) {
        attempts++;
        const bookId = `book-${1 + Math.floor(rnd() * 1000)}`;
        const readerId = `reader-${1 + Math.floor(rnd() * 100)}`;
        const lend = await post(`${server.url}/library/commands/lend-book-copy`, { bookId, readerId });
        if (lend.status !== 201) continue;
        times.lend.push(lend.totalMs);
        const ret = await post(`${server.url}/library/commands/return-book-copy`, { bookId, readerId });
        if (ret.status === 201) times.return.push(ret.totalMs);
      }
      statements.push({ events, mode, stats: await statementStats(ctx.primaryUrl) });
      await server.close();
      for (const command of ['lend', 'return'] as const) {
        const sorted = [...times[command]].sort((a, b) => a - b);
        rows.push({ events, mode, command, samples: sorted.length, serverP50Ms: p(sorted, 0.5), serverP99Ms: p(sorted, 0.99) });
      }
    }
  }
  const find = (events: number, mode: string, command: string) => rows.find((r) => r.events === events && r.mode === mode && r.command === command)!;
  const ratio = (mode: string, command: string) => find(450_000, mode, command).serverP50Ms / find(10_000, mode, command).serverP50Ms;
  const verdicts = (['lend', 'return'] as const).map((c) => ({ command: c, snapshotP50Ratio450Kto10K: ratio('snapshot', c), fullP50Ratio450Kto10K: ratio('full', c), target: 1.5, met: ratio('snapshot', c) <= 1.5 }));
  const stmtNames = ['query', 'append', 'lock_keys', 'snapshot_load', 'snapshot_save'];
  const table = [
    'events | decisions | command | n | server p50 ms | server p99 ms',
    '--- | --- | --- | --- | --- | ---',
    ...rows.map((r) => `${r.events} | ${r.mode} | ${r.command} | ${r.samples} | ${r.serverP50Ms.toFixed(2)} | ${r.serverP99Ms.toFixed(2)}`),
    '',
    `events | decisions | ${stmtNames.map((n) => `${n} mean ms (calls)`).join(' | ')}`,
    `--- | --- | ${stmtNames.map(() => '---').join(' | ')}`,
    ...statements.map((s) => `${s.events} | ${s.mode} | ${stmtNames.map((n) => (s.stats[n] ? `${s.stats[n]!.meanMs.toFixed(3)} (${s.stats[n]!.calls})` : '-')).join(' | ')}`),
    '',
    ...verdicts.map((v) => `${v.command}: p50 450K/10K = ${v.snapshotP50Ratio450Kto10K.toFixed(2)}x with snapshots (target <= 1.5x: ${v.met ? 'met' : 'NOT met'}), ${v.fullP50Ratio450Kto10K.toFixed(2)}x with full folds`),
  ].join('\n');
  return {
    name: 'decision-cost',
    measured: 'server time = Server-Timing total (service side, one sequential HTTP client); statement means = pg_stat_statements on the primary over the measured window',
    data: { rows, statements, verdicts },
    table,
  };
}
