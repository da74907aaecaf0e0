import type { Command } from 'commander';
import type { ClusterHandle } from '../../cluster/cluster.ts';
import { EsbenchError } from '../../core/errors.ts';
import { parsePositiveInt } from '../../core/units.ts';
import { seedInterruptibly as seedWithSignal, type SeedOutcome } from '../../domain/interruptible-seed.ts';
import type { SeedOptions } from '../../domain/seed.ts';
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

export type { SeedOutcome } from '../../domain/interruptible-seed.ts';

/** The library's seedInterruptibly with the CLI's signal, progress bar and primary session. */
export async function seedInterruptibly(ctx: CliContext, handle: ClusterHandle, options: Omit<SeedOptions, 'onProgress' | 'signal'>): Promise<SeedOutcome> {
  const progress = createProgress('seed', options.events, ctx.stderr);
  try {
    return await seedWithSignal((fn, applicationName) => withPrimary(handle, fn, applicationName), options, {
      signal: ctx.signal,
      onProgress: (d) => progress.update(d),
    });
  } finally {
    progress.stop();
  }
}
