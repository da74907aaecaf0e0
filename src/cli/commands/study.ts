import os from 'node:os';
import { writeReportStep } from '../report-step.ts';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EsbenchError } from '../../core/errors.ts';
import { randomSeed } from '../../core/prng.ts';
import { parsePositiveInt, parsePositiveNumber } from '../../core/units.ts';
import { createRunDir, openResultsRoot } from '../../report/results-dir.ts';
import { printStudy } from '../../report/study-printer.ts';
import { ablationLevels, estimateDurationMs, studySize, type StudyMode } from '../../study/study-plan.ts';
import { runStudy, type StudyTarget } from '../../study/study.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { prepareCluster } from '../prepare.ts';
import { seedInterruptibly } from './seed.ts';

interface StudyFlags extends GlobalFlags {
  quick?: boolean;
  full?: boolean;
  resume?: string;
  results: string;
  seed?: string;
  json?: boolean;
  trialSeconds?: string;
  events?: string;
  repeats?: string;
  capacityRate?: string;
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}

export function register(program: Command, ctx: CliContext): void {
  addClusterFlags(
    program
      .command('study')
      .description("reproduce seed 003 here: original vs tuned vs esbench, each factor alone, a verdict per success criterion and claim")
      .option('--quick', 'about 11 minutes on an idle 2-core machine: 50K events, 10 s windows, 2 repetitions (wide CIs) — the default')
      .option('--full', 'the study at its size: ~450K events, 60 s windows (300 s at the rate pairs), 4 repetitions; prints its duration first')
      .option('--resume <dir>', 'finish an interrupted study (trials already saved are not run again; its settings are restored first)')
      .option('--results <dir>', 'results directory', 'results')
      .option('--seed <n>', 'seed of the arrivals and ID draws (common to every level of a repetition); random if omitted')
      .option('--json', 'print the saved study.json instead of the summary')
      // Test-only: a tiny study that ends in a couple of minutes.
      .addOption(new Option('--trial-seconds <n>').hideHelp())
      .addOption(new Option('--events <n>').hideHelp())
      .addOption(new Option('--repeats <n>').hideHelp())
      .addOption(new Option('--capacity-rate <n>').hideHelp()),
  ).action(async (flags: StudyFlags) => {
    if (flags.quick && flags.full) throw new EsbenchError('BAD_FLAG', '--quick and --full exclude each other');
    const mode: StudyMode = flags.full ? 'full' : 'quick';
    const size = studySize(mode, {
      ...(flags.trialSeconds !== undefined ? { trialSeconds: parsePositiveInt(flags.trialSeconds, '--trial-seconds', { max: 3600 }) } : {}),
      ...(flags.events !== undefined ? { events: parsePositiveInt(flags.events, '--events', { min: 100, max: 100_000_000 }) } : {}),
      ...(flags.repeats !== undefined ? { repeats: parsePositiveInt(flags.repeats, '--repeats', { max: 100 }) } : {}),
    });
    const capacityRate = flags.capacityRate === undefined ? undefined : parsePositiveNumber(flags.capacityRate, '--capacity-rate');
    const seed = flags.seed === undefined ? randomSeed() : parsePositiveInt(flags.seed, '--seed', { min: 0, max: 2 ** 31 - 2 });
    const config = configFor(ctx, clusterInput(flags));
    let dir: string;
    let id: string;
    if (flags.resume !== undefined) {
      dir = path.resolve(flags.resume);
      id = path.basename(dir);
    } else {
      openResultsRoot(flags.results);
      const run = createRunDir(flags.results, 'study');
      dir = run.dir;
      id = run.id;
    }
    const levels = ablationLevels(os.totalmem()).length;
    ctx.stderr(`study: ${mode}: up to ${minutes(estimateDurationMs(size, levels))} on this machine (capacity search, the rate pairs, ${levels} levels × ${size.repeats} repetitions); results in ${dir}\n`);

    const handle = await prepareCluster(ctx, config, { start: true });
    const embedded = handle.embedded;
    const target: StudyTarget = {
      primaryUrl: handle.primaryUrl,
      replicaUrl: handle.replicaUrl,
      embedded,
      ...(handle.mode === 'embedded' && embedded
        ? {
            restart: async (node: 'primary' | 'replica') => {
              ctx.stderr(`study: restarting the ${node} (shared_buffers)\n`);
              await embedded.restart(node);
            },
          }
        : {}),
    };
    const { result, file } = await runStudy(
      target,
      { dir, id, size, seed, machineRamBytes: os.totalmem(), resume: flags.resume !== undefined, capacityRate, env: ctx.env },
      {
        signal: ctx.signal,
        log: (line) => ctx.stderr(`${line}\n`),
        seedHistory: async (events) => {
          const outcome = await seedInterruptibly(ctx, handle, { events, books: 1000, readers: 100, seed: 1, reset: true, snapshots: true });
          if (outcome.kind === 'partial') throw new EsbenchError('INTERRUPTED', `stopped after seeding ${outcome.eventsWritten} events, before the study started`);
        },
      },
    );
    ctx.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : printStudy(result, file));
    await writeReportStep(ctx, dir, Boolean(flags.json));
    if (result.partial) ctx.exitCode = 130;
  });
}
