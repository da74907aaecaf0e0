/**
 * Slow database: another session holds `LOCK TABLE events IN ACCESS EXCLUSIVE MODE` for 3 s under
 * load. Requests end at their statement or acquire timeout with a 503 code that says so (or at
 * lock_timeout with LOCK_TIMEOUT, when an operator set one); nothing hangs (every answer within
 * acquire + statement timeout + margin); nothing is written twice, and exactly the acknowledged
 * appends are in the log. After the lock, the same services work again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { urlFor } from '../../src/cluster/embedded-cluster.ts';
import { httpClient, sleep, startFaultCluster, startService, type Answer, type FaultCluster, type ServiceUnderTest } from './fault-cluster.ts';

const POOL = { min: 2, max: 4, acquireTimeoutMs: 500, statementTimeoutMs: 1000 };
const LOCK_MS = 3000;
const LOCK_ROLE = 'esbench_locky';
const LOCK_TIMEOUT_MS = 300;
// Client-side slack on a shared 2-core machine: HTTP, JSON, scheduling.
const MARGIN_MS = 1500;

let fc: FaultCluster;
let svc: ServiceUnderTest;
/** The same service, connected as a role with lock_timeout set (as an operator might). */
let withLockTimeout: ServiceUnderTest;
const http = httpClient(24);

