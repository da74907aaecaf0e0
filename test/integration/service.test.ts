import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerTiming } from '../../src/load/server-timing.ts';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { waitFor } from '../helpers/store.ts';

let fx: AppFixture;
beforeAll(async () => {
  fx = await appFixture();
});
afterAll(async () => fx.close());

const post = (url: string, payload: unknown) => fx.app.inject({ method: 'POST', url, payload: payload as object });

describe('service: library commands', () => {
  it('register → add → lend → reject second lend (422) → return', async () => {
    expect((await post('/library/commands/register-reader', { readerId: 'reader-1' })).statusCode).toBe(201);
    expect((await post('/library/commands/add-book-copy', { bookId: 'book-1' })).statusCode).toBe(201);
    const lend = await post('/library/commands/lend-book-copy', { bookId: 'book-1', readerId: 'reader-1' });
    expect(lend.statusCode).toBe(201);
    expect(lend.json()).toMatchObject({ retries: 0 });
    const again = await post('/library/commands/lend-book-copy', { bookId: 'book-1', readerId: 'reader-1' });
    expect(again.statusCode).toBe(422);
    // The rejection says what the decision saw (docs/service-api.md).
    expect(again.json().error).toEqual({
      code: 'BOOK_ALREADY_LENT',
      message: 'book copy book-1 is already lent',
      details: { book: { id: 'book-1', inCirculation: true, lentTo: 'reader-1' } },
    });
    const cancel = await post('/library/commands/cancel-reader', { readerId: 'reader-1' });
    expect(cancel.json().error).toMatchObject({ code: 'READER_HAS_BOOKS', details: { reader: { id: 'reader-1', registered: true, books: 1 } } });
    const wrongReturn = await post('/library/commands/return-book-copy', { bookId: 'book-1', readerId: 'reader-2' });
    expect(wrongReturn.json().error.code).toBe('BOOK_NOT_LENT_TO_READER');
    expect((await post('/library/commands/return-book-copy', { bookId: 'book-1', readerId: 'reader-1' })).statusCode).toBe(201);
  });

  it('read models on the replica catch up; ?from=primary reads the primary', async () => {
    await post('/library/commands/register-reader', { readerId: 'reader-rm' });
    await post('/library/commands/add-book-copy', { bookId: 'book-rm' });
    await post('/library/commands/lend-book-copy', { bookId: 'book-rm', readerId: 'reader-rm' });
    const primary = await fx.app.inject({ method: 'GET', url: '/library/readers/reader-rm/books-lent?from=primary' });
    expect(primary.json().books).toEqual(['book-rm']);
    const replica = await waitFor(async () => {
      const r = await fx.app.inject({ method: 'GET', url: '/library/readers/reader-rm/books-lent' });
      const body = r.json<{ books: string[] }>();
      return body.books.length === 1 ? body : undefined;
    });
    expect(replica.books).toEqual(['book-rm']);
    const circ = await fx.app.inject({ method: 'GET', url: '/library/books-in-circulation?from=primary' });
    expect(circ.json().books).toContain('book-rm');
  });

  it('every response carries a Server-Timing split that adds up', async () => {
    const r = await post('/library/commands/add-book-copy', { bookId: 'book-st' });
    const metrics = parseServerTiming(String(r.headers['server-timing']));
    const parts: Record<string, number> = Object.fromEntries(metrics.map((m) => [m.name, m.durationMs ?? NaN]));
    // db's description counts the statements the request ran, by pool, name and endpoint.
    expect(metrics.find((m) => m.name === 'db')?.description).toMatch(/primary\.append@add-book-copy:1/);
    // decode (part of db) and the calibration probe are extra entries, outside the sum.
    expect(Object.keys(parts).filter((k) => k !== 'decode' && k !== 'probe')).toEqual(['pool', 'db', 'app', 'total']);
    expect(parts.decode!).toBeLessThanOrEqual(parts.db!);
    expect(parts.db!).toBeGreaterThan(0);
    expect(Math.abs(parts.pool! + parts.db! + parts.app! - parts.total!)).toBeLessThan(0.01);
  });

  it('/health reports both nodes; /metrics exposes the documented series', async () => {
    const h = await fx.app.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ status: 'ok', primary: { up: true, inRecovery: false }, replica: { up: true, inRecovery: true } });
    expect(typeof h.json().replicationLagMs).toBe('number');
    const m = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const name of [
      'esbench_http_request_duration_seconds_bucket',
      'esbench_db_roundtrip_seconds_bucket',
      'esbench_pool_acquire_wait_seconds_bucket',
      'esbench_pool_total_connections',
      'esbench_pool_idle_connections',
      'esbench_pool_waiting_clients',
      'esbench_concurrency_conflicts_total',
      'esbench_command_retries_total',
      'esbench_domain_rejections_total',
      'esbench_replica_lag_seconds',
    ]) {
      expect(m, name).toContain(name);
    }
    expect(m).toContain('statement="append"');
    // No event data (IDs) leaks into metrics.
    for (const id of ['book-rm', 'reader-rm', 'book-st', 'reader-1']) expect(m).not.toContain(id);
  });
});

describe('service: generic event routes', () => {
  it('query and append with a 409 on a stale version', async () => {
    const filter = { items: [{ types: ['T'], payload: { anyOf: [{ k: 'v1' }] } }] };
    const q = await post('/events/query', { filter });
    expect(q.json()).toEqual({ events: [], version: 0 });
    const a = await post('/events/append', { events: [{ type: 'T', payload: { k: 'v1' } }], filter, expectedVersion: 0 });
    expect(a.statusCode).toBe(201);
    const stale = await post('/events/append', { events: [{ type: 'T', payload: { k: 'v1' } }], filter, expectedVersion: 0 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('CONCURRENCY_CONFLICT');
    const q2 = await post('/events/query', { filter });
    expect(q2.json().version).toBe(a.json().version);
  });
});
