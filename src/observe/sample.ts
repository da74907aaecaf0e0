/**
 * One observer sample of a node (see sampler.ts, which takes them, and events.ts, which derives
 * vacuum / analyze runs and checkpoints from them).
 */

export interface BackendGroup {
  application: string;
  state: string;
  backendType: string;
  waitEventType: string | null;
  waitEvent: string | null;
  count: number;
}

export interface MaintenanceActivity {
  pid: number;
  kind: 'vacuum' | 'analyze';
  /** Started by autovacuum (a worker) rather than a VACUUM / ANALYZE command. */
  auto: boolean;
  relation: string | null;
  phase: string;
  /** query_start of the backend, epoch ms. */
  startedAt: number | null;
  blocksTotal: number | null;
  blocksDone: number | null;
}

export interface CheckpointCounters {
  timed: number;
  requested: number;
  /** Completed checkpoints (PG 18+ only). */
  done: number | null;
  buffersWritten: number;
  restartpointsDone: number | null;
  /** pg_control_checkpoint(): start time of the last completed checkpoint / restartpoint, epoch ms. */
  lastCheckpointAt: number | null;
  redoLsn: string | null;
}

export interface GinPending {
  index: string;
  table: string;
  pendingPages: number;
  pendingTuples: number;
}

/** Per standby: replication lag as esbench defines it (src/cluster/replication-lag.ts), the primary's clock. */
export interface ReplicationOnPrimary {
  application: string;
  state: string;
  /** pg_stat_replication.replay_lag, ms; 0 when NULL (caught up and idle). */
  replayLagMs: number | null;
  /** WAL bytes not replayed by the standby yet (current LSN − its replay LSN). */
  lagBytes: number | null;
}

/**
 * The replica's own view, on the replica's clock: NOT replication lag as esbench defines it (that
 * is ReplicationOnPrimary's), and not merged with it (see node-summary.ts).
 */
export interface ReplicationOnReplica {
  /**
   * Replay delay, ms: now − the last replayed commit's timestamp while received WAL is not all
   * replayed, else 0. Overstates while WAL without commits replays (a long VACUUM); the field keeps
   * its name for saved runs.
   */
  replayLagMs: number | null;
  /** Received − replayed WAL bytes on the replica. */
  receiveReplayBytes: number | null;
}

export interface DatabaseCounters {
  blksHit: number;
  blksRead: number;
  xactCommit: number;
  xactRollback: number;
  tempBytes: number;
  deadlocks: number;
  conflicts: number;
}

export interface TableStats {
  relation: string;
  liveTuples: number;
  deadTuples: number;
  modSinceAnalyze: number;
  vacuumCount: number;
  autovacuumCount: number;
  analyzeCount: number;
  autoanalyzeCount: number;
  lastVacuum: number | null;
  lastAutovacuum: number | null;
  lastAnalyze: number | null;
  lastAutoanalyze: number | null;
}

export interface Sample {
  /** Client clock when the sample was requested (epoch ms). */
  at: number;
  /** The server's clock_timestamp() (epoch ms). */
  serverAt: number;
  /** Round trip of this sample, ms. */
  costMs: number;
  /**
   * This sample read the slow-moving parts: checkpoint, gin, database, tables (once a second, see
   * DETAIL_EVERY_MS in sampler.ts). Without them, checkpoint and database are null and gin and
   * tables empty: not observed in this sample, not zero. Older results lack the field (all detailed).
   */
  detail?: boolean;
  backends: BackendGroup[];
  maintenance: MaintenanceActivity[];
  checkpoint: CheckpointCounters | null;
  gin: GinPending[];
  /** Bytes of WAL since 0/0: current LSN on a primary, replayed LSN on a replica. */
  walBytes: number | null;
  replication: { primary: ReplicationOnPrimary[] } | { replica: ReplicationOnReplica };
  database: DatabaseCounters | null;
  tables: TableStats[];
}
