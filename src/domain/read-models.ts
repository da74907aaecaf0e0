/**
 * Read models (eventual consistency, normally on the replica): pure folds over a query's events.
 */
import type { Timing, DbPool } from '../store/db-pool.ts';
import type { EventStore } from '../store/event-store.ts';
import { EVENT, circulationBoundary, payloadString, readerBoundary } from './library-events.ts';
import { evolveReader, initialReaderState } from './reader-state.ts';

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

export async function booksLentByReader(store: EventStore, pool: DbPool, readerId: string, timing?: Timing): Promise<BooksLentByReader> {
  const { events, version } = await store.query(readerBoundary(readerId), { consistent: false, ...(timing ? { timing } : {}) }, pool);
  const state = events.reduce(evolveReader, initialReaderState());
  return { readerId, books: state.books, version };
}

export async function booksInCirculation(store: EventStore, pool: DbPool, timing?: Timing): Promise<BooksInCirculation> {
  const { events, version } = await store.query(circulationBoundary(), { consistent: false, ...(timing ? { timing } : {}) }, pool);
  const books = new Set<string>();
  for (const e of events) {
    const id = payloadString(e, 'BookID');
    if (id === undefined) continue;
    if (e.type === EVENT.added) books.add(id);
    else books.delete(id);
  }
  const sorted = [...books].sort();
  return { books: sorted, count: sorted.length, version };
}
