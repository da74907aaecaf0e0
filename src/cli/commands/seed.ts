import type { Command } from 'commander';
import { parsePositiveInt } from '../../core/units.ts';
import { seedLibrary } from '../../domain/seed.ts';
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
    const progress = createProgress('seed', events, ctx.stderr);
    const result = await withPrimary(handle, (c) =>
      seedLibrary(c, { events, books, readers, seed, reset: Boolean(flags.reset), snapshots: Boolean(flags.snapshots), onProgress: (d) => progress.update(d), signal: ctx.signal }),
    ).finally(() => progress.stop());
    const run = createRunDir(flags.results, 'seed');
    const record = { kind: 'seed', id: run.id, at: new Date().toISOString(), config: { events, books, readers, seed }, result };
    writeJson(`${run.dir}/seed.json`, record);
    ctx.stdout(flags.json ? `${JSON.stringify(record, null, 2)}\n` : printSeedResult(result, `${run.dir}/seed.json`));
  });
}
