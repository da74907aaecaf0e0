/**
 * PostgreSQL settings for one node of the event store, from its RAM, role and workload.
 *
 * Memory follows seed 002's sizing table (shared_buffers 25 % of RAM, effective_cache_size 75 %,
 * work_mem RAM/128, maintenance_work_mem RAM/16: exactly its 16/32/64/128 GB rows). WAL and
 * autovacuum follow the study's per-role choices (seed 003). Every setting carries the reason it
 * has this value, because a config fragment without reasons cannot be reviewed.
 */
import { EsbenchError } from '../core/errors.ts';
import { formatPgSize, parsePositiveInt, parseSize } from '../core/units.ts';

export type NodeRole = 'primary' | 'replica';
export type Workload = 'append' | 'read';
export type SettingSection = 'connections' | 'memory' | 'wal' | 'replication' | 'planner' | 'autovacuum';

export const NODE_ROLES: readonly NodeRole[] = ['primary', 'replica'];
export const WORKLOADS: readonly Workload[] = ['append', 'read'];

const MB = 1024 ** 2;
const GB = 1024 ** 3;
/** Below this, 25 % for shared_buffers leaves too little for anything else; no real node is that small. */
export const MIN_RAM_BYTES = 256 * MB;
/** Far above any single machine; catches typos such as '32TBB' parsed as bytes elsewhere or '32000GB'. */
export const MAX_RAM_BYTES = 64 * 1024 * GB;

export interface MemorySizing {
  ramBytes: number;
  sharedBuffersBytes: number;
  effectiveCacheSizeBytes: number;
  workMemBytes: number;
  maintenanceWorkMemBytes: number;
}

export interface TuneSetting {
  section: SettingSection;
  name: string;
  /** Exactly as it goes into postgresql.conf. */
  value: string;
  why: string;
}

export interface TuneConfigInput {
  ramBytes: number;
  role: NodeRole;
  workload: Workload;
  /** max_connections; when given, work_mem is capped so that all connections fit in RAM. */
  connections?: number | undefined;
}

export interface TuneConfigResult {
  input: TuneConfigInput;
  memory: MemorySizing;
  settings: TuneSetting[];
  notes: string[];
}

/** Floors to whole megabytes: PostgreSQL accepts any kB value, but MB figures are what people compare. */
function floorMb(bytes: number): number {
  return Math.max(MB, Math.floor(bytes / MB) * MB);
}

/** Seed 002's table as rules. For its four rows (16/32/64/128 GB) the figures are the table's exactly. */
export function sizeMemory(ramBytes: number): MemorySizing {
  checkRam(ramBytes);
  return {
    ramBytes,
    sharedBuffersBytes: floorMb(ramBytes / 4),
    effectiveCacheSizeBytes: floorMb((ramBytes * 3) / 4),
    workMemBytes: floorMb(ramBytes / 128),
    maintenanceWorkMemBytes: floorMb(ramBytes / 16),
  };
}

function checkRam(ramBytes: number): void {
  if (!Number.isFinite(ramBytes) || ramBytes < MIN_RAM_BYTES || ramBytes > MAX_RAM_BYTES) {
    throw new EsbenchError(
      'BAD_FLAG',
      `--ram must be between ${formatPgSize(MIN_RAM_BYTES)} and ${formatPgSize(MAX_RAM_BYTES)} (got ${Number.isFinite(ramBytes) ? formatPgSize(ramBytes) : String(ramBytes)})`,
    );
  }
}

export function parseRole(text: string): NodeRole {
  if ((NODE_ROLES as readonly string[]).includes(text)) return text as NodeRole;
  throw new EsbenchError('BAD_FLAG', `--role must be one of ${NODE_ROLES.join(', ')} (got '${text}')`);
}

export function parseWorkload(text: string): Workload {
  if ((WORKLOADS as readonly string[]).includes(text)) return text as Workload;
  throw new EsbenchError('BAD_FLAG', `--workload must be one of ${WORKLOADS.join(', ')} (got '${text}')`);
}

