/**
 * One handle on "the cluster", whatever provides it: the embedded primary + replica, or an
 * existing pair of servers given by URL (external mode, nothing started or stopped).
 */
import { isExternal, type ClusterConfig } from '../core/config.ts';
import { EsbenchError } from '../core/errors.ts';
import { APPLICATION_NAMES } from '../core/application-names.ts';
import { withClient } from '../core/pg-client.ts';
import { redactUrl } from '../core/redact.ts';
import { EmbeddedCluster, NODES, urlFor, type NodeName } from './embedded-cluster.ts';
import { replicationLag } from './replication-lag.ts';

export interface ClusterHandle {
  mode: 'embedded' | 'external' | 'container';
  primaryUrl: string;
  /** External mode without a replica URL: the primary serves reads too. */
  replicaUrl: string;
  embedded: EmbeddedCluster | undefined;
  stop(): Promise<void>;
}

export interface OpenOptions {
  /** Start the embedded cluster if it is not running (cluster up, run, serve). */
  start: boolean;
  onProgress?: (line: string) => void;
}

export async function openCluster(config: Readonly<ClusterConfig>, options: OpenOptions): Promise<ClusterHandle> {
  if (isExternal(config)) {
    const primaryUrl = config.primaryUrl!;
    return { mode: 'external', primaryUrl, replicaUrl: config.replicaUrl ?? primaryUrl, embedded: undefined, stop: async () => {} };
  }
  const embedded = new EmbeddedCluster({
    dataDir: config.dataDir,
    tuningDir: config.tuningDir,
    runAs: config.runAs,
    pgBinDir: config.pgBinDir,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  let state = embedded.readState();
  if (options.start) state = await embedded.up();
  return {
    mode: 'embedded',
    primaryUrl: state ? urlFor(state.ports.primary) : '',
    replicaUrl: state ? urlFor(state.ports.replica) : '',
    embedded,
    stop: () => embedded.down(),
  };
}

/** Fails with CLUSTER_NOT_RUNNING unless both nodes of an embedded cluster are up. */
export function requireRunning(handle: ClusterHandle): void {
  if (handle.mode !== 'embedded' || !handle.embedded) return;
  const down = handle.embedded.processStatus().filter((n) => n.state !== 'running');
  if (down.length > 0) {
    const crashed = down.find((n) => n.state === 'crashed');
    if (crashed) {
      throw new EsbenchError('NODE_CRASHED', `${crashed.node} is down (crashed?): see ${crashed.log}; \`esbench cluster up\` restarts it`);
    }
    throw new EsbenchError('CLUSTER_NOT_RUNNING', 'the embedded cluster is not running: run `esbench cluster up`');
  }
}

export interface NodeStatus {
  node: NodeName;
  url: string;
  port: number | null;
  state: 'running' | 'stopped' | 'crashed' | 'absent' | 'unreachable';
  pid: number | null;
  version: string | null;
  inRecovery: boolean | null;
  error?: string;
}

export interface ReplicationStatus {
  state: string | null;
  /** Seconds behind, as the primary sees it (pg_stat_replication.replay_lag). */
  replayLagSeconds: number | null;
  lagBytes: number | null;
}

export interface ClusterStatus {
  mode: ClusterHandle['mode'];
  dataDir: string | null;
  nodes: NodeStatus[];
  replication: ReplicationStatus;
}

const statusClient = { applicationName: APPLICATION_NAMES.status, connectionTimeoutMillis: 2000 };

export async function clusterStatus(handle: ClusterHandle): Promise<ClusterStatus> {
  const processes = handle.embedded?.processStatus();
  const urls: Record<NodeName, string> = { primary: handle.primaryUrl, replica: handle.replicaUrl };
  const nodes: NodeStatus[] = [];
  for (const node of NODES) {
    const proc = processes?.find((p) => p.node === node);
    const base: NodeStatus = {
      node,
      url: redactUrl(urls[node]),
      port: proc?.port ?? (urls[node] ? Number(new URL(urls[node]).port || 5432) : null),
      state: proc?.state ?? 'running',
      pid: proc?.pid ?? null,
      version: null,
      inRecovery: null,
    };
    if (base.state === 'running' && urls[node]) {
      try {
        const r = await withClient(
          urls[node],
          (c) =>
            c.query<{ version: string; in_recovery: boolean }>(
              "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery",
            ),
          statusClient,
        );
        base.version = r.rows[0]?.version ?? null;
        base.inRecovery = r.rows[0]?.in_recovery ?? null;
      } catch (e) {
        base.state = 'unreachable';
        base.error = (e as Error).message;
      }
    }
    nodes.push(base);
  }
  const replication: ReplicationStatus = { state: null, replayLagSeconds: null, lagBytes: null };
  if (nodes[0]?.state === 'running') {
    try {
      const [standby] = await withClient(handle.primaryUrl, replicationLag, statusClient);
      if (standby) {
        replication.state = standby.state;
        replication.replayLagSeconds = standby.replayLagMs / 1000;
        replication.lagBytes = standby.replayLagBytes;
      }
    } catch {
      /* reported through the node state */
    }
  }
  return { mode: handle.mode, dataDir: handle.embedded?.dataDir ?? null, nodes, replication };
}
