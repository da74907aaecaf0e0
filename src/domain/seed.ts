/**
 * `esbench seed`: fills the events table with a rule-consistent library history by COPY, then
 * VACUUM ANALYZEs it so the planner knows the new size.
 */
import type pg from 'pg';
import { EsbenchError } from '../core/errors.ts';
import { copyEvents } from '../store/bulk-load.ts';
import { SNAPSHOT_SQL } from '../store/snapshot-store.ts';
import type { JsonValue } from '../store/filter.ts';
import { bookProjection, type BookState } from './book-state.ts';
import { circulationProjection } from './circulation-state.ts';
import { snapshotKeyOf } from './command-handler.ts';
import { bookItem, circulationItem, readerItem } from './library-events.ts';
import { inItem } from './projection.ts';
import { libraryHistory, type HistoryEvent } from './library-history.ts';
import { readerProjection, type ReaderState } from './reader-state.ts';

/** Folds the generated history per entity while it streams into COPY. */
class EntityStates {
  readonly books = new Map<string, BookState>();
  readonly readers = new Map<string, ReaderState>();
  readonly circulation = circulationProjection.initial();

  apply(e: HistoryEvent): void {
    const stored = { sequenceNumber: 0, occurredAt: '', type: e.type, payload: e.payload as Record<string, string>, metadata: {} };
    const { BookID: book, ReaderID: reader } = e.payload;
    // Same membership rule as the store's filters (inItem), so these snapshots equal what commands would write.
    if (book !== undefined && inItem(bookItem(book), stored)) {
      this.books.set(book, bookProjection.evolve(this.books.get(book) ?? bookProjection.initial(), stored));
    }
    if (reader !== undefined && inItem(readerItem(reader), stored)) {
      this.readers.set(reader, readerProjection.evolve(this.readers.get(reader) ?? readerProjection.initial(), stored));
    }
    if (inItem(circulationItem(), stored)) circulationProjection.evolve(this.circulation, stored);
  }
}

/**
 * Snapshots valid at the last seeded event: nothing else writes while COPY fills an empty table,
 * so every event up to max(sequence_number) is folded in.
 */
async function writeSeedSnapshots(client: pg.PoolClient | pg.Client, states: EntityStates): Promise<number> {
  const at = Number((await client.query<{ m: string }>('SELECT COALESCE(max(sequence_number), 0) AS m FROM events')).rows[0]?.m);
  const rows: Array<{ key: { projection: string; filterHash: string }; state: JsonValue }> = [];
  for (const [id, state] of states.books) rows.push({ key: snapshotKeyOf({ projection: bookProjection, item: bookItem(id) }), state: bookProjection.serialize(state) });
  for (const [id, state] of states.readers) rows.push({ key: snapshotKeyOf({ projection: readerProjection, item: readerItem(id) }), state: readerProjection.serialize(state) });
  rows.push({
    key: snapshotKeyOf({ projection: circulationProjection, item: circulationItem() }),
    state: circulationProjection.serialize(states.circulation),
  });
  await client.query(SNAPSHOT_SQL.upsert, [rows.map((r) => r.key.projection), rows.map((r) => r.key.filterHash), rows.map(() => at), rows.map((r) => JSON.stringify(r.state))]);
  return rows.length;
}

export interface SeedOptions {
  events: number;
  books: number;
  readers: number;
  seed: number;
  /** Empty the events and snapshots tables first. Without it, a non-empty table is refused. */
  reset: boolean;
  /** Also write per-entity snapshots (every book, every reader, the circulation set) at the end of the history. */
  snapshots?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SeedResult {
  events: number;
  books: number;
  readers: number;
  copySeconds: number;
  vacuumAnalyzeSeconds: number;
  eventsPerSecond: number;
  tableBytes: number;
  snapshotsWritten: number;
}

export async function seedLibrary(client: pg.PoolClient | pg.Client, options: SeedOptions): Promise<SeedResult> {
  if (options.books < 1 || options.readers < 1) throw new EsbenchError('BAD_FLAG', 'seeding needs at least one book and one reader');
  const existing = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT 1) e')).rows[0]?.n);
  if (existing > 0 && !options.reset) {
    throw new EsbenchError('BAD_FLAG', 'the events table is not empty: pass --reset to replace its history');
  }
  if (options.reset) await client.query('TRUNCATE events, snapshots RESTART IDENTITY');
  const t0 = performance.now();
  const source = libraryHistory({ events: options.events, books: options.books, readers: options.readers, seed: options.seed });
  const signal = options.signal;
  const states = options.snapshots ? new EntityStates() : undefined;
  function* guarded() {
    for (const e of source) {
      if (signal?.aborted) throw new EsbenchError('INTERRUPTED', 'seeding interrupted; nothing was written (COPY is one transaction)');
      states?.apply(e);
      yield { ...e, metadata: { source: 'esbench-seed' } };
    }
  }
  const count = await copyEvents(client, guarded(), (done) => options.onProgress?.(done, options.events));
  const t1 = performance.now();
  // VACUUM, not only ANALYZE: with GIN fastupdate on, COPY leaves every new entry in the GIN
  // pending list (a manual ANALYZE does not flush it; autovacuum would, minutes later), and each
  // boundary query would scan megabytes of pending list. A seeded database should look like one
  // that has been running for a while.
  await client.query('VACUUM (ANALYZE) events');
  const t2 = performance.now();
  const snapshotsWritten = states ? await writeSeedSnapshots(client, states) : 0;
  const size = await client.query<{ bytes: string }>("SELECT pg_total_relation_size('events') AS bytes");
  return {
    events: count,
    books: options.books,
    readers: options.readers,
    copySeconds: (t1 - t0) / 1000,
    vacuumAnalyzeSeconds: (t2 - t1) / 1000,
    eventsPerSecond: count / ((t1 - t0) / 1000),
    tableBytes: Number(size.rows[0]?.bytes ?? 0),
    snapshotsWritten,
  };
}
