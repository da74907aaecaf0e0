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
import { waitFor } from '../helpers/store.ts';

/** Backends of this database waiting for a lock on `events`. */
const WAITING_ON_EVENTS = `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE c.relname = 'events' AND NOT l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
/** The service's backends that are running a statement or are inside a transaction. */
const SERVICE_BUSY = `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND application_name <> 'esbench_test' AND state IN ('active', 'idle in transaction')`;

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

const connections = (): Promise<number> =>
  new Promise((resolve, reject) => fx.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

/** Database round trips the service has counted so far, all statements together. */
async function dbRoundTrips(): Promise<number> {
  const body = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
  let n = 0;
  for (const m of body.matchAll(/^esbench_db_roundtrip_seconds_count\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

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
    // The command is now waiting on the table lock.
    await waitFor(
      async () => ((await fx.sql.query(WAITING_ON_EVENTS)).rowCount! > 0 ? true : undefined),
      10_000,
      'the command to wait on the lock',
    );
    req.destroy();
    // The service has seen the client go (its socket is closed) before the lock is released.
    await waitFor(async () => ((await connections()) === 0 ? true : undefined), 10_000, 'the server to see the disconnect');
    const roundTrips = await dbRoundTrips();
    await locker.query('COMMIT'); // the boundary query can finish now
    await locker.end();
    // The blocked read has come back (its round trip is counted); the next statement would be the
    // append, which an aborted request refuses before sending (src/store/db-pool.ts).
    await waitFor(async () => ((await dbRoundTrips()) > roundTrips ? true : undefined), 10_000, 'the blocked read to finish');
    await waitFor(async () => ((await fx.sql.query(SERVICE_BUSY)).rowCount === 0 ? true : undefined), 10_000, 'the service to go idle');
    expect(await fx.count()).toBe(before);
    // The copy is still available: a live client can lend it.
    const ok = await fx.app.inject({ method: 'POST', url: '/library/commands/lend-book-copy', payload: { bookId: 'book-1', readerId: 'reader-1' } });
    expect(ok.statusCode).toBe(201);
    expect(await fx.count()).toBe(before + 1);
  });
});
