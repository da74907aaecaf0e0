/**
 * A request whose client went away is not continued: under overload the study's client gives up
 * after 1 s, and a service that finishes abandoned commands spends its capacity on answers nobody
 * reads (seen in the soak: it never recovered). Here the command is blocked by a table lock, the
 * client disconnects, the lock is released: the command must not go on to append.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFixture, type AppFixture } from '../helpers/app.ts';

let fx: AppFixture;
let port: number;
beforeAll(async () => {
  fx = await appFixture({ service: { decisions: 'full' } });
  await fx.app.inject({ method: 'POST', url: '/library/commands/register-reader', payload: { readerId: 'reader-1' } });
  await fx.app.inject({ method: 'POST', url: '/library/commands/add-book-copy', payload: { bookId: 'book-1' } });
  await fx.app.listen({ port: 0, host: '127.0.0.1' });
  port = (fx.app.server.address() as AddressInfo).port;
});
afterAll(async () => fx.close());

describe('abandoned requests', () => {
  it('are not continued after the client disconnects', async () => {
    const before = await fx.count();
    const locker = new pg.Client({ connectionString: fx.db.primaryUrl });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    const body = JSON.stringify({ bookId: 'book-1', readerId: 'reader-1' });
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/library/commands/lend-book-copy', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    req.on('error', () => {}); // we destroy it on purpose
    req.end(body);
    await new Promise((r) => setTimeout(r, 300)); // the command is now waiting on the lock
    req.destroy();
    await new Promise((r) => setTimeout(r, 200));
    await locker.query('COMMIT'); // the boundary query can finish now
    await locker.end();
    await new Promise((r) => setTimeout(r, 500));
    expect(await fx.count()).toBe(before);
    // The copy is still available: a live client can lend it.
    const ok = await fx.app.inject({ method: 'POST', url: '/library/commands/lend-book-copy', payload: { bookId: 'book-1', readerId: 'reader-1' } });
    expect(ok.statusCode).toBe(201);
    expect(await fx.count()).toBe(before + 1);
  });
});
