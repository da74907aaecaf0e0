/**
 * Timeline events derived from a node's samples: vacuum / analyze runs (table, start, end) and
 * checkpoints (time), so that latency spikes can be laid next to what the database was doing.
 *
 * A vacuum is seen two ways, and both are used:
 * - in progress (pg_stat_progress_vacuum / _analyze): gives the backend's query_start (the exact
 *   start) and whether an autovacuum worker ran it — but a run shorter than the sample interval can
 *   fall between two samples;
 * - by its completion (pg_stat_user_tables: the (auto)vacuum / (auto)analyze count moves, and
 *   last_(auto)vacuum / last_(auto)analyze is its exact end) — never missed, but without a start.
 * A run seen in progress is paired with the completion that follows it on the same table.
 *
 * A checkpoint is dated by pg_control_checkpoint().checkpoint_time, which changes only when a
 * checkpoint (a restartpoint on a replica) completes; it holds the checkpoint's start, to the
 * second. Whether it was timed or requested comes from the checkpointer counters around it.
 * Without the privilege to read the control file, the counters alone detect it (undated). All
 * times are the server's clock (epoch ms).
 */
import type { Sample } from './sample.ts';

export interface MaintenanceEvent {
  kind: 'maintenance';
  node: string;
  operation: 'vacuum' | 'analyze';
  /** Run by autovacuum rather than by a VACUUM / ANALYZE command. */
  auto: boolean;
  relation: string;
  /** query_start of the backend, when the run was seen in progress. */
  startedAt: number | null;
  /** last_(auto)vacuum / last_(auto)analyze, when the completion was seen. */
  endedAt: number | null;
  /** Server times of the first and last samples that saw it running. */
  seenFrom: number | null;
  seenTo: number | null;
  /** The run ended between these two sample times (when known). */
  completedBetween: [number, number] | null;
  source: 'progress' | 'counters' | 'progress+counters';
  pid: number | null;
}

export interface CheckpointEvent {
  kind: 'checkpoint';
  node: string;
  type: 'checkpoint' | 'restartpoint';
  /** Start of the checkpoint, from the control file (1 s resolution). */
  startedAt: number | null;
  /** It completed between these two sample times. */
  completedBetween: [number, number];
  reason: 'timed' | 'requested' | 'unknown';
  buffersWritten: number | null;
  redoLsn: string | null;
}

export type TimelineEvent = MaintenanceEvent | CheckpointEvent;

interface Completion {
  operation: 'vacuum' | 'analyze';
  auto: boolean;
  relation: string;
  endedAt: number | null;
  between: [number, number];
  used: boolean;
}

const COUNTERS = [
  { operation: 'vacuum', auto: false, count: 'vacuumCount', last: 'lastVacuum' },
  { operation: 'vacuum', auto: true, count: 'autovacuumCount', last: 'lastAutovacuum' },
  { operation: 'analyze', auto: false, count: 'analyzeCount', last: 'lastAnalyze' },
  { operation: 'analyze', auto: true, count: 'autoanalyzeCount', last: 'lastAutoanalyze' },
] as const;

function completions(all: readonly Sample[]): Completion[] {
  // Table counters are read once a second (Sample.detail): compare the samples that have them.
  const samples = all.filter((s) => s.detail !== false);
  const out: Completion[] = [];
  for (let i = 1; i < samples.length; i++) {
    const prev = samples[i - 1]!;
    const cur = samples[i]!;
    const before = new Map(prev.tables.map((t) => [t.relation, t]));
    for (const t of cur.tables) {
      const b = before.get(t.relation);
      for (const c of COUNTERS) {
        const moved = t[c.count] - (b?.[c.count] ?? 0);
        if (!b || moved <= 0) continue;
        // Several completions between two samples: only the last one has a recorded time.
        for (let k = 0; k < moved; k++) {
          out.push({
            operation: c.operation,
            auto: c.auto,
            relation: t.relation,
            endedAt: k === moved - 1 ? t[c.last] : null,
            between: [prev.serverAt, cur.serverAt],
            used: false,
          });
        }
      }
    }
  }
  return out;
}

