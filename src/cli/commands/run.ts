import fs from 'node:fs';
import { writeReportStep } from '../report-step.ts';
import path from 'node:path';
import type { Command } from 'commander';
import { evaluateSlo, parseSlo } from '../../analysis/slo.ts';
import { mergeDeep, type ServiceConfig } from '../../core/config.ts';
import { EsbenchError } from '../../core/errors.ts';
import { parseDuration, parsePositiveInt, parsePositiveNumber } from '../../core/units.ts';
import { formatProgressLine } from '../../load/progress-line.ts';
import { resolveWorkloadSpec } from '../../load/workload.ts';
import { createRunDir, openResultsRoot, writeJson } from '../../report/results-dir.ts';
import { printRun } from '../../report/run-printer.ts';
import { runTrial, type TrialConfig } from '../../tuner/trial.ts';
import { DEFAULT_SAMPLE_INTERVAL_MS } from '../../observe/sampler.ts';
import { choiceOption } from '../choice-option.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { addPoolFlags, poolInput, type PoolFlags } from '../pool-flags.ts';
import { addPerfFlags, perfInput, type PerfFlags } from '../perf-flags.ts';
import { prepareCluster } from '../prepare.ts';
import { seedInterruptibly } from './seed.ts';

interface RunFlags extends GlobalFlags, PoolFlags, PerfFlags {
  rate: string;
  duration: string;
  warmup: string;
  workload: string;
  mix?: string;
  workloadFile?: string;
  books?: string;
  readers?: string;
  engine: (typeof ENGINES)[number];
  connections: string;
  arrival: (typeof ARRIVALS)[number];
  seed?: string;
  timeout: string;
  studyConcurrency?: boolean;
  workers: string;
  seedEvents?: string;
  snapshots?: boolean;
  sampleInterval: string;
  slo?: string;
  results: string;
  json?: boolean;
}

const ENGINES = ['paced', 'autocannon'] as const;
const ARRIVALS = ['even', 'poisson'] as const;

function readWorkloadFile(file: string | undefined): unknown {
  if (file === undefined) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new EsbenchError('BAD_FLAG', `--workload-file ${file}: ${(e as Error).message}`);
  }
}

