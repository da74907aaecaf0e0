import type { Command } from 'commander';
import { openCluster, clusterStatus } from '../../cluster/cluster.ts';
import { printClusterStatus } from '../../report/cluster-status-printer.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';

export function register(program: Command, ctx: CliContext): void {
  const cluster = program.command('cluster').description('manage the embedded PostgreSQL primary + streaming replica');

  addClusterFlags(cluster.command('up').description('create (first time) and start both nodes; idempotent'))
    .option('--json', 'print the status as JSON')
    .action(async (flags: GlobalFlags & { json?: boolean }) => {
      const config = configFor(ctx, clusterInput(flags));
      const handle = await openCluster(config.cluster, { start: true, onProgress: (l) => ctx.stderr(`${l}\n`) });
      const status = await clusterStatus(handle);
      ctx.stdout(flags.json ? `${JSON.stringify(status, null, 2)}\n` : printClusterStatus(status));
    });

  addClusterFlags(cluster.command('down').description('stop both nodes; no postgres process is left behind')).action(
    async (flags: GlobalFlags) => {
      const config = configFor(ctx, clusterInput(flags));
      const handle = await openCluster(config.cluster, { start: false });
      await handle.stop();
      ctx.stdout(handle.mode === 'embedded' ? 'cluster stopped\n' : 'external cluster: nothing to stop\n');
    },
  );

  addClusterFlags(cluster.command('status').description('both nodes, ports, replication state and lag'))
    .option('--json', 'print as JSON')
    .action(async (flags: GlobalFlags & { json?: boolean }) => {
      const config = configFor(ctx, clusterInput(flags));
      const handle = await openCluster(config.cluster, { start: false });
      const status = await clusterStatus(handle);
      ctx.stdout(flags.json ? `${JSON.stringify(status, null, 2)}\n` : printClusterStatus(status));
      // A node that is down (crashed, or an external URL that does not answer) is DB_UNAVAILABLE's exit code.
      if (status.nodes.some((n) => n.state === 'crashed' || n.state === 'unreachable')) ctx.exitCode = 3;
    });
}
