/**
 * The decision read's plan and cost under each boundary index strategy, on an existing store:
 * `tsx bench/boundary-plans.ts <primary-url> [book] [reader]`. Prints EXPLAIN (ANALYZE, BUFFERS) of
 * the held-lock decision read of a lend (book + reader, each after its snapshot) and of the full
 * boundary read. Creates the btree indexes for the btree half and drops them afterwards only if it
 * created them. DB-side figures (server execution), one run each: an illustration, not a benchmark.
 */
import pg from 'pg';
import { EventStore } from '../src/store/event-store.ts';
import { compileFilter, type BoundaryIndex } from '../src/store/filter.ts';
import { bookItem, readerItem } from '../src/domain/library-events.ts';
import { snapshotKeyOf } from '../src/domain/command-handler.ts';
import { entitiesOf } from '../src/domain/library-commands.ts';
import { readSql } from '../src/store/schema.ts';
import { SQL } from '../src/store/event-store.ts';

const [url, book = 'book-17', reader = 'reader-42'] = process.argv.slice(2);
if (!url) throw new Error('usage: tsx bench/boundary-plans.ts <primary-url> [book] [reader]');
const client = new pg.Client({ connectionString: url });
await client.connect();
const had = (await client.query("SELECT to_regclass('idx_events_book_seq') IS NOT NULL AS b")).rows[0].b as boolean;
void EventStore;

async function explain(label: string, text: string, values: unknown[]): Promise<void> {
  const r = await client.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, values);
  process.stdout.write(`--- ${label}\n${r.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n')}\n`);
}

for (const index of ['gin', 'btree'] as BoundaryIndex[]) {
  await client.query(readSql(`boundary-${index}.sql`));
  const cmd = { kind: 'lend-book-copy' as const, bookId: book, readerId: reader };
  const keys = entitiesOf(cmd).map((e) => snapshotKeyOf(e.view));
  const afterSql = keys.map((_, i) => `COALESCE((SELECT sequence_number FROM snap WHERE i = ${i + 1}), 0)`);
  const d = compileFilter({ items: [bookItem(book), readerItem(reader)] }, 3, { index, afterSql });
  await explain(`${index}: decision read (after snapshots)`, SQL.decisionRead(d.where), [keys.map((k) => k.projection), keys.map((k) => k.filterHash), ...d.params]);
  const f = compileFilter({ items: [bookItem(book), readerItem(reader)] }, 1, { index });
  await explain(`${index}: full boundary read`, SQL.query(f.where), f.params);
}
if (!had) await client.query(readSql('boundary-gin.sql'));
await client.end();
