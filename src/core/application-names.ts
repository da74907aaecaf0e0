/**
 * The application_name of every connection esbench opens. The observer leaves its own and counts
 * the pools' by these names (pg_stat_activity), so they are defined once, here.
 */
export const APPLICATION_NAMES = {
  primaryPool: 'esbench_primary_pool',
  replicaPool: 'esbench_replica_pool',
  observer: 'esbench_observer',
  health: 'esbench_health',
  status: 'esbench_status',
  maintain: 'esbench_maintain',
  cli: 'esbench_cli',
  cliCancel: 'esbench_cli_cancel',
  cluster: 'esbench_cluster',
  study: 'esbench_study',
  tuner: 'esbench_tuner',
  /** The replica's WAL receiver, as pg_stat_replication on the primary shows it. */
  walReceiver: 'esbench_replica',
} as const;

export type ApplicationName = (typeof APPLICATION_NAMES)[keyof typeof APPLICATION_NAMES];

/** The service's pool on a node: esbench_primary_pool / esbench_replica_pool. */
export function poolApplicationName(node: 'primary' | 'replica'): ApplicationName {
  return node === 'primary' ? APPLICATION_NAMES.primaryPool : APPLICATION_NAMES.replicaPool;
}