beforeAll(async () => {
  fc = await startFaultCluster('slow');
  // Identifiers cannot be bound: the role name and timeout are constants of this file.
  await fc.sql.query(`CREATE ROLE ${LOCK_ROLE} LOGIN`);
  await fc.sql.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${LOCK_ROLE}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${LOCK_ROLE}`);
  await fc.sql.query(`ALTER ROLE ${LOCK_ROLE} SET lock_timeout = '${LOCK_TIMEOUT_MS}ms'`);
  svc = await startService(fc, { pools: { primary: POOL, replica: POOL } });
  withLockTimeout = await startService(
    fc,
    { pools: { primary: POOL, replica: POOL } },
    { primary: urlFor(fc.primaryPort, 'esbench', LOCK_ROLE), replica: urlFor(fc.replicaPort, 'esbench', LOCK_ROLE) },
  );
});
afterAll(async () => {
  await http.close();
  await svc?.close();
  await withLockTimeout?.close();
  await fc?.destroy();
});

/** Holds the lock for `ms` on its own connection; resolves once the lock is taken, with its release. */
async function holdLock(ms: number): Promise<{ released: Promise<void> }> {
  const c = new pg.Client({ connectionString: fc.primaryUrl, application_name: 'esbench_test_locker' });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
  const released = (async () => {
    try {
      await sleep(ms);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  })();
  return { released };
}

interface Op {
  key: string;
  kind: 'append' | 'command' | 'read';
  answer: Answer;
}

function load(service: ServiceUnderTest, label: string, clients: number) {
  const ops: Op[] = [];
  let stop = false;
  const worker = async (c: number) => {
    for (let i = 0; !stop; i++) {
      const key = `${label}-${c}-${i}`;
      if (c % 3 === 0) {
        const answer = await http.post(`${service.url}/events/append`, {
          events: [{ type: 'SlowProbe', payload: { key } }],
          filter: { items: [{ types: ['SlowProbe'], payload: { anyOf: [{ key }] } }] },
          expectedVersion: 0,
        });
        ops.push({ key, kind: 'append', answer });
      } else if (c % 3 === 1) {
        ops.push({ key, kind: 'command', answer: await http.post(`${service.url}/library/commands/add-book-copy`, { bookId: key }) });
      } else {
        ops.push({ key, kind: 'read', answer: await http.get(`${service.url}/library/books-in-circulation${i % 2 ? '?from=primary' : ''}`) });
      }
      await sleep(10);
    }
  };
  const workers = Array.from({ length: clients }, (_, c) => worker(c));
  return {
    ops,
    stop: async () => {
      stop = true;
      await Promise.all(workers);
    },
  };
}

describe('a lock held on events for a few seconds', () => {
  it('requests end at their statement / acquire timeout with a clear code; nothing hangs; nothing is written twice', async () => {
    const run = load(svc, 's', 12);
    await sleep(500);
    const lock = await holdLock(LOCK_MS);
    const lockedAt = performance.now();
    await lock.released;
    const releasedAt = performance.now();
    await sleep(1000);
    await run.stop();

    const { ops } = run;
    // Nothing hangs: every request answered within acquire + statement timeout + margin.
    const slowest = Math.max(...ops.map((o) => o.answer.ms));
    expect(slowest).toBeLessThan(POOL.acquireTimeoutMs + POOL.statementTimeoutMs + MARGIN_MS);
    // Clear codes: successes or 503 STATEMENT_TIMEOUT / POOL_TIMEOUT, nothing else (no 500).
    const odd = ops.filter((o) => !(o.answer.status < 300 || (o.answer.status === 503 && ['STATEMENT_TIMEOUT', 'POOL_TIMEOUT'].includes(o.answer.code ?? ''))));
    expect(odd.map((o) => `${o.kind} ${o.answer.status} ${JSON.stringify(o.answer.body)}`)).toEqual([]);
    const codes = new Set(ops.filter((o) => o.answer.status === 503).map((o) => o.answer.code));
    expect(codes).toContain('STATEMENT_TIMEOUT');
    expect(codes).toContain('POOL_TIMEOUT');
    // The failures are the lock's: none started after it was released.
    expect(ops.filter((o) => o.answer.status === 503 && o.answer.startedAt > releasedAt)).toEqual([]);
    expect(ops.filter((o) => o.answer.status === 503 && o.answer.startedAt + o.answer.ms < lockedAt)).toEqual([]);
    // Work went on after the lock, through the same service.
    expect(ops.filter((o) => o.answer.status < 300 && o.answer.startedAt > releasedAt).length).toBeGreaterThan(10);

    // Exactly the acknowledged appends are in the log (a timed-out statement rolls back), once each.
    const rows = await fc.sql.query<{ key: string; n: string }>("SELECT payload->>'key' AS key, count(*) AS n FROM events WHERE event_type = 'SlowProbe' GROUP BY 1");
    expect(rows.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    const acked = ops.filter((o) => o.kind === 'append' && o.answer.status === 201).map((o) => o.key);
    expect(rows.rows.map((r) => r.key).sort()).toEqual(acked.sort());
    const books = await fc.sql.query<{ key: string; n: string }>(
      "SELECT payload->>'BookID' AS key, count(*) AS n FROM events WHERE event_type = 'BookCopyAddedToCirculation' GROUP BY 1",
    );
    expect(books.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(books.rows.map((r) => r.key).sort()).toEqual(ops.filter((o) => o.kind === 'command' && o.answer.status === 201).map((o) => o.key).sort());
  });

  it('with lock_timeout set by an operator: 503 LOCK_TIMEOUT soon after lock_timeout (was a 500 INTERNAL)', async () => {
    const run = load(withLockTimeout, 'l', 6);
    await sleep(300);
    const lock = await holdLock(2000);
    await lock.released;
    await sleep(500);
    await run.stop();
    const { ops } = run;
    expect(ops.filter((o) => o.answer.status >= 500 && o.answer.status !== 503)).toEqual([]);
    const timedOut = ops.filter((o) => o.answer.code === 'LOCK_TIMEOUT');
    expect(timedOut.length).toBeGreaterThan(3);
    expect(timedOut.every((o) => o.answer.status === 503)).toBe(true);
    // A LOCK_TIMEOUT ends the request well before the statement timeout would have.
    expect(Math.max(...timedOut.map((o) => o.answer.ms))).toBeLessThan(POOL.acquireTimeoutMs + LOCK_TIMEOUT_MS + MARGIN_MS);
    const acked = ops.filter((o) => o.kind === 'append' && o.answer.status === 201).map((o) => o.key);
    const rows = await fc.sql.query<{ key: string }>("SELECT payload->>'key' AS key FROM events WHERE event_type = 'SlowProbe' AND payload->>'key' LIKE 'l-%'");
    expect(rows.rows.map((r) => r.key).sort()).toEqual(acked.sort());
  });
});
