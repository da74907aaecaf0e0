import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConcurrencyConflict } from '../../src/core/errors.ts';
import { Timing } from '../../src/store/db-pool.ts';
import { EventStore, SQL, type NewEvent } from '../../src/store/event-store.ts';
import { appendLocks } from '../../src/store/lock-keys.ts';
import type { Filter } from '../../src/store/filter.ts';
import { storeFixture, waitFor, type StoreFixture } from '../helpers/store.ts';

let fx: StoreFixture;
beforeAll(async () => {
  fx = await storeFixture();
});
afterAll(async () => fx.close());

const book = (id: string): Filter => ({ items: [{ types: ['Lent', 'Added'], payload: { anyOf: [{ BookID: id }] } }] });
const INSERT = 'INSERT INTO events (event_type, payload) VALUES ($1, $2::jsonb)';
/** Backends waiting for an advisory lock that the given backend holds. */
const WAITING_FOR_ADVISORY = `SELECT 1 FROM pg_locks w JOIN pg_locks h
    ON h.locktype = 'advisory' AND h.granted AND h.pid = $1
   AND (h.classid, h.objid, h.objsubid) IS NOT DISTINCT FROM (w.classid, w.objid, w.objsubid)
 WHERE w.locktype = 'advisory' AND NOT w.granted`;
const ev = (type: string, payload: Record<string, string>): NewEvent => ({ type, payload });

