import path from 'node:path';
import type { Command } from 'commander';
import { spikesOf } from '../../analysis/saved-run-spikes.ts';
import { writeJson } from '../../report/results-dir.ts';
import { printSpikes } from '../../report/spikes-printer.ts';
import type { CliContext } from '../context.ts';

interface SpikesFlags {
  against?: string;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('spikes')
    .description('the latency spikes of a saved run and their causes (recomputed from run.json); with --against, whether a reference run\'s spikes are gone')
    .argument('<run-dir>', 'a run directory (or its run.json) saved by esbench run')
    .option('--against <run-dir>', 'the reference run (e.g. before the change): are its spikes gone in <run-dir>?')
    .option('--json', 'print the saved spikes.json instead of the summary')
    .addHelpText(
      'after',
      '\nWrites spikes.json next to the run\'s run.json. Spike count and timeouts are compared with one-sided conditional binomial tests of two rates; ' +
        'per-second p99s with a Mann-Whitney U (indicative: seconds of a run are not independent).',
    )
    .action((runDir: string, flags: SpikesFlags) => {
      const result = spikesOf(path.resolve(ctx.cwd, runDir), flags.against === undefined ? undefined : path.resolve(ctx.cwd, flags.against));
      const file = path.join(path.dirname(result.run.file), 'spikes.json');
      // Saved before it is summarised.
      writeJson(file, result);
      ctx.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : printSpikes(result, file));
    });
}