/** Validates raw flag text into a TuneConfigInput (BAD_FLAG, exit 2, on anything nonsensical). */
export function parseTuneConfigFlags(flags: { ram: string; role: string; workload?: string | undefined; connections?: string | undefined }): TuneConfigInput {
  const ramBytes = parseSize(flags.ram, '--ram');
  checkRam(ramBytes);
  const role = parseRole(flags.role);
  // The study's roles imply their workloads: commands append on the primary, read models read the replica.
  const workload = flags.workload === undefined ? (role === 'primary' ? 'append' : 'read') : parseWorkload(flags.workload);
  const connections = flags.connections === undefined ? undefined : parsePositiveInt(flags.connections, '--connections', { min: 2, max: 10_000 });
  return { ramBytes, role, workload, connections };
}

/** Sorts and hash tables a query may run at once, per connection, when capping work_mem. */
const MEMORY_NODES_PER_CONNECTION = 3;

export function tuneConfig(input: TuneConfigInput): TuneConfigResult {
  const memory = sizeMemory(input.ramBytes);
  const settings: TuneSetting[] = [];
  const notes: string[] = [];
  const add = (section: SettingSection, name: string, value: string, why: string) => settings.push({ section, name, value, why });
  const ram = input.ramBytes;

  // --- connections
  let workMem = memory.workMemBytes;
  if (input.connections !== undefined) {
    add('connections', 'max_connections', String(input.connections), 'from --connections: the max of every pool that connects to this node, plus maintenance and monitoring sessions');
    const cap = Math.floor((ram - memory.sharedBuffersBytes) / (input.connections * MEMORY_NODES_PER_CONNECTION) / MB) * MB;
    if (cap < workMem) {
      notes.push(
        `work_mem lowered from ${formatPgSize(workMem)} (seed 002's RAM/128) to ${formatPgSize(Math.max(MB, cap))} so that ${input.connections} connections x ${MEMORY_NODES_PER_CONNECTION} sort/hash nodes fit in RAM - shared_buffers`,
      );
      workMem = Math.max(MB, cap);
    }
    if (input.role === 'replica') {
      notes.push('a hot standby refuses to start when its max_connections is lower than the primary\'s: give the replica at least the primary\'s value');
    }
  } else {
    notes.push(`work_mem is per sort/hash node and per connection: with N connections up to ~${MEMORY_NODES_PER_CONNECTION}N x work_mem can be in use; pass --connections to cap it`);
  }

  // --- memory (seed 002)
  add('memory', 'shared_buffers', formatPgSize(memory.sharedBuffersBytes), '25% of RAM (seed 002): PostgreSQL\'s own cache; the OS page cache holds the rest (restart needed)');
  add('memory', 'effective_cache_size', formatPgSize(memory.effectiveCacheSizeBytes), '75% of RAM (seed 002): planner hint of shared_buffers + OS cache; allocates nothing');
  add('memory', 'work_mem', formatPgSize(workMem), input.connections !== undefined && workMem !== memory.workMemBytes
    ? 'capped by --connections (see note); seed 002 would give RAM/128'
    : 'RAM/128 (seed 002\'s table); per sort/hash node, so keep it modest');
  add('memory', 'maintenance_work_mem', formatPgSize(memory.maintenanceWorkMemBytes), 'RAM/16 (seed 002\'s table): VACUUM and (RE)INDEX of the GIN indexes run faster with more');
  add('memory', 'huge_pages', 'try', 'large shared_buffers map with fewer TLB misses when the OS offers huge pages; harmless otherwise');

  // --- WAL
  add('wal', 'synchronous_commit', 'on', 'an append is acknowledged only once durable; the study\'s figures assume it, and off would hide the commit cost');
  if (input.workload === 'append') {
    const maxWal = Math.min(16 * GB, Math.max(GB, floorMb(ram / 8)));
    add('wal', 'checkpoint_timeout', '15min', 'append-heavy (seed 003 phase 4 "checkpoint tuning"): fewer checkpoints, so fewer full-page images in the WAL');
    add('wal', 'max_wal_size', formatPgSize(maxWal), 'RAM/8 within 1GB..16GB: lets checkpoint_timeout, not WAL volume, trigger checkpoints under sustained appends');
    add('wal', 'min_wal_size', formatPgSize(floorMb(maxWal / 4)), 'keeps recycled WAL segments around instead of re-creating them');
    add('wal', 'checkpoint_completion_target', '0.9', 'spreads checkpoint writes over the interval so they do not stall appends');
    add('wal', 'wal_compression', 'on', 'smaller full-page images: less WAL to write and to stream to the replica, for some CPU');
  } else {
    add('wal', 'checkpoint_timeout', '5min', 'read-mostly: few writes, so the default interval costs little and shortens crash recovery');
  }

  // --- replication (role)
  if (input.role === 'primary') {
    add('replication', 'wal_level', 'replica', 'required for the streaming replica');
    add('replication', 'max_wal_senders', '10', 'one per replica plus pg_basebackup and spares');
    add('replication', 'max_replication_slots', '10', 'the replica uses a physical slot so the primary keeps the WAL it still needs');
  } else {
    add('replication', 'hot_standby', 'on', 'read models query the replica (eventual consistency)');
    add('replication', 'hot_standby_feedback', 'on', 'stops vacuum on the primary from removing rows replica queries still read (no query cancellations); cost: those rows stay dead on the primary a little longer');
    add('replication', 'max_standby_streaming_delay', '30s', 'how long replay may wait for a conflicting replica query before cancelling it; lag grows meanwhile');
    add('replication', 'wal_receiver_status_interval', '1s', 'reports replay position and feedback every second instead of 10 s, so replay_lag and the feedback xmin are fresh');
  }

  // --- planner
  add('planner', 'random_page_cost', '1.1', 'assumes SSD/NVMe storage: index scans cost nearly what sequential reads do (use 4 on spinning disks)');
  add('planner', 'effective_io_concurrency', '200', 'SSD: bitmap heap scans (the GIN containment queries) may prefetch many pages');
  add('planner', 'jit', 'off', 'the event store\'s queries are short; JIT compilation would add milliseconds to a sub-millisecond query');

  // --- autovacuum (seed 003, per role)
  if (input.role === 'primary') {
    add('autovacuum', 'autovacuum_vacuum_scale_factor', '0.8', 'seed 003 primary: events is append-only, dead rows are rare, vacuum rarely for them');
    add('autovacuum', 'autovacuum_analyze_scale_factor', '0.02', 'seed 003 primary: analyze at 2% changed rows; JSONB containment plans need fresh statistics');
    add('autovacuum', 'autovacuum_naptime', '2min', 'seed 003 primary');
    add('autovacuum', 'autovacuum_vacuum_cost_delay', '2ms', 'seed 003 primary (also PostgreSQL\'s default since 12)');
    add('autovacuum', 'autovacuum_vacuum_cost_limit', '8000', 'seed 003 primary: when vacuum runs, it finishes sooner (default -1 = vacuum_cost_limit 200)');
    notes.push(
      'append-only still triggers autovacuum: since PostgreSQL 13 inserts alone do (autovacuum_vacuum_insert_threshold/_scale_factor), which seed 003\'s scale factors do not change',
    );
    notes.push('autovacuum_vacuum_scale_factor 0.8 applies to every table, including snapshots (updated in place); seed 003\'s later per-table settings (tuning/autovacuum/seed003-per-table.conf) narrow it to events');
  } else {
    add('autovacuum', 'autovacuum_vacuum_scale_factor', '0.9', 'seed 003 replica: only matters once the replica is promoted');
    add('autovacuum', 'autovacuum_analyze_scale_factor', '0.05', 'seed 003 replica: only matters once the replica is promoted');
    add('autovacuum', 'autovacuum_naptime', '10min', 'seed 003 replica: only matters once the replica is promoted');
    notes.push('autovacuum does not run on a standby: vacuum and statistics arrive from the primary through the WAL, so seed 003\'s replica settings only take effect after promotion');
  }
  return { input, memory, settings, notes };
}
