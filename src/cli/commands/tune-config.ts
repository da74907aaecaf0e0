import type { Command } from 'commander';
import { NODE_ROLES, parseTuneConfigFlags, tuneConfig, WORKLOADS } from '../../tuner/memory-sizing.ts';
import { printTuneConfig } from '../../report/tune-config-printer.ts';
import { choiceOption } from '../choice-option.ts';
import type { CliContext } from '../context.ts';

interface TuneConfigFlags {
  ram: string;
  role: string;
  workload?: string;
  connections?: string;
  json?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('tune-config')
    .description('print a commented postgresql.conf fragment for one node (seed 002 memory sizing, seed 003 WAL/autovacuum per role)')
    .requiredOption('--ram <size>', 'RAM of the node, e.g. 4GB, 32GB')
    .addOption(choiceOption('--role <role>', 'the node this fragment is for', NODE_ROLES).makeOptionMandatory())
    .addOption(choiceOption('--workload <kind>', 'default: append for a primary, read for a replica', WORKLOADS))
    .option('--connections <n>', 'max_connections; also caps work_mem so all connections fit in RAM')
    .option('--json', 'print the settings as JSON')
    .action((flags: TuneConfigFlags) => {
      const result = tuneConfig(parseTuneConfigFlags(flags));
      ctx.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : printTuneConfig(result));
    });
}