describe('event store', () => {
  it('replication streams: an append on the primary is read from the replica', async () => {
    const store = new EventStore(fx.primary);
    const r = await store.append([ev('Added', { BookID: 'repl-1' })], { filter: book('repl-1'), expectedVersion: 0 });
    const seen = await waitFor(async () => {
      const q = await store.query(book('repl-1'), {}, fx.replica);
      return q.events.length === 1 ? q : undefined;
    });
    expect(seen.version).toBe(r.version);
    expect(seen.events[0]?.payload).toEqual({ BookID: 'repl-1' });
  });

  for (const strategy of ['safe', 'baseline'] as const) {
    it(`${strategy}: appends on the expected version and rejects a stale one`, async () => {
      const store = new EventStore(fx.primary, strategy);
      const id = `seq-${strategy}`;
      const q0 = await store.query(book(id));
      expect(q0).toEqual({ events: [], version: 0 });
      const a1 = await store.append([ev('Added', { BookID: id })], { filter: book(id), expectedVersion: 0 });
      await expect(store.append([ev('Lent', { BookID: id })], { filter: book(id), expectedVersion: 0 })).rejects.toBeInstanceOf(
        ConcurrencyConflict,
      );
      const a2 = await store.append([ev('Lent', { BookID: id, ReaderID: 'r' })], { filter: book(id), expectedVersion: a1.version });
      const q = await store.query(book(id));
      expect(q.events.map((e) => e.type)).toEqual(['Added', 'Lent']);
      expect(q.version).toBe(a2.version);
      // An unrelated boundary is not affected by these appends.
      const other = await store.append([ev('Added', { BookID: `${id}-x` })], { filter: book(`${id}-x`), expectedVersion: 0 });
      expect(other.sequenceNumbers).toHaveLength(1);
    });
  }

  it('safe: 32 concurrent appends decided on the same version: exactly one wins', async () => {
    const store = new EventStore(fx.primary, 'safe');
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}`;
      const { version } = await store.query(book(id));
      const results = await Promise.allSettled(
        Array.from({ length: 32 }, (_, i) => store.append([ev('Added', { BookID: id, n: String(i) })], { filter: book(id), expectedVersion: version })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ConcurrencyConflict)).toBe(true);
      expect((await store.query(book(id))).events).toHaveLength(1);
    }
  });

  it('safe: overlapping boundaries (book vs reader) serialize through what they write', async () => {
    const store = new EventStore(fx.primary, 'safe');
    const byReader: Filter = { items: [{ types: ['Lent'], payload: { anyOf: [{ ReaderID: 'ov-r' }] } }] };
    const byBook = book('ov-b');
    let winners = 0;
    for (let round = 0; round < 10; round++) {
      const vr = (await store.query(byReader)).version;
      const vb = (await store.query(byBook)).version;
      // Both write an event that matches the other's boundary: at most... both may win only if serial.
      const rs = await Promise.allSettled([
        store.append([ev('Lent', { BookID: 'ov-b', ReaderID: 'ov-r' })], { filter: byReader, expectedVersion: vr }),
        store.append([ev('Lent', { BookID: 'ov-b', ReaderID: 'ov-r' })], { filter: byBook, expectedVersion: vb }),
      ]);
      const ok = rs.filter((r) => r.status === 'fulfilled').length;
      expect(ok).toBe(1);
      winners += ok;
    }
    expect(winners).toBe(10);
  });

  it('filter values are data, never SQL', async () => {
    const store = new EventStore(fx.primary, 'safe');
    const hostile = `x'); DROP TABLE events; --`;
    const f: Filter = { items: [{ types: [hostile], payload: { anyOf: [{ BookID: hostile, "a'b": '@> \'{}\'' }] } }] };
    const r = await store.append([{ type: hostile, payload: { BookID: hostile, "a'b": '@> \'{}\'' } }], { filter: f, expectedVersion: 0 });
    const q = await store.query(f);
    expect(q.events).toHaveLength(1);
    expect(q.events[0]?.type).toBe(hostile);
    expect(q.version).toBe(r.version);
  });

  it('safe: a consistent read waits for an in-flight append to its boundary (no sequence gap), in one round trip', async () => {
    const store = new EventStore(fx.primary, 'safe');
    const id = 'gap-1';
    const first = ev('Added', { BookID: id });
    // An append in flight: locks taken and its row inserted (sequence number assigned), not committed.
    const writer = new pg.Client({ connectionString: fx.db.primaryUrl });
    await writer.connect();
    try {
      const writerPid = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const locks = appendLocks(book(id), [first]);
      await writer.query('BEGIN');
      await writer.query(SQL.lockKeys, [locks.keys, locks.exclusive]);
      await writer.query(INSERT, ['Added', JSON.stringify(first.payload)]);
      // A later event of the same boundary commits first (written without locks): its sequence
      // number is higher than the in-flight one's.
      await fx.primary.query('insert_later', INSERT, ['Lent', JSON.stringify({ BookID: id, ReaderID: 'r' })]);
      const timing = new Timing();
      const reading = store.query(book(id), { timing });
      // Commit only once the read is really waiting for the writer's advisory lock.
      await waitFor(
        async () => ((await fx.primary.query('waiting_reads', WAITING_FOR_ADVISORY, [writerPid])).rowCount! > 0 ? true : undefined),
        10_000,
        'the read to wait for the in-flight append',
      );
      await writer.query('COMMIT');
      const q = await reading;
      // Without the wait the read would see only the later event and return its version, and an
      // append checking "nothing newer than that" would miss the first one.
      expect(q.events.map((e) => e.type)).toEqual(['Added', 'Lent']);
      expect(timing.statements).toBe(4); // BEGIN, lock_keys, query, COMMIT
      expect(timing.calls.get('primary.lock_keys')).toBe(1);
    } finally {
      await writer.query('ROLLBACK').catch(() => {});
      await writer.end();
    }
  });

  it('a failing statement of a pipelined transaction rolls it back and its own error is thrown', async () => {
    const store = new EventStore(fx.primary, 'safe');
    const before = await store.query(book('pipe-fail'));
    await expect(
      fx.primary.pipelinedTransaction([
        { name: 'insert', text: INSERT, values: ['Added', JSON.stringify({ BookID: 'pipe-fail' })] },
        { name: 'fail', text: 'SELECT 1 / $1::int', values: [0] },
      ]),
    ).rejects.toMatchObject({ message: expect.stringContaining('division by zero') });
    expect(await store.query(book('pipe-fail'))).toEqual(before);
    // The connection is usable afterwards, outside any transaction.
    const r = await fx.primary.query<{ tx: string | null }>('probe', 'SELECT txid_current_if_assigned()::text AS tx');
    expect(r.rows[0]?.tx).toBeNull();
  });
});
