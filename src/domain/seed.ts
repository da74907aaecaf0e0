/**
 * `esbench seed`: fills the events table with a rule-consistent library history by COPY, then
 * VACUUM ANALYZEs it so the planner knows the new size.
 */
import type pg from 'pg';
import { EsbenchError } from '../core/errors.ts';
import { copyEvents } from '../store/bulk-load.ts';
import { libraryHistory } from './library-history.ts';

export interface SeedOptions {
  events: number;
  books: number;
  readers: number;
  seed: number;
  /** Empty the events and snapshots tables first. Without it, a non-empty table is refused. */
  reset: boolean;
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
  function* guarded() {
    for (const e of source) {
      if (signal?.aborted) throw new EsbenchError('INTERRUPTED', 'seeding interrupted; nothing was written (COPY is one transaction)');
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
  const size = await client.query<{ bytes: string }>("SELECT pg_total_relation_size('events') AS bytes");
  return {
    events: count,
    books: options.books,
    readers: options.readers,
    copySeconds: (t1 - t0) / 1000,
    vacuumAnalyzeSeconds: (t2 - t1) / 1000,
    eventsPerSecond: count / ((t1 - t0) / 1000),
    tableBytes: Number(size.rows[0]?.bytes ?? 0),
  };
}
