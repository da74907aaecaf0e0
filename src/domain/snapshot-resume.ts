/**
 * Where an entity's fold starts: its snapshot's state when the snapshot parses under the view's
 * projection (a hit), else from the beginning (a miss, also when there is no snapshot). The one
 * place that counts snapshot hits and misses, for both command paths and the read models.
 */
import type { JsonValue } from '../store/filter.ts';
import type { EntityView } from './projection.ts';

/** The part of a CommandObserver this needs (a structural type: command-handler.ts imports this file). */
export interface SnapshotHitCounter {
  snapshot?(projection: string, outcome: 'hit' | 'miss'): void;
}

export function resumeFromSnapshot<S>(
  view: EntityView<S>,
  snap: { state: JsonValue; sequenceNumber: number } | undefined,
  observer: SnapshotHitCounter | undefined,
): { state: S; sequenceNumber: number } | undefined {
  const parsed = snap ? view.projection.parse(snap.state) : undefined;
  observer?.snapshot?.(view.projection.name, parsed === undefined ? 'miss' : 'hit');
  return snap === undefined || parsed === undefined
    ? undefined
    : { state: parsed, sequenceNumber: snap.sequenceNumber };
}
