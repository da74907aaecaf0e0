/**
 * Read models (eventual consistency, normally on the replica): folds over a query's events,
 * starting from a snapshot when one exists (`decisions: 'snapshot'`).
 *
 * Books lent by a reader reuses the `reader-lending@1` snapshots that commands write. Books in
 * circulation has its own snapshot; a replica read cannot write a sound one (on a replica, a lower
 * sequence number can become visible after a higher one), so when its tail grows past the
 * threshold it is refreshed on the primary with a consistent read, which waits for in-flight
 * add/remove appends (see lock-keys.ts).
 */
import type { DbPool, Timing } from '../store/db-pool.ts';
import type { EventStore } from '../store/event-store.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { CommandObserver } from './command-handler.ts';
import { snapshotKeyOf } from './command-handler.ts';
import { circulationProjection } from './circulation-state.ts';
import { circulationItem, readerItem } from './library-events.ts';
import type { EntityView, Projection } from './projection.ts';
import { readerProjection } from './reader-state.ts';
import { resumeFromSnapshot } from './snapshot-resume.ts';

export interface BooksLentByReader {
  readerId: string;
  books: string[];
  version: number;
}

export interface BooksInCirculation {
  books: string[];
  count: number;
  version: number;
}

export interface ReadModelOptions {
  snapshots?: SnapshotStore;
  threshold?: number;
  observer?: CommandObserver;
  timing?: Timing;
}

const circulationView: EntityView<Set<string>> = { projection: circulationProjection, item: circulationItem() };

/** Folds one entity from its snapshot (if any and valid) plus the events after it, read on `pool`. */
async function foldEntity<S>(
  store: EventStore,
  pool: DbPool,
  view: EntityView<S>,
  options: ReadModelOptions,
  consistent = false,
): Promise<{ state: S; version: number; folded: number }> {
  const t = options.timing ? { timing: options.timing } : {};
  let state = view.projection.initial();
  let after = 0;
  if (options.snapshots) {
    const key = snapshotKeyOf(view as EntityView<unknown>);
    const snap = options.snapshots.get(await options.snapshots.load(pool, [key], options.timing), key);
    const resumed = resumeFromSnapshot(view, snap, options.observer);
    if (resumed) {
      state = resumed.state;
      after = resumed.sequenceNumber;
    }
  }
  const { events, version } = await store.query({ items: [{ ...view.item, ...(after > 0 ? { after } : {}) }] }, { consistent, ...t }, pool);
  state = events.reduce((s, e) => view.projection.evolve(s, e), state);
  return { state, version: Math.max(version, after), folded: events.length };
}

export async function booksLentByReader(store: EventStore, pool: DbPool, readerId: string, options: ReadModelOptions = {}): Promise<BooksLentByReader> {
  const view = { projection: readerProjection, item: readerItem(readerId) };
  const { state, version } = await foldEntity(store, pool, view, options);
  return { readerId, books: state.books, version };
}

export async function booksInCirculation(store: EventStore, pool: DbPool, options: ReadModelOptions = {}): Promise<BooksInCirculation> {
  const { state, version, folded } = await foldEntity(store, pool, circulationView, options);
  if (options.snapshots && folded > (options.threshold ?? Infinity)) {
    await refreshSnapshot(store, circulationView, options);
  }
  const books = circulationProjection.serialize(state) as string[];
  return { books, count: books.length, version };
}

/** Recomputes a snapshot with a consistent read on the primary and saves it (forward only). */
async function refreshSnapshot<S>(store: EventStore, view: EntityView<S>, options: ReadModelOptions): Promise<void> {
  const snapshots = options.snapshots!;
  try {
    const { state, version } = await foldEntity(store, store.primary, view, options, true);
    if (version === 0) return;
    await snapshots.save(store.primary, [{ ...snapshotKeyOf(view as EntityView<unknown>), sequenceNumber: version, state: (view.projection as Projection<S>).serialize(state) }], options.timing);
    options.observer?.snapshot?.(view.projection.name, 'write');
  } catch (e) {
    options.observer?.snapshot?.(view.projection.name, 'write_failure');
    options.observer?.snapshotWriteFailed?.(e);
  }
}
