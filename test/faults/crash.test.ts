/**
 * Crash: kill -9 of the primary's postmaster under load (12 clients appending and lending over real
 * HTTP), then `cluster up` again. Nothing acknowledged is lost or written twice; the outage is
 * answered with 503 codes and reported by /health; the same service instance recovers without a
 * restart (its pools drop the broken connections and refill to min).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POOL } from '../../src/core/config.ts';
import { DbPool, QUERY_TIMEOUT_GRACE_MS } from '../../src/store/db-pool.ts';
import { httpClient, poolConnections, sleep, startFaultCluster, startService, until, type Answer, type FaultCluster, type ServiceUnderTest } from './fault-cluster.ts';

const POOL = { min: 2, max: 10, acquireTimeoutMs: 1000, statementTimeoutMs: 5000 };
const CLIENTS = 12;

let fc: FaultCluster;
let svc: ServiceUnderTest;
const http = httpClient(CLIENTS + 4);

beforeAll(async () => {
  fc = await startFaultCluster('crash');
  svc = await startService(fc, { pools: { primary: POOL, replica: POOL } });
});
afterAll(async () => {
  await http.close();
  await svc?.close();
  await fc?.destroy();
});

interface Op {
  kind: 'append' | 'add-book-copy' | 'lend-book-copy' | 'return-book-copy';
  /** The append's unique key, or the book of a command. */
  key: string;
  readerId?: string;
  answer: Answer;
  sequenceNumber?: number;
}

