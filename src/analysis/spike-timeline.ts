/**
 * The observer's samples and events of one node on the load generator's clock, so they can be laid
 * next to the per-second latency. Samples carry both clocks (`at` = client, `serverAt` = server);
 * events carry server times only, so they are shifted by the median client − server offset of the
 * node's samples (zero for a local node; for a remote one, its clock skew).
 */
import { median } from 'simple-statistics';
import type { MaintenanceEvent, TimelineEvent } from '../observe/events.ts';
import type { Sample } from '../observe/sample.ts';
import type { SamplerResult } from '../observe/sampler.ts';
import type { SpikeCauseKind } from './spike-types.ts';

export interface MaintenanceRun {
  node: string;
  kind: Extract<SpikeCauseKind, 'autovacuum' | 'autoanalyze' | 'vacuum' | 'analyze'>;
  relation: string;
  /** Client-clock epoch ms; `start` is null when only the completion was seen. */
  start: number | null;
  end: number | null;
  /** The earliest and latest moment it can have run (for overlap tests). */
  earliest: number;
  latest: number;
}

export interface NodeTimeline {
  node: string;
  inRecovery: boolean;
  samples: readonly Sample[];
  maintenance: MaintenanceRun[];
  checkpoints: Array<{ start: number | null; completedBetween: [number, number]; reason: string; type: string; buffersWritten: number | null }>;
  errors: ReadonlyArray<{ at: number; message: string }>;
  settings: Readonly<Record<string, string>>;
  /** Client − server clock, ms. */
  offsetMs: number;
}

export function maintenanceKind(e: Pick<MaintenanceEvent, 'operation' | 'auto'>): MaintenanceRun['kind'] {
  if (e.operation === 'vacuum') return e.auto ? 'autovacuum' : 'vacuum';
  return e.auto ? 'autoanalyze' : 'analyze';
}

function maintenanceRun(e: MaintenanceEvent, node: string, shift: (t: number | null) => number | null): MaintenanceRun {
  const start = shift(e.startedAt ?? e.seenFrom);
  const end = shift(e.endedAt ?? e.seenTo);
  const cb = e.completedBetween ? [shift(e.completedBetween[0])!, shift(e.completedBetween[1])!] : null;
  const earliest = start ?? cb?.[0] ?? end ?? 0;
  const latest = end ?? cb?.[1] ?? start ?? earliest;
  return { node, kind: maintenanceKind(e), relation: e.relation, start, end, earliest, latest: Math.max(latest, earliest) };
}

export function nodeTimeline(sampler: SamplerResult): NodeTimeline {
  const offsets = sampler.samples.map((s) => s.at - s.serverAt).filter((d) => Number.isFinite(d));
  const offsetMs = offsets.length > 0 ? median(offsets) : 0;
  const shift = (t: number | null): number | null => (t === null ? null : t + offsetMs);
  const events: readonly TimelineEvent[] = sampler.events ?? [];
  return {
    node: sampler.node,
    inRecovery: sampler.inRecovery,
    samples: [...sampler.samples].sort((a, b) => a.at - b.at),
    maintenance: events.filter((e): e is MaintenanceEvent => e.kind === 'maintenance').map((e) => maintenanceRun(e, sampler.node, shift)),
    checkpoints: events.flatMap((e) =>
      e.kind === 'checkpoint'
        ? [{ start: shift(e.startedAt), completedBetween: [e.completedBetween[0] + offsetMs, e.completedBetween[1] + offsetMs] as [number, number], reason: e.reason, type: e.type, buffersWritten: e.buffersWritten }]
        : [],
    ),
    errors: sampler.errors ?? [],
    settings: sampler.settings ?? {},
    offsetMs,
  };
}

export function overlaps(aFrom: number, aTo: number, bFrom: number, bTo: number): boolean {
  return aFrom <= bTo && bFrom <= aTo;
}
