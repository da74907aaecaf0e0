import type { ClusterStatus } from '../cluster/cluster.ts';
import { fixed } from '../core/format.ts';

export function printClusterStatus(s: ClusterStatus): string {
  const lines = [`cluster: ${s.mode}${s.dataDir ? ` (${s.dataDir})` : ''}`];
  for (const n of s.nodes) {
    const role = n.inRecovery === null ? '' : n.inRecovery ? ' standby' : ' primary';
    lines.push(
      `  ${n.node.padEnd(8)} ${n.state.padEnd(11)} port ${String(n.port ?? '-').padEnd(6)} pid ${String(n.pid ?? '-').padEnd(8)}` +
        ` ${n.version ? `PostgreSQL ${n.version}${role}` : ''}${n.error ? ` error: ${n.error}` : ''}`,
    );
    if (n.state === 'running') lines.push(`           ${n.url}`);
    // Down although the cluster should run (kill -9, OOM killer, reboot): say how to recover.
    if (n.state === 'crashed') lines.push('           down although the cluster should run: `esbench cluster up` restarts it (crash recovery replays its WAL)');
  }
  const r = s.replication;
  lines.push(
    r.state
      ? `  replication: ${r.state}, replay lag ${r.replayLagSeconds === null ? '-' : `${fixed(r.replayLagSeconds * 1000, 1)} ms`}, ${r.lagBytes ?? '-'} bytes behind`
      : '  replication: not streaming',
  );
  return `${lines.join('\n')}\n`;
}
