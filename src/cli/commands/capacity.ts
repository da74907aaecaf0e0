import fs from 'node:fs';
import { writeReportStep } from '../report-step.ts';
import path from 'node:path';
import type { Command } from 'commander';
import { parseSlo } from '../../analysis/slo.ts';
import { mergeDeep, type ServiceConfig } from '../../core/config.ts';
import { EsbenchError } from '../../core/errors.ts';
import { parseDuration, parsePositiveInt, parsePositiveNumber } from '../../core/units.ts';
import { resolveWorkloadSpec } from '../../load/workload.ts';
import { printCapacity } from '../../report/capacity-printer.ts';
import { createRunDir, openResultsRoot, writeJson } from '../../report/results-dir.ts';
import { DEFAULT_SLO, runCapacity } from '../../tuner/capacity.ts';
import { trialConfig } from '../../tuner/trial.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { addPoolFlags, poolInput, type PoolFlags } from '../pool-flags.ts';
import { prepareCluster } from '../prepare.ts';
import { seedIfEmpty } from './sweep.ts';

interface CapacityFlags extends GlobalFlags, PoolFlags {
  slo: string;
  startRate: string;
  maxRate: string;
  growth: string;
  repeats?: string;
  precision?: string;
  duration?: string;
  warmup?: string;
  workload: string;
  seed: string;
  events: string;
  quick?: boolean;
  results: string;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  addPoolFlags(
    addClusterFlags(
      program
        .command('capacity')
        .description('the highest rate that holds an SLO: a ramp, then a bisection with repetitions; and what saturated first')
        .option('--slo <terms>', 'the SLO every trial must hold', DEFAULT_SLO)
        .option('--start-rate <n>', 'first rate of the ramp (req/s)', '50')
        .option('--max-rate <n>', 'highest rate tried (req/s)', '1000')
        .option('--growth <x>', 'ramp multiplier', '1.5')
        .option('--repeats <n>', 'trials per bisection step (default 3; --quick 1)')
        .option('--precision <x>', 'stop when the bracket is narrower than this share of its low end (default 0.1; --quick 0.2)')
        .option('--duration <duration>', 'measured window per trial (default 20s; --quick 8s)')
        .option('--warmup <duration>', 'warm-up per trial (default 5s; --quick 2s)')
        .option('--workload <name>', 'study | read-models | raw-append | raw-query | raw', 'study')
        .option('--seed <n>', "seed of every trial's workload", '1')
        .option('--events <n>', 'events to seed when the store is empty', '10000')
        .option('--quick', 'short trials, one per step, coarser bracket')
        .option('--results <dir>', 'results directory', 'results')
        .option('--json', 'print capacity.json instead of the summary'),
    ),
  ).action(async (flags: CapacityFlags) => {
    const quick = Boolean(flags.quick);
    const slo = parseSlo(flags.slo);
    const startRate = parsePositiveNumber(flags.startRate, '--start-rate');
    const maxRate = parsePositiveNumber(flags.maxRate, '--max-rate');
    const growth = parsePositiveNumber(flags.growth, '--growth');
    const repeats = flags.repeats === undefined ? (quick ? 1 : 3) : parsePositiveInt(flags.repeats, '--repeats', { max: 100 });
    const precision = flags.precision === undefined ? (quick ? 0.2 : 0.1) : parsePositiveNumber(flags.precision, '--precision');
    const durationMs = parseDuration(flags.duration ?? (quick ? '8s' : '20s'), '--duration');
    const warmupMs = parseDuration(flags.warmup ?? (quick ? '2s' : '5s'), '--warmup');
    if (durationMs < 1000) throw new EsbenchError('BAD_FLAG', '--duration must be at least 1s');
    const events = parsePositiveInt(flags.events, '--events', { min: 1, max: 100_000_000 });
    const config = configFor(ctx, mergeDeep(clusterInput(flags), poolInput(flags)));
    const base = trialConfig({
      rate: startRate,
      durationMs,
      warmupMs,
      seed: parsePositiveInt(flags.seed, '--seed', { min: 0, max: 2 ** 31 - 1 }),
      workload: resolveWorkloadSpec({ preset: flags.workload }),
      pools: { primary: { ...config.pools.primary }, replica: { ...config.pools.replica } },
      service: structuredClone(config.service) as ServiceConfig,
    });
    openResultsRoot(flags.results);
    const handle = await prepareCluster(ctx, config, { start: true });
    await seedIfEmpty(ctx, handle, events);
    const { dir } = createRunDir(flags.results, 'capacity');
    const result = await runCapacity(handle, {
      slo,
      startRate,
      maxRate,
      growth,
      repeats,
      precision,
      signal: ctx.signal,
      onProgress: (l) => ctx.stderr(`${l}\n`),
      base,
      env: ctx.env,
      dir,
    });
    const file = path.join(dir, 'capacity.json');
    // Saved before it is summarised.
    writeJson(file, result);
    ctx.stdout(flags.json ? fs.readFileSync(file, 'utf8') : printCapacity(result, file));
    await writeReportStep(ctx, dir, Boolean(flags.json));
    if (result.partial) ctx.exitCode = 130;
  });
}
