import path from 'node:path';
import { writeReportStep } from '../report-step.ts';
import type { Command } from 'commander';
import { mergeDeep, type ServiceConfig } from '../../core/config.ts';
import { EsbenchError } from '../../core/errors.ts';
import { parseDuration, parsePositiveInt, parsePositiveNumber } from '../../core/units.ts';
import type { Threshold } from '../../analysis/statistics.ts';
import { resolveWorkloadSpec } from '../../load/workload.ts';
import { createRunDir, openResultsRoot } from '../../report/results-dir.ts';
import { printSweep } from '../../report/sweep-printer.ts';
import { gridLevels, parseFactor, readPlanFile, type FactorSpec } from '../../tuner/sweep-factors.ts';
import { readStoredPlan, runSweep, type SweepPlan } from '../../tuner/sweep.ts';
import { trialConfig } from '../../tuner/trial.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { addPoolFlags, poolInput, type PoolFlags } from '../pool-flags.ts';
import { prepareCluster, withPrimary } from '../prepare.ts';
import type { ClusterHandle } from '../../cluster/cluster.ts';
import { seedInterruptibly } from './seed.ts';

interface SweepFlags extends GlobalFlags, PoolFlags {
  factor: string[];
  plan?: string;
  baseline?: string;
  repeats?: string;
  rate: string;
  duration?: string;
  warmup?: string;
  workload: string;
  seed: string;
  threshold: string;
  driftEvery?: string;
  quick?: boolean;
  resume?: string;
  results: string;
  json?: boolean;
  events: string;
}

/** Like `start`: a store without events gets a seeded library first (the study workload needs one). */
export async function seedIfEmpty(ctx: CliContext, handle: ClusterHandle, events: number): Promise<void> {
  const empty = await withPrimary(handle, async (c) => (await c.query('SELECT 1 FROM events LIMIT 1')).rowCount === 0);
  if (!empty) return;
  const outcome = await seedInterruptibly(ctx, handle, { events, books: 1000, readers: 100, seed: 1, reset: false });
  if (outcome.kind === 'partial') throw new EsbenchError('INTERRUPTED', `stopped after seeding ${outcome.eventsWritten} events, before anything was measured`);
}

/** '5%,1ms' → {relative: 0.05, absoluteMs: 1}. */
export function parseThreshold(text: string): Threshold {
  const out: Threshold = { relative: 0.05, absoluteMs: 1 };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+(?:\.\d+)?)\s*(%|ms)$/.exec(part);
    if (!m) throw new EsbenchError('BAD_FLAG', `--threshold '${part}' is not like 5% or 1ms`);
    if (m[2] === '%') out.relative = Number(m[1]) / 100;
    else out.absoluteMs = Number(m[1]);
  }
  return out;
}

