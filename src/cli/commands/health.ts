import type { Command } from 'commander';
import { openCluster, requireRunning } from '../../cluster/cluster.ts';
import { EsbenchError } from '../../core/errors.ts';
import { parseDuration } from '../../core/units.ts';
import { CHECK_IDS, parseCheckIds, runHealthChecks } from '../../observe/health-checks.ts';
import { printHealthReport } from '../../report/health-printer.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';

interface HealthFlags extends GlobalFlags {
  json?: boolean;
  strict?: boolean;
  only?: string;
  statementTimeout?: string;
}

export function register(program: Command, ctx: CliContext): void {
  addClusterFlags(
    program
      .command('health')
      .description('seed 004\'s eight validation checks plus replication, unused indexes and slow queries; each good / ok / warning with its threshold'),
  )
    .option('--json', 'print the report as JSON')
    .option('--strict', 'exit 1 (CHECK_FAILED) when any check warns')
    .option('--only <ids>', `comma-separated subset of: ${CHECK_IDS.join(', ')}`)
    .option('--statement-timeout <duration>', 'per-query limit of the health sessions', '15s')
    .addHelpText('after', '\nRead-only. The same queries are in sql/health/*.sql for psql users (each file says which node to run it on).')
    .action(async (flags: HealthFlags) => {
      const only = flags.only === undefined ? undefined : parseCheckIds(flags.only);
      const statementTimeoutMs = parseDuration(flags.statementTimeout ?? '15s', '--statement-timeout');
      const config = configFor(ctx, clusterInput(flags));
      const handle = await openCluster(config.cluster, { start: false });
      requireRunning(handle);
      const report = await runHealthChecks(
        { primaryUrl: handle.primaryUrl, replicaUrl: handle.replicaUrl, dataDir: handle.embedded?.dataDir },
        { only, statementTimeoutMs },
      );
      ctx.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : printHealthReport(report));
      if (flags.strict && report.counts.warning > 0) {
        const warned = report.checks.filter((c) => c.status === 'warning').map((c) => c.id);
        throw new EsbenchError('CHECK_FAILED', `${warned.length} check(s) warned: ${warned.join(', ')}`);
      }
    });
}
