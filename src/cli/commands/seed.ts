import type { Command } from 'commander';
import type { ClusterHandle } from '../../cluster/cluster.ts';
import { EsbenchError, isEsbenchError } from '../../core/errors.ts';
import { parsePositiveInt } from '../../core/units.ts';
import { seedLibrary, type SeedOptions, type SeedResult } from '../../domain/seed.ts';
import { createRunDir, openResultsRoot, writeJson } from '../../report/results-dir.ts';
import { printSeedResult } from '../../report/seed-printer.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { prepareCluster, withPrimary } from '../prepare.ts';
import { createProgress } from '../progress.ts';

interface SeedFlags extends GlobalFlags {
  events: string;
  books: string;
  readers: string;
  seed: string;
  reset?: boolean;
  snapshots?: boolean;
  results: string;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  addClusterFlags(
    program
      .command('seed')
      .description('bulk-fill a rule-consistent library history (COPY), then VACUUM ANALYZE; starts the embedded cluster if needed')
      .option('--events <n>', 'number of events', '10000')
      .option('--books <n>', 'book copies (the study: 1000)', '1000')
      .option('--readers <n>', 'readers (the study: 100)', '100')
      .option('--seed <n>', 'random seed (same seed, same history)', '1')
      .option('--reset', 'replace an existing history (TRUNCATE events, snapshots)')
      .option('--snapshots', 'also write per-entity snapshots at the end of the history, so a large database starts warm')
      .option('--results <dir>', 'results directory', 'results')
      .option('--json', 'print the result as JSON'),
  ).action(async (flags: SeedFlags) => {
    const events = parsePositiveInt(flags.events, '--events', { min: 1, max: 100_000_000 });
    const books = parsePositiveInt(flags.books, '--books', { min: 1, max: 10_000_000 });
    const readers = parsePositiveInt(flags.readers, '--readers', { min: 1, max: 10_000_000 });
    const seed = parsePositiveInt(flags.seed, '--seed', { min: 0, max: 2 ** 31 });
    const config = configFor(ctx, clusterInput(flags));
    openResultsRoot(flags.results); // refuse a foreign directory before doing any work
    const handle = await prepareCluster(ctx, config, { start: true });
    const outcome = await seedInterruptibly(ctx, handle, { events, books, readers, seed, reset: Boolean(flags.reset), snapshots: Boolean(flags.snapshots) });
    const run = createRunDir(flags.results, 'seed');
    if (outcome.kind === 'partial') {
      // The COPY committed before the signal: the rows are there, the seed is not finished. Say so
      // in the saved result, and in the one error line.
      const record = { kind: 'seed', id: run.id, at: new Date().toISOString(), partial: true, config: { events, books, readers, seed }, eventsWritten: outcome.eventsWritten };
      writeJson(`${run.dir}/seed.json`, record);
      throw new EsbenchError(
        'INTERRUPTED',
        `seeding interrupted after the COPY: ${outcome.eventsWritten} events were written but VACUUM ANALYZE did not finish; run \`esbench maintain\` before measuring (partial result: ${run.dir}/seed.json)`,
      );
    }
    const record = { kind: 'seed', id: run.id, at: new Date().toISOString(), config: { events, books, readers, seed }, result: outcome.result };
    writeJson(`${run.dir}/seed.json`, record);
    ctx.stdout(flags.json ? `${JSON.stringify(record, null, 2)}\n` : printSeedResult(outcome.result, `${run.dir}/seed.json`));
  });
}

export type SeedOutcome = { kind: 'done'; result: SeedResult } | { kind: 'partial'; eventsWritten: number };

/**
 * Seeds with progress, stopping on the context's signal (SIGINT/SIGTERM) without waiting for the
 * statement in progress: the seed's own check stops feeding the COPY, and the backend's current
 * statement is cancelled (the COPY is one transaction, so nothing is written; a VACUUM that is
 * cancelled leaves the committed rows). Throws INTERRUPTED when nothing was written, and returns
 * 'partial' when the COPY had committed before the signal.
 */
export async function seedInterruptibly(ctx: CliContext, handle: ClusterHandle, options: Omit<SeedOptions, 'onProgress' | 'signal'>): Promise<SeedOutcome> {
  const progress = createProgress('seed', options.events, ctx.stderr);
  try {
    return await withPrimary(handle, async (c) => {
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const cancel = () => {
        // A second connection, because the first one is busy with the statement to cancel.
        void withPrimary(handle, (k) => k.query('SELECT pg_cancel_backend($1)', [pid]), 'esbench_cli_cancel').catch(() => {});
      };
      if (ctx.signal.aborted) throw new EsbenchError('INTERRUPTED', 'seeding interrupted before it started; nothing was written');
      ctx.signal.addEventListener('abort', cancel, { once: true });
      try {
        return { kind: 'done', result: await seedLibrary(c, { ...options, onProgress: (d) => progress.update(d), signal: ctx.signal }) };
      } catch (e) {
        // Stopped by us: the seed's own INTERRUPTED, or the cancelled statement (query_canceled).
        const stopped = (isEsbenchError(e) && e.code === 'INTERRUPTED') || (e as { code?: string }).code === '57014';
        if (!ctx.signal.aborted || !stopped) throw e;
        // The table was empty (or truncated by --reset) before the COPY: any row is the COPY's.
        const rows = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n ?? 0);
        if (rows === 0) throw new EsbenchError('INTERRUPTED', 'seeding interrupted; nothing was written (COPY is one transaction)', { cause: e });
        return { kind: 'partial', eventsWritten: rows };
      } finally {
        ctx.signal.removeEventListener('abort', cancel);
      }
    });
  } finally {
    progress.stop();
  }
}