function maintenanceEvents(samples: readonly Sample[], node: string): MaintenanceEvent[] {
  interface Run {
    pid: number;
    operation: 'vacuum' | 'analyze';
    auto: boolean;
    relation: string;
    startedAt: number | null;
    firstIndex: number;
    lastIndex: number;
  }
  const runs = new Map<string, Run>();
  samples.forEach((s, i) => {
    for (const m of s.maintenance) {
      if (m.relation === null) continue;
      const key = `${m.pid}|${m.kind}|${m.relation}|${m.startedAt ?? ''}`;
      const run = runs.get(key);
      if (run) run.lastIndex = i;
      else runs.set(key, { pid: m.pid, operation: m.kind, auto: m.auto, relation: m.relation, startedAt: m.startedAt, firstIndex: i, lastIndex: i });
    }
  });
  const done = completions(samples);
  const events: MaintenanceEvent[] = [];
  for (const run of [...runs.values()].sort((a, b) => a.firstIndex - b.firstIndex)) {
    const lastSeen = samples[run.lastIndex]!.serverAt;
    // The first completion on the same table, same operation and origin, that ended after the run
    // started. The counters move a moment before the progress row goes away, so the same sample
    // can show both: compare with the start, not with the last sighting.
    const match = done.find(
      (c) =>
        !c.used &&
        c.relation === run.relation &&
        c.operation === run.operation &&
        c.auto === run.auto &&
        (c.endedAt !== null && run.startedAt !== null ? c.endedAt >= run.startedAt : c.between[1] >= lastSeen),
    );
    const next = samples[run.lastIndex + 1];
    if (match) match.used = true;
    events.push({
      kind: 'maintenance',
      node,
      operation: run.operation,
      auto: run.auto,
      relation: run.relation,
      startedAt: run.startedAt,
      endedAt: match?.endedAt ?? null,
      seenFrom: samples[run.firstIndex]!.serverAt,
      seenTo: lastSeen,
      completedBetween: match ? match.between : next ? [lastSeen, next.serverAt] : null,
      source: match ? 'progress+counters' : 'progress',
      pid: run.pid,
    });
  }
  for (const c of done) {
    if (c.used) continue;
    events.push({
      kind: 'maintenance',
      node,
      operation: c.operation,
      auto: c.auto,
      relation: c.relation,
      startedAt: null,
      endedAt: c.endedAt,
      seenFrom: null,
      seenTo: null,
      completedBetween: c.between,
      source: 'counters',
      pid: null,
    });
  }
  return events;
}

/** How long after a checkpoint is seen completing its counters may still move (they are flushed after it). */
const COUNTER_LAG_MS = 1000;

function checkpointEvents(samples: readonly Sample[], node: string, inRecovery: boolean): CheckpointEvent[] {
  const withCounters = samples.filter((s) => s.checkpoint !== null);
  // Where each checkpoint is seen: the control file names a new checkpoint.
  const detected: number[] = [];
  for (let i = 1; i < withCounters.length; i++) {
    const a = withCounters[i - 1]!.checkpoint!;
    const b = withCounters[i]!.checkpoint!;
    const byControlFile = a.lastCheckpointAt !== null && b.lastCheckpointAt !== null;
    // Without the control file (no privilege), counters only: PG 18 counts completed checkpoints
    // (num_done); before, timed + requested also count skipped ones (reported as 'unknown' time).
    const changed = byControlFile
      ? a.lastCheckpointAt !== b.lastCheckpointAt || a.redoLsn !== b.redoLsn
      : b.done !== null && a.done !== null
        ? b.done !== a.done
        : b.timed + b.requested !== a.timed + a.requested;
    if (changed) detected.push(i);
  }
  // The checkpointer flushes its counters after the control file (a fast CHECKPOINT) or during
  // the checkpoint (a spread one), so each checkpoint gets the counter moves from just after the
  // previous one to up to COUNTER_LAG_MS after its own — never past the next one.
  const boundary = (n: number): number => {
    const k = detected[n]!;
    const limit = (detected[n + 1] ?? withCounters.length) - 1;
    let b = k;
    while (b + 1 <= limit && withCounters[b + 1]!.serverAt <= withCounters[k]!.serverAt + COUNTER_LAG_MS) b += 1;
    return b;
  };
  return detected.map((k, n): CheckpointEvent => {
    const from = withCounters[n === 0 ? 0 : boundary(n - 1)]!.checkpoint!;
    const to = withCounters[boundary(n)]!.checkpoint!;
    const seen = withCounters[k]!;
    const requested = to.requested - from.requested;
    const timed = to.timed - from.timed;
    return {
      kind: 'checkpoint',
      node,
      type: inRecovery ? 'restartpoint' : 'checkpoint',
      startedAt: seen.checkpoint!.lastCheckpointAt,
      completedBetween: [withCounters[k - 1]!.serverAt, seen.serverAt],
      reason: requested > 0 ? 'requested' : timed > 0 ? 'timed' : 'unknown',
      buffersWritten: to.buffersWritten - from.buffersWritten,
      redoLsn: seen.checkpoint!.redoLsn,
    };
  });
}

/** Events of one node, in time order. */
export function deriveEvents(samples: readonly Sample[], node: string, inRecovery: boolean): TimelineEvent[] {
  const time = (e: TimelineEvent): number =>
    e.kind === 'checkpoint' ? e.completedBetween[1] : e.startedAt ?? e.endedAt ?? e.completedBetween?.[1] ?? 0;
  return [...maintenanceEvents(samples, node), ...checkpointEvents(samples, node, inRecovery)].sort((a, b) => time(a) - time(b));
}