describe('primary crash (kill -9) under load', () => {
  it('loses no acknowledged append, writes none twice, answers 503 during the outage, and recovers in place', async () => {
    const ops: Op[] = [];
    const health: Array<{ at: number; status: number; state: unknown }> = [];
    let stop = false;
    const t0 = performance.now();

    for (let c = 0; c < CLIENTS; c++) {
      const r = await http.post(`${svc.url}/library/commands/register-reader`, { readerId: `reader-${c}` });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }

    const poller = (async () => {
      while (!stop) {
        const r = await http.get(`${svc.url}/health`).catch(() => undefined);
        if (r) health.push({ at: r.startedAt - t0, status: r.status, state: r.body.status });
        await sleep(100);
      }
    })();

    const worker = async (c: number) => {
      const readerId = `reader-${c}`;
      for (let i = 0; !stop; i++) {
        if (i % 2 === 0) {
          const key = `c${c}-a${i}`;
          const answer = await http.post(`${svc.url}/events/append`, {
            events: [{ type: 'FaultProbe', payload: { key } }],
            filter: { items: [{ types: ['FaultProbe'], payload: { anyOf: [{ key }] } }] },
            expectedVersion: 0,
          });
          const seq = (answer.body.sequenceNumbers as number[] | undefined)?.[0];
          ops.push({ kind: 'append', key, answer, ...(seq !== undefined ? { sequenceNumber: seq } : {}) });
        } else {
          // A lending cycle on a fresh copy; a step that was not acknowledged ends the cycle.
          const bookId = `book-c${c}-${i}`;
          for (const kind of ['add-book-copy', 'lend-book-copy', 'return-book-copy'] as const) {
            const answer = await http.post(`${svc.url}/library/commands/${kind}`, kind === 'add-book-copy' ? { bookId } : { bookId, readerId });
            ops.push({ kind, key: bookId, readerId, answer });
            if (answer.status !== 201) break;
          }
        }
        await sleep(5);
      }
    };
    const workers = Array.from({ length: CLIENTS }, (_, c) => worker(c));

    // A statement in flight on a checked-out connection when the node dies (the crash that took
    // the process down before DbPool listened for 'error' on checked-out clients).
    const side = new DbPool('primary', fc.primaryUrl, { ...DEFAULT_POOL, min: 0, max: 1 });
    const inFlight = side.withSession((s) => s.query('sleep', 'SELECT pg_sleep(60)')).then(
      () => 'completed',
      (e: { code?: string }) => e.code,
    );

    await sleep(1500);
    const killedAt = performance.now() - t0;
    expect(fc.cluster.killNode('primary')).not.toBeNull();
    await sleep(1500);
    const restartAt = performance.now() - t0;
    await fc.cluster.up();
    const upAt = performance.now() - t0;
    // The same app instance serves again: wait for fresh acknowledged appends after the restart.
    await until(
      async () => (ops.filter((o) => o.kind === 'append' && o.answer.status === 201 && o.answer.startedAt - t0 > upAt).length >= CLIENTS ? true : undefined),
      15_000,
      'appends acknowledged after the restart',
    );
    await until(async () => (health.some((h) => h.at > upAt && h.state === 'ok') ? true : undefined), 10_000, '/health ok after the restart');
    stop = true;
    await Promise.all([...workers, poller]);

    expect(await inFlight).toBe('DB_UNAVAILABLE');
    await side.close();

    // 1. Every answer is a success or a 503 with an outage code; no 500, nothing else.
    const unexpected = ops.filter((o) => !(o.answer.status === 201 || (o.answer.status === 503 && ['DB_UNAVAILABLE', 'POOL_TIMEOUT'].includes(o.answer.code ?? ''))));
    expect(unexpected.map((o) => `${o.kind} ${o.key}: ${o.answer.status} ${JSON.stringify(o.answer.body)}`)).toEqual([]);
    const outage = ops.filter((o) => o.answer.status === 503);
    expect(outage.length).toBeGreaterThan(0);
    // ...and the outage answers came fast: refused connections, not hung requests.
    expect(Math.max(...outage.map((o) => o.answer.ms))).toBeLessThan(POOL.acquireTimeoutMs + 2000);
    // Requests only failed around the outage (in flight at the kill, or before the node was back).
    for (const o of outage) {
      expect(o.answer.startedAt - t0).toBeGreaterThan(killedAt - POOL.statementTimeoutMs);
      expect(o.answer.startedAt - t0).toBeLessThan(upAt);
    }
    const acked = ops.filter((o) => o.answer.status === 201);
    expect(acked.filter((o) => o.answer.startedAt - t0 < killedAt).length).toBeGreaterThan(CLIENTS);

    // 2. Every acknowledged append is in the log exactly once, at the sequence number it was given; none twice.
    const probes = await fc.sql.query<{ key: string; n: string; seqs: string[] }>(
      "SELECT payload->>'key' AS key, count(*) AS n, array_agg(sequence_number) AS seqs FROM events WHERE event_type = 'FaultProbe' GROUP BY 1",
    );
    const byKey = new Map(probes.rows.map((r) => [r.key, r]));
    expect(probes.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    for (const o of acked.filter((x) => x.kind === 'append')) {
      const row = byKey.get(o.key);
      expect(row, `acknowledged append ${o.key} is missing`).toBeDefined();
      expect(row!.seqs.map(Number)).toEqual([o.sequenceNumber]);
    }

    // 3. Every acknowledged command event exists exactly once.
    const library = await fc.sql.query<{ type: string; book: string; reader: string | null; n: string }>(
      `SELECT event_type AS type, payload->>'BookID' AS book, payload->>'ReaderID' AS reader, count(*) AS n
         FROM events WHERE payload ? 'BookID' GROUP BY 1, 2, 3`,
    );
    expect(library.rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    const TYPE = { 'add-book-copy': 'BookCopyAddedToCirculation', 'lend-book-copy': 'BookCopyLentToReader', 'return-book-copy': 'BookCopyReturnedByReader' } as const;
    const present = new Set(library.rows.map((r) => `${r.type}/${r.book}`));
    for (const o of acked.filter((x) => x.kind !== 'append')) {
      expect(present.has(`${TYPE[o.kind as keyof typeof TYPE]}/${o.key}`), `acknowledged ${o.kind} ${o.key} is missing`).toBe(true);
    }

    // 4. /health reported ok, then the outage (503 'down'), then ok again, in that order.
    const firstDown = health.find((h) => h.at > killedAt && h.status === 503 && h.state === 'down');
    expect(health.some((h) => h.at < killedAt && h.state === 'ok' && h.status === 200)).toBe(true);
    expect(firstDown, JSON.stringify(health.slice(-40))).toBeDefined();
    expect(firstDown!.at).toBeLessThan(restartAt);
    expect(health.some((h) => h.at > firstDown!.at && h.at > upAt && h.state === 'ok' && h.status === 200)).toBe(true);

    // 5. The pools refilled to min on the restarted primary, without restarting the service.
    await until(async () => ((await poolConnections(fc.primaryUrl, 'primary')) >= POOL.min ? true : undefined), 5000, 'primary pool back to min');
  });

  it('a frozen primary (SIGSTOP: no answer at all): commands end with 503 within the statement timeout + grace; it recovers on SIGCONT', async () => {
    const pool = { ...POOL, statementTimeoutMs: 1500 };
    const frozenSvc = await startService(fc, { pools: { primary: pool, replica: pool } });
    const pid = fc.cluster.pidOf('primary')!;
    const tree = [pid, ...execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number)];
    // One statement's wait at most, whatever the request does after it (no second wait on ROLLBACK).
    const bound = pool.statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS + 1500;
    try {
      expect((await http.post(`${frozenSvc.url}/library/commands/add-book-copy`, { bookId: 'frozen-0' })).status).toBe(201);
      for (const p of tree) process.kill(p, 'SIGSTOP');
      const answers = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => http.post(`${frozenSvc.url}/library/commands/add-book-copy`, { bookId: `frozen-${i + 1}` })),
        http.post(`${frozenSvc.url}/events/append`, {
          events: [{ type: 'FrozenProbe', payload: { key: 'f' } }],
          filter: { items: [{ types: ['FrozenProbe'] }] },
          expectedVersion: 0,
        }),
        http.get(`${frozenSvc.url}/health`),
      ]);
      for (const a of answers) expect(a.ms, JSON.stringify(a.body)).toBeLessThan(bound);
      for (const a of answers.slice(0, 5)) expect([a.status, a.code]).toEqual([503, 'DB_UNAVAILABLE']);
      expect(answers[5]!.body).toMatchObject({ status: 'down' });
    } finally {
      for (const p of tree) process.kill(p, 'SIGCONT');
    }
    await until(async () => ((await http.post(`${frozenSvc.url}/library/commands/add-book-copy`, { bookId: 'frozen-after' })).status === 201 ? true : undefined), 15_000, 'commands after the thaw');
    await frozenSvc.close();
  });
});