export function register(program: Command, ctx: CliContext): void {
  addPoolFlags(
    addClusterFlags(
      program
        .command('sweep')
        .description('compare levels of a factor (or a grid) over repeated trials in random order: CIs, corrected tests, a recommendation')
        .option('--factor <name=values>', 'pool-min | replica-pool-min | pool-max | gin-fastupdate | gin-pending-list-limit | autovacuum | append-strategy | decisions | snapshot-threshold, e.g. pool-min=0,2,5,10,20 (repeat for a grid)', (v: string, acc: string[]) => [...acc, v], [] as string[])
        .option('--plan <file>', "a YAML/JSON plan: {factors: {pool-min: [2, 20]}, repeats, rate, duration, warmup, seed, threshold, baseline}")
        .option('--baseline <key>', "the level the others are compared with (default: the first), e.g. 'pool-min=2'")
        .option('--repeats <n>', 'trials per level (default 3; --quick 2)')
        .option('--rate <n>', 'target requests per second of every trial', '30')
        .option('--duration <duration>', 'measured window per trial (default 30s; --quick 12s)')
        .option('--warmup <duration>', 'warm-up per trial (default 10s; --quick 3s)')
        .option('--workload <name>', 'study | read-models | raw-append | raw-query | raw', 'study')
        .option('--seed <n>', 'seed of the trial order and of every trial\'s workload (the same for all levels)', '1')
        .option('--threshold <t>', 'practical threshold: a difference below it is "no practical difference"', '5%,1ms')
        .option('--drift-every <n>', 're-run the baseline every n trials to measure drift (default 4; --quick 0 = its own repetitions only)')
        .option('--quick', 'short trials, 2 repeats (a first answer in minutes)')
        .option('--resume <dir>', 'continue an interrupted sweep in <dir> (its plan; no trial with a run.json is redone)')
        .option('--results <dir>', 'results directory', 'results')
        .option('--events <n>', 'events to seed when the store is empty', '10000')
        .option('--json', 'print sweep.json instead of the summary'),
    ),
  ).action(async (flags: SweepFlags) => {
    const config = configFor(ctx, mergeDeep(clusterInput(flags), poolInput(flags)));
    let plan: SweepPlan;
    let dir: string;
    if (flags.resume !== undefined) {
      dir = path.resolve(flags.resume);
      plan = readStoredPlan(dir);
      ctx.stderr(`sweep: resuming ${dir} with its stored plan (${plan.levels.length} levels × ${plan.repeats}); other sweep flags are ignored\n`);
    } else {
      const file = flags.plan !== undefined ? readPlanFile(flags.plan) : undefined;
      const factors: FactorSpec[] = [...(file?.factors ?? []), ...flags.factor.map(parseFactor)];
      const levels = gridLevels(factors, config.cluster.tuningDir);
      const quick = Boolean(flags.quick);
      const num = (v: string | undefined, flag: string, dflt: number, min = 1) => (v === undefined ? dflt : parsePositiveInt(v, flag, { min, max: 1000 }));
      const repeats = flags.repeats !== undefined ? num(flags.repeats, '--repeats', 3) : (file?.repeats ?? (quick ? 2 : 3));
      const durationMs = parseDuration(flags.duration ?? file?.duration ?? (quick ? '12s' : '30s'), '--duration');
      const warmupMs = parseDuration(flags.warmup ?? file?.warmup ?? (quick ? '3s' : '10s'), '--warmup');
      if (durationMs < 1000) throw new EsbenchError('BAD_FLAG', '--duration must be at least 1s');
      const rate = file?.rate ?? parsePositiveNumber(flags.rate, '--rate');
      const seed = file?.seed ?? parsePositiveInt(flags.seed, '--seed', { min: 0, max: 2 ** 31 - 1 });
      const baselineKey = flags.baseline ?? file?.baseline ?? levels[0]!.key;
      if (!levels.some((l) => l.key === baselineKey)) throw new EsbenchError('BAD_PLAN', `--baseline '${baselineKey}' is not a level (levels: ${levels.map((l) => l.key).join(' | ')})`);
      const base = trialConfig({
        rate,
        durationMs,
        warmupMs,
        seed,
        workload: resolveWorkloadSpec({ preset: file?.workload ?? flags.workload }),
        pools: { primary: { ...config.pools.primary }, replica: { ...config.pools.replica } },
        service: structuredClone(config.service) as ServiceConfig,
      });
      plan = {
        levels,
        baselineKey,
        repeats,
        trial: base,
        threshold: parseThreshold(file?.threshold ?? flags.threshold),
        seed,
        driftEvery: num(flags.driftEvery, '--drift-every', quick ? 0 : 4, 0),
      };
      openResultsRoot(flags.results);
      dir = createRunDir(flags.results, 'sweep').dir;
    }
    const events = parsePositiveInt(flags.events, '--events', { min: 1, max: 100_000_000 });
    const handle = await prepareCluster(ctx, config, { start: true });
    await seedIfEmpty(ctx, handle, events);
    const embedded = handle.embedded;
    const result = await runSweep(
      {
        primaryUrl: handle.primaryUrl,
        replicaUrl: handle.replicaUrl,
        embedded,
        ...(embedded ? { restart: (node: 'primary' | 'replica') => embedded.restart(node) } : {}),
        onProgress: (l) => ctx.stderr(`${l}\n`),
      },
      plan,
      dir,
      { signal: ctx.signal, env: ctx.env, onProgress: (l) => ctx.stderr(`${l}\n`) },
    );
    const file = path.join(dir, 'sweep.json');
    ctx.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : printSweep(result, file));
    await writeReportStep(ctx, dir, Boolean(flags.json));
    if (result.partial) ctx.exitCode = 130;
  });
}
