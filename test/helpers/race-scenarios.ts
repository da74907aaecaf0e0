/**
 * The race scenarios through the service over real HTTP, for any service configuration
 * (race.test.ts: append and decision modes; race-levers.test.ts: the command path's cost levers).
 * 32 concurrent clients fight over one copy and push one reader past the limit; the event log
 * afterwards must show no double lend, no reader above 10 books, and every acknowledged (2xx)
 * command.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/core/config.ts';
import { EVENT, READER_BOOK_LIMIT } from '../../src/domain/library-events.ts';
import { appFixture, type AppFixture } from './app.ts';

const CLIENTS = 32;

interface Row {
  sequence_number: string;
  event_type: string;
  payload: { BookID?: string; ReaderID?: string };
}

/** One describe block per case (`title` takes the case's label as %s), each with both scenarios. */
export function describeRaces(
  title: string,
  cases: ReadonlyArray<readonly [string, NonNullable<ConfigInput['service']>]>,
): void {
  describe.each(cases)(title, (_, service) => {
    let fx: AppFixture;
    let base: string;
    const post = async (path: string, body: object) => {
      const r = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, json: (await r.json()) as { sequenceNumber?: number; error?: { code: string } } };
    };
    const log = async () =>
      (await fx.sql.query<Row>('SELECT sequence_number, event_type, payload FROM events ORDER BY sequence_number'))
        .rows;

    beforeAll(async () => {
      // Pool big enough that the race is decided in the database, not by queueing for a connection.
      // appFixture creates the boundary index strategy's indexes.
      fx = await appFixture({ pools: { primary: { max: 40, min: 4 } }, service });
      await fx.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(fx.app.server.address() as AddressInfo).port}`;
    });
    afterAll(async () => fx.close());

    it('32 clients lending and returning one copy: never lent twice, every 2xx in the log', async () => {
      for (let i = 0; i < CLIENTS; i++)
        expect((await post('/library/commands/register-reader', { readerId: `r-${i}` })).status).toBe(201);
      expect((await post('/library/commands/add-book-copy', { bookId: 'hot' })).status).toBe(201);
      const acknowledged: number[] = [];
      const statuses = new Map<number, number>();
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          for (let k = 0; k < 8; k++) {
            const lend = await post('/library/commands/lend-book-copy', { bookId: 'hot', readerId: `r-${i}` });
            statuses.set(lend.status, (statuses.get(lend.status) ?? 0) + 1);
            if (lend.status !== 201) continue;
            acknowledged.push(lend.json.sequenceNumber!);
            const ret = await post('/library/commands/return-book-copy', { bookId: 'hot', readerId: `r-${i}` });
            expect(ret.status).toBe(201);
            acknowledged.push(ret.json.sequenceNumber!);
          }
        }),
      );
      expect(statuses.get(201)).toBeGreaterThan(0);
      // Contention really happened: some lends found the copy lent.
      expect(statuses.get(422)).toBeGreaterThan(0);
      expect([...statuses.keys()].every((s) => s === 201 || s === 422 || s === 409)).toBe(true);
      const rows = (await log()).filter((r) => r.payload.BookID === 'hot');
      let lentTo: string | undefined;
      for (const r of rows) {
        if (r.event_type === EVENT.lent) {
          expect(lentTo, `double lend at ${r.sequence_number}`).toBeUndefined();
          lentTo = r.payload.ReaderID;
        } else if (r.event_type === EVENT.returned) {
          expect(r.payload.ReaderID).toBe(lentTo);
          lentTo = undefined;
        }
      }
      const inLog = new Set(rows.map((r) => Number(r.sequence_number)));
      for (const seq of acknowledged) expect(inLog.has(seq), `acknowledged ${seq} missing`).toBe(true);
      expect(rows.filter((r) => r.event_type === EVENT.lent)).toHaveLength(acknowledged.length / 2);
      if (service.decisions === 'snapshot') {
        const snaps = await fx.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM snapshots');
        expect(snaps.rows[0]?.n).toBeGreaterThan(0);
      }
    });

    it('32 clients pushing one reader past the limit: never above 10 books', async () => {
      expect((await post('/library/commands/register-reader', { readerId: 'greedy' })).status).toBe(201);
      for (let b = 0; b < CLIENTS; b++)
        expect((await post('/library/commands/add-book-copy', { bookId: `g-${b}` })).status).toBe(201);
      const results = await Promise.all(
        Array.from({ length: CLIENTS }, (_, b) =>
          post('/library/commands/lend-book-copy', { bookId: `g-${b}`, readerId: 'greedy' }),
        ),
      );
      const ok = results.filter((r) => r.status === 201);
      expect(ok).toHaveLength(READER_BOOK_LIMIT);
      expect(results.filter((r) => r.status === 422).every((r) => r.json.error?.code === 'READER_LIMIT_REACHED')).toBe(
        true,
      );
      const held = (await log()).filter((r) => r.payload.ReaderID === 'greedy' && r.event_type === EVENT.lent);
      expect(held).toHaveLength(READER_BOOK_LIMIT);
      const inLog = new Set(held.map((r) => Number(r.sequence_number)));
      for (const r of ok) expect(inLog.has(r.json.sequenceNumber!)).toBe(true);
    });
  });
}
