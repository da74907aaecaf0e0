/**
 * The command path's cost levers (issue 15) change cost, never an answer:
 *  - the btree boundary index strategy reads exactly what the GIN predicates read, also for
 *    values `->>` alone would confuse (the number 5 vs '5', arrays, nested objects, extra keys);
 *  - held-lock decisions (one transaction, snapshots and events read in one statement) decide as
 *    full folds over random histories and snapshot points (none, stale, current, other version,
 *    corrupt), under both index strategies;
 *  - a held-lock decision read waits for an in-flight append to its boundary (no sequence gap);
 *  - an append whose events need locks beyond the held set takes them and stays correct.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/prng.ts';
import { CommandHandler, snapshotKeyOf } from '../../src/domain/command-handler.ts';
import { decide, entitiesOf, type LibraryCommand } from '../../src/domain/library-commands.ts';
import { libraryHistory } from '../../src/domain/library-history.ts';
import { bookItem, readerItem } from '../../src/domain/library-events.ts';
import { inItem } from '../../src/domain/projection.ts';
import { copyEvents } from '../../src/store/bulk-load.ts';
import { Timing } from '../../src/store/db-pool.ts';
import { EventStore, SQL, type StoredEvent } from '../../src/store/event-store.ts';
import type { BoundaryIndex, Filter } from '../../src/store/filter.ts';
import { appendLocks } from '../../src/store/lock-keys.ts';
import { applySchema } from '../../src/store/schema.ts';
import { SnapshotStore } from '../../src/store/snapshot-store.ts';
import { storeFixture, type StoreFixture } from '../helpers/store.ts';

let fx: StoreFixture;
let history: StoredEvent[];
const BOOKS = 8;
const READERS = 4;

beforeAll(async () => {
  fx = await storeFixture();
  await applySchema(fx.primary, { ginFastupdate: true, boundaryIndex: 'btree' });
  const client = new pg.Client({ connectionString: fx.db.primaryUrl });
  await client.connect();
  await copyEvents(client, libraryHistory({ events: 600, books: BOOKS, readers: READERS, seed: 13 }));
  // Values the btree predicate must not confuse with the string 'book-5' / '5'.
  const odd = [
    { BookID: 5 },
    { BookID: '5' },
    { BookID: ['book-5'] },
    { BookID: { id: 'book-5' } },
    { BookID: 'book-5', ReaderID: 'reader-1', Extra: true },
    { Other: 'book-5' },
  ];
  for (const p of odd) await client.query('INSERT INTO events (event_type, payload) VALUES ($1, $2::jsonb)', ['BookCopyLentToReader', JSON.stringify(p)]);
  await client.query('ANALYZE events');
  await client.end();
  const rows = await fx.primary.query<{ sequence_number: string; event_type: string; payload: Record<string, string> }>(
    'all',
    'SELECT sequence_number, event_type, payload FROM events ORDER BY sequence_number',
  );
  history = rows.rows.map((r) => ({ sequenceNumber: Number(r.sequence_number), occurredAt: '', type: r.event_type, payload: r.payload, metadata: {} }));
});
afterAll(async () => fx.close());

describe('btree boundary index', () => {
  it('reads exactly what the GIN predicates read', async () => {
    const gin = new EventStore(fx.primary, { index: 'gin' });
    const btree = new EventStore(fx.primary, { index: 'btree', prepared: true });
    const types = ['BookCopyAddedToCirculation', 'BookCopyLentToReader', 'BookCopyReturnedByReader', 'ReaderContractSigned'];
    const filters: Filter[] = [
      { items: [bookItem('book-5')] },
      { items: [{ types, payload: { anyOf: [{ BookID: '5' }] } }] },
      { items: [{ types, payload: { anyOf: [{ BookID: 5 }] } }] },
      { items: [{ types, payload: { anyOf: [{ BookID: 'book-5', ReaderID: 'reader-1' }] } }] },
      { items: [{ types, payload: { allOf: [{ BookID: 'book-5' }, { ReaderID: 'reader-1' }] } }] },
      { items: [{ types, payload: { anyOf: [{ BookID: 'book-5' }, { ReaderID: 'reader-2' }] } }] },
      { items: [{ types, payload: { anyOf: [{ BookID: 'book-3' }] }, after: 300 }, { types, payload: { anyOf: [{ ReaderID: 'reader-1' }] }, after: 100 }] },
      { items: [{ types: ['BookCopyAddedToCirculation'] }] },
    ];
    for (const f of filters) {
      const [a, b] = [await gin.query(f, { consistent: false }), await btree.query(f, { consistent: false })];
      expect(b.events.map((e) => e.sequenceNumber), JSON.stringify(f)).toEqual(a.events.map((e) => e.sequenceNumber));
    }
    // The string 'book-5' matched its own events and none of the odd ones but the one with extra keys.
    const five = await btree.query({ items: [bookItem('book-5')] }, { consistent: false });
    expect(five.events.filter((e) => typeof e.payload.BookID !== 'string')).toEqual([]);
  });

  it('a btree boundary read never goes through the GIN index (its posting list is the whole history)', async () => {
    const { compileFilter } = await import('../../src/store/filter.ts');
    for (const after of [undefined, 10]) {
      const { where, params } = compileFilter({ items: [{ ...bookItem('book-1'), ...(after ? { after } : {}) }, readerItem('reader-2')] }, 1, { index: 'btree' });
      const plan = await fx.primary.query<{ 'QUERY PLAN': string }>('explain', `EXPLAIN ${SQL.query(where)}`, params);
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).not.toContain('idx_events_payload_gin');
    }
  });
});

const KINDS = ['add-book-copy', 'remove-book-copy', 'lend-book-copy', 'return-book-copy', 'register-reader', 'cancel-reader'] as const;

function outcome(cmd: LibraryCommand, state: Parameters<typeof decide>[1]): string {
  try {
    return JSON.stringify(decide(cmd, state));
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe.each(['gin', 'btree'] as BoundaryIndex[])('held-lock decisions (%s) are equivalent to full folds', (index) => {
  it('200 random commands x random snapshot points', async () => {
    const reference = new CommandHandler(new EventStore(fx.primary, 'safe'), { tries: 1, baseMs: 0, jitter: 0 });
    const store = new EventStore(fx.primary, { locking: 'held', index, prepared: true });
    const snapshots = new SnapshotStore();
    const full = new CommandHandler(store, { tries: 1, baseMs: 0, jitter: 0 });
    const snap = new CommandHandler(store, { tries: 1, baseMs: 0, jitter: 0 }, {}, { mode: 'snapshot', snapshots, threshold: 0 });
    const rnd = createRng(index === 'gin' ? 21 : 22);
    const max = history.at(-1)!.sequenceNumber;
    const scenarios = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const kind = KINDS[Math.floor(rnd() * KINDS.length)]!;
      const cmd = { kind, bookId: `book-${1 + Math.floor(rnd() * (BOOKS + 1))}`, readerId: `reader-${1 + Math.floor(rnd() * (READERS + 1))}` } as LibraryCommand;
      await fx.primary.query('clear', 'DELETE FROM snapshots');
      for (const entity of entitiesOf(cmd)) {
        const scenario = ['none', 'stale', 'current', 'other-version', 'corrupt'][Math.floor(rnd() * 5)]!;
        scenarios.set(scenario, (scenarios.get(scenario) ?? 0) + 1);
        const key = snapshotKeyOf(entity.view);
        const at = scenario === 'current' ? max : Math.floor(rnd() * max);
        const own = history.filter((e) => e.sequenceNumber <= at && inItem(entity.view.item, e));
        const state = entity.view.projection.serialize(own.reduce((s: never, e) => entity.view.projection.evolve(s, e) as never, entity.view.projection.initial() as never));
        if (scenario === 'stale' || scenario === 'current') await snapshots.save(fx.primary, [{ ...key, sequenceNumber: at, state }]);
        if (scenario === 'other-version') await snapshots.save(fx.primary, [{ ...key, projection: key.projection.replace('@1', '@0'), sequenceNumber: max, state: { garbage: true } }]);
        if (scenario === 'corrupt') await snapshots.save(fx.primary, [{ ...key, sequenceNumber: max, state: { registered: 'yes', inCirculation: 3 } }]);
      }
      const ref = await reference.load(cmd);
      const [a, b] = [await full.load(cmd), await snap.load(cmd)];
      expect(a.state).toEqual(ref.state);
      expect(a.version).toBe(ref.version);
      expect(outcome(cmd, b.state), JSON.stringify(cmd)).toBe(outcome(cmd, ref.state));
      expect(b.state).toEqual(ref.state);
      expect(b.folded).toBeLessThanOrEqual(ref.folded);
    }
    for (const s of ['none', 'stale', 'current', 'other-version', 'corrupt']) expect(scenarios.get(s)).toBeGreaterThan(10);
  });
});

describe('held-lock transactions', () => {
  it('a decision read waits for an in-flight append to its boundary (no sequence gap), in one round trip', async () => {
    const store = new EventStore(fx.primary, { locking: 'held', index: 'btree' });
    const id = 'gap-held';
    const filter: Filter = { items: [bookItem(id)] };
    const first = { type: 'BookCopyAddedToCirculation', payload: { BookID: id } };
    const writer = new pg.Client({ connectionString: fx.db.primaryUrl });
    await writer.connect();
    try {
      const locks = appendLocks(filter, [first]);
      await writer.query('BEGIN');
      await writer.query(SQL.lockKeys, [locks.keys, locks.exclusive]);
      await writer.query('INSERT INTO events (event_type, payload) VALUES ($1, $2::jsonb)', [first.type, JSON.stringify(first.payload)]);
      // A later event of the same boundary commits first, without locks: a higher sequence number.
      await fx.primary.query('insert_later', 'INSERT INTO events (event_type, payload) VALUES ($1, $2::jsonb)', ['BookCopyLentToReader', JSON.stringify({ BookID: id, ReaderID: 'r' })]);
      const timing = new Timing();
      const reading = store.decisionRead(filter, { items: filter.items }, (r) => r, timing);
      setTimeout(() => void writer.query('COMMIT'), 300);
      const r = await reading;
      expect(r.events.map((e) => e.type)).toEqual(['BookCopyAddedToCirculation', 'BookCopyLentToReader']);
      expect(timing.calls.get('primary.lock_keys')).toBe(1);
      expect(timing.calls.get('primary.decision_read')).toBe(1);
    } finally {
      await writer.query('ROLLBACK').catch(() => {});
      await writer.end();
    }
  });

  it('one transaction: two round trips, no check; a rejection rolls back; events beyond the held locks take their own', async () => {
    const store = new EventStore(fx.primary, { locking: 'held', index: 'btree', prepared: true });
    const filter: Filter = { items: [bookItem('held-1')] };
    const timing = new Timing();
    const r = await store.decideAndAppend(filter, { items: filter.items }, () => [{ type: 'BookCopyAddedToCirculation', payload: { BookID: 'held-1' } }], timing);
    expect(r.sequenceNumbers).toHaveLength(1);
    // BEGIN, lock_keys, decision_read | append (unchecked), COMMIT
    expect(timing.statements).toBe(5);
    expect(timing.calls.get('primary.append')).toBe(1);
    expect(timing.calls.get('primary.query')).toBeUndefined();
    await expect(
      store.decideAndAppend(filter, { items: filter.items }, () => {
        throw new Error('rejected');
      }),
    ).rejects.toThrow('rejected');
    // An event with a key the boundary does not read (a reader): its lock is taken before the insert.
    const t2 = new Timing();
    const extra = await store.decideAndAppend(filter, { items: filter.items }, (read) => {
      expect(read.events.map((e) => e.sequenceNumber)).toEqual(r.sequenceNumbers);
      return [{ type: 'BookCopyLentToReader', payload: { BookID: 'held-1', ReaderID: 'outside' } }];
    }, t2);
    expect(t2.calls.get('primary.lock_keys')).toBe(2);
    const after = await store.query(filter);
    expect(after.events.map((e) => e.sequenceNumber)).toEqual([...r.sequenceNumbers, ...extra.sequenceNumbers]);
    // The connection left no transaction open.
    const probe = await fx.primary.query<{ tx: string | null }>('probe', 'SELECT txid_current_if_assigned()::text AS tx');
    expect(probe.rows[0]?.tx).toBeNull();
  });
});
