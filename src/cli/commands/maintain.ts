import type { Command } from 'commander';
import { openCluster, requireRunning } from '../../cluster/cluster.ts';
import { EsbenchError, type ErrorCode, ERROR_CATALOGUE } from '../../core/errors.ts';
import { parseDuration } from '../../core/units.ts';
import { printMaintenanceReport } from '../../report/maintenance-printer.ts';
import {
  DEFAULT_STEPS,
  defaultProfileFile,
  dryRunReport,
  loadAutovacuumProfile,
  MAINTENANCE_STEPS,
  parseSteps,
  planMaintenance,
  runMaintenance,
  STEP_LOCKS,
} from '../../store/maintenance.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';

interface MaintainFlags extends GlobalFlags {
  steps?: string;
  profile?: string;
  allowTruncate?: boolean;
  lockTimeout?: string;
  dryRun?: boolean;
  json?: boolean;
}

/** Wraps text to `width` columns, continuation lines indented by `indent`. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  const lead = /^ */.exec(text)![0];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    if (line.trim() && line.length + word.length + 1 > width) {
      lines.push(line);
      line = indent + word;
    } else line = line.trim() ? `${line} ${word}` : `${line}${word}`;
  }
  return [...lines, line].join('\n');
}

const LOCKS_HELP = [
  '',
  'Steps, in this order (default: ' + DEFAULT_STEPS.join(',') + '), and what each locks:',
  ...MAINTENANCE_STEPS.map((s) => wrap(`  ${s.padEnd(11)} ${STEP_LOCKS[s]}`, 96, ' '.repeat(14))),
  '',
  'No step takes a lock that conflicts with an append (INSERT takes ROW EXCLUSIVE). A step that',
  'cannot get its lock within --lock-timeout fails instead of waiting. Runs on the primary only.',
  'Only the profile\'s #@table lines are applied; its server lines belong in postgresql.conf.',
].join('\n');

export function register(program: Command, ctx: CliContext): void {
  addClusterFlags(
    program
      .command('maintain')
      .description('seed 004 maintenance of the event store: VACUUM (ANALYZE), ANALYZE, REINDEX CONCURRENTLY, per-table autovacuum settings'),
  )
    .option('--steps <list>', `comma-separated steps among ${MAINTENANCE_STEPS.join(', ')}`, DEFAULT_STEPS.join(','))
    .option('--profile <file>', 'autovacuum profile whose #@table lines the autovacuum step applies (default: <tuning-dir>/autovacuum/seed003-per-table.conf)')
    .option('--allow-truncate', 'let VACUUM truncate trailing empty pages (takes ACCESS EXCLUSIVE briefly: blocks appends)')
    .option('--lock-timeout <duration>', 'give up a step that waits longer than this for its lock', '10s')
    .option('--dry-run', 'print the SQL (with what each step locks) and run nothing')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', LOCKS_HELP)
    .action(async (flags: MaintainFlags) => {
      const steps = parseSteps(flags.steps ?? DEFAULT_STEPS.join(','));
      const lockTimeoutMs = parseDuration(flags.lockTimeout ?? '10s', '--lock-timeout');
      const config = configFor(ctx, clusterInput(flags));
      const profile = steps.includes('autovacuum') ? loadAutovacuumProfile(flags.profile ?? defaultProfileFile(config.cluster.tuningDir)) : undefined;
      const plan = planMaintenance({ steps, profile, allowTruncate: flags.allowTruncate ?? false });
      if (flags.dryRun) {
        const report = dryRunReport(plan);
        ctx.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : printMaintenanceReport(report));
        return;
      }
      const handle = await openCluster(config.cluster, { start: false });
      requireRunning(handle);
      const report = await runMaintenance(handle.primaryUrl, plan, {
        lockTimeoutMs,
        signal: ctx.signal,
        onProgress: flags.json ? undefined : (line) => ctx.stderr(`${line}\n`),
      });
      ctx.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : printMaintenanceReport(report));
      if (ctx.signal.aborted) throw new EsbenchError('INTERRUPTED', 'maintenance interrupted; the steps that ran are reported above');
      if (report.error) {
        const code = (report.error.code in ERROR_CATALOGUE ? report.error.code : 'INTERNAL') as ErrorCode;
        throw new EsbenchError(code, report.error.message);
      }
    });
}