export function register(program: Command, ctx: CliContext): void {
  addPerfFlags(addPoolFlags(
    addClusterFlags(
      program
        .command('run')
        .description('one load run: the service in its own process, a load engine, the observer on both nodes, the split of where time goes')
        .option('--rate <n>', 'target requests per second (paced engine; autocannon: overall rate, 0 = as fast as it can)', '50')
        .option('--duration <duration>', 'measured window', '60s')
        .option('--warmup <duration>', 'load before the measured window (not in the figures)', '10s')
        .option('--workload <name>', 'study | read-models | raw-append | raw-query | raw', 'study')
        .option('--mix <weights>', "custom weights, e.g. 'lend-book-copy=40,return-book-copy=40,books-lent=20'")
        .option('--workload-file <file>', 'a JSON workload (weights, books, readers, readFrom, queryFrom)')
        .option('--books <n>', 'book copies the workload draws from (the study: 1000)')
        .option('--readers <n>', 'readers the workload draws from (the study: 100)')
        .addOption(choiceOption('--engine <name>', "'paced' (open model, latency from the intended send) or 'autocannon' (closed loop)", ENGINES, 'paced'))
        .option('--connections <n>', 'autocannon connections', '50')
        .addOption(choiceOption('--arrival <process>', "paced arrivals: 'even' (the study's ticker) or 'poisson'", ARRIVALS, 'even'))
        .option('--seed <n>', 'seed of arrivals and ID draws (reported; random if omitted)')
        .option('--timeout <duration>', 'client timeout per request (the study: 1s)', '1s')
        .option('--study-concurrency', "mimic the study's generator: 50 workers, a queue of 100, overflow dropped")
        .option('--workers <n>', 'paced engine: generator processes sharing the schedule, results merged (HDR histograms)', '1')
        .option('--seed-events <n>', 'replace the history with n seeded events before the run')
        .option('--snapshots', 'with --seed-events: also write snapshots (a warm start)')
        .option('--sample-interval <duration>', 'observer sampling interval (detailed parts once a second)', `${DEFAULT_SAMPLE_INTERVAL_MS}ms`)
        .option('--slo <terms>', "exit 1 when violated, e.g. 'p99<200ms,errors<0.1%,timeouts=0' (errors = 5xx + transport; rejections = 4xx)")
        .option('--results <dir>', 'results directory', 'results')
        .option('--json', 'print the saved run.json instead of the summary'),
    ),
  )).action(async (flags: RunFlags) => {
    // Everything is validated before anything starts.
    const engine = flags.engine;
    if (engine !== 'paced' && flags.workers !== '1') throw new EsbenchError('BAD_FLAG', '--workers applies to the paced engine only');
    const rate = engine === 'autocannon' && flags.rate === '0' ? 0 : parsePositiveNumber(flags.rate, '--rate');
    const durationMs = parseDuration(flags.duration, '--duration');
    const warmupMs = parseDuration(flags.warmup, '--warmup');
    if (durationMs < 1000) throw new EsbenchError('BAD_FLAG', '--duration must be at least 1s');
    const slo = flags.slo === undefined ? [] : parseSlo(flags.slo);
    const workload = resolveWorkloadSpec({
      preset: flags.workload,
      ...(flags.mix !== undefined ? { mix: flags.mix } : {}),
      ...(flags.workloadFile !== undefined ? { file: readWorkloadFile(flags.workloadFile) } : {}),
      ...(flags.books !== undefined ? { books: parsePositiveInt(flags.books, '--books') } : {}),
      ...(flags.readers !== undefined ? { readers: parsePositiveInt(flags.readers, '--readers') } : {}),
    });
    const seedEvents = flags.seedEvents === undefined ? undefined : parsePositiveInt(flags.seedEvents, '--seed-events', { max: 100_000_000 });
    const config = configFor(ctx, mergeDeep(mergeDeep(clusterInput(flags), poolInput(flags)), perfInput(flags)));
    const trial: TrialConfig = {
      engine,
      rate,
      durationMs,
      warmupMs,
      arrival: flags.arrival,
      seed: flags.seed === undefined ? undefined : parsePositiveInt(flags.seed, '--seed', { min: 0, max: 2 ** 32 - 1 }),
      timeoutMs: parseDuration(flags.timeout, '--timeout'),
      studyConcurrency: Boolean(flags.studyConcurrency),
      workers: parsePositiveInt(flags.workers, '--workers', { max: 64 }),
      connections: parsePositiveInt(flags.connections, '--connections', { max: 10_000 }),
      workload,
      pools: { primary: { ...config.pools.primary }, replica: { ...config.pools.replica } },
      service: structuredClone(config.service) as ServiceConfig,
      sampleIntervalMs: parseDuration(flags.sampleInterval, '--sample-interval'),
    };
    openResultsRoot(flags.results);

    const handle = await prepareCluster(ctx, config, { start: true });
    if (seedEvents !== undefined) {
      // The same interruptible seeding as `esbench seed`: Ctrl-C cancels the statement in flight.
      const outcome = await seedInterruptibly(ctx, handle, {
        events: seedEvents,
        books: workload.books,
        readers: workload.readers,
        seed: 1,
        reset: true,
        snapshots: Boolean(flags.snapshots),
      });
      if (outcome.kind === 'partial') {
        throw new EsbenchError('INTERRUPTED', `stopped after seeding ${outcome.eventsWritten} events, before the run started; nothing was measured`);
      }
    }
    const result = await runTrial(handle, trial, ctx.env, {
      signal: ctx.signal,
      onSecond: (second, live) => ctx.stderr(`${formatProgressLine(second, live ?? {})}\n`),
      onWarning: (w) => ctx.stderr(`warning: ${w.message}\n`),
      onStatus: (line) => ctx.stderr(`run: ${line}\n`),
    });
    const verdicts = evaluateSlo(slo, { latency: result.load.latency, counters: result.load.counters, achievedRate: result.load.engine === 'paced' ? result.load.achievedRate : result.load.completedRate });
    const run = createRunDir(flags.results, 'run');
    const file = path.join(run.dir, 'run.json');
    // Saved before it is summarised.
    writeJson(file, { id: run.id, ...result, slo: verdicts });
    ctx.stdout(flags.json ? fs.readFileSync(file, 'utf8') : printRun(result, file, verdicts));
    await writeReportStep(ctx, run.dir, Boolean(flags.json));
    if (result.partial) ctx.exitCode = 130;
    else if (verdicts.some((v) => !v.ok)) {
      ctx.stderr(`esbench: SLO_VIOLATED: ${verdicts.filter((v) => !v.ok).map((v) => v.text).join(', ')}\n`);
      ctx.exitCode = 1;
    }
  });
}
