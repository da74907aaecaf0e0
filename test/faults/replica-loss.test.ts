/**
 * Replica loss mid-load (killed, then frozen): appends go on; read models fall back to the primary (and say so in
 * `x-esbench-read-from: primary-fallback`) with `replicaFallback: true`, or fail fast with 503
 * REPLICA_UNAVAILABLE with it off; /health says 'degraded'. When the replica is back, read models
 * read it again, from the same service instances.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_TIMEOUT_GRACE_MS } from '../../src/store/db-pool.ts';
import { httpClient, sleep, startFaultCluster, startService, until, type Answer, type FaultCluster, type ServiceUnderTest } from './fault-cluster.ts';

const POOL = { min: 2, max: 10, acquireTimeoutMs: 1000, statementTimeoutMs: 2000 };
const config = (replicaFallback: boolean) => ({ pools: { primary: POOL, replica: POOL }, service: { replicaFallback } });

let fc: FaultCluster;
let withFallback: ServiceUnderTest;
let failFast: ServiceUnderTest;
const http = httpClient(24);

beforeAll(async () => {
  fc = await startFaultCluster('replica');
  withFallback = await startService(fc, config(true));
  failFast = await startService(fc, config(false));
});
afterAll(async () => {
  await http.close();
  await withFallback?.close();
  await failFast?.close();
  await fc?.destroy();
});

interface Sample {
  service: 'fallback' | 'fail-fast';
  kind: 'append' | 'read';
  answer: Answer;
}

describe('replica loss under load', () => {
  it('appends continue; read models fall back or fail fast as configured; /health is degraded; both recover', async () => {
    expect((await http.post(`${withFallback.url}/library/commands/register-reader`, { readerId: 'reader-1' })).status).toBe(201);
    const samples: Sample[] = [];
    let stop = false;
    const t0 = performance.now();
    const services = { fallback: withFallback, 'fail-fast': failFast } as const;

    const worker = async (c: number) => {
      const service = c % 2 === 0 ? 'fallback' : 'fail-fast';
      const base = services[service].url;
      for (let i = 0; !stop; i++) {
        if (c % 4 < 2) {
          const key = `w${c}-${i}`;
          const answer = await http.post(`${base}/events/append`, {
            events: [{ type: 'ReplicaProbe', payload: { key } }],
            filter: { items: [{ types: ['ReplicaProbe'], payload: { anyOf: [{ key }] } }] },
            expectedVersion: 0,
          });
          samples.push({ service, kind: 'append', answer });
        } else {
          const path = i % 2 === 0 ? '/library/readers/reader-1/books-lent' : '/library/books-in-circulation';
          samples.push({ service, kind: 'read', answer: await http.get(`${base}${path}`) });
        }
        await sleep(5);
      }
    };
    const workers = Array.from({ length: 8 }, (_, c) => worker(c));

    await sleep(1000);
    const killedAt = performance.now() - t0;
    expect(fc.cluster.killNode('replica')).not.toBeNull();
    await sleep(2500);
    const healthDown = await http.get(`${withFallback.url}/health`);
    const restartAt = performance.now() - t0;
    await fc.cluster.up();
    const upAt = performance.now() - t0;
    // Reads come from the replica again (no fallback header, no REPLICA_UNAVAILABLE) on both services.
    const fromReplica = (s: Sample) => s.kind === 'read' && s.answer.startedAt - t0 > upAt && s.answer.status === 200 && !s.answer.headers['x-esbench-read-from'];
    await until(
      async () => (samples.some((s) => s.service === 'fallback' && fromReplica(s)) && samples.some((s) => s.service === 'fail-fast' && fromReplica(s)) ? true : undefined),
      15_000,
      'read models served by the replica again',
    );
    stop = true;
    await Promise.all(workers);
    const healthUp = await http.get(`${withFallback.url}/health`);

    const at = (s: Sample) => s.answer.startedAt - t0;
    // While the replica is dead (a margin after the kill for requests already in flight).
    const during = (s: Sample) => at(s) > killedAt + 200 && at(s) + s.answer.ms < restartAt;

    // Appends never noticed: every one acknowledged, before, during and after.
    const appends = samples.filter((s) => s.kind === 'append');
    expect(appends.filter((s) => s.answer.status !== 201).map((s) => `${s.answer.status} ${JSON.stringify(s.answer.body)}`)).toEqual([]);
    expect(appends.filter(during).length).toBeGreaterThan(10);
    const keys = await fc.sql.query<{ n: string; distinct: string }>(
      "SELECT count(*) AS n, count(DISTINCT payload->>'key') AS distinct FROM events WHERE event_type = 'ReplicaProbe'",
    );
    expect(Number(keys.rows[0]?.n)).toBe(appends.length);
    expect(Number(keys.rows[0]?.distinct)).toBe(appends.length);

    // With fallback: every read answered 200; during the outage from the primary, and it says so.
    const fallbackReads = samples.filter((s) => s.service === 'fallback' && s.kind === 'read');
    expect(fallbackReads.filter((s) => s.answer.status !== 200).map((s) => `${s.answer.status} ${JSON.stringify(s.answer.body)}`)).toEqual([]);
    const fellBack = fallbackReads.filter(during);
    expect(fellBack.length).toBeGreaterThan(5);
    expect(fellBack.every((s) => s.answer.headers['x-esbench-read-from'] === 'primary-fallback')).toBe(true);

    // Without fallback: 503 REPLICA_UNAVAILABLE during the outage, each within the acquire timeout.
    const failFastReads = samples.filter((s) => s.service === 'fail-fast' && s.kind === 'read');
    const refused = failFastReads.filter(during);
    expect(refused.length).toBeGreaterThan(5);
    expect(refused.map((s) => [s.answer.status, s.answer.code])).toEqual(refused.map(() => [503, 'REPLICA_UNAVAILABLE']));
    expect(Math.max(...refused.map((s) => s.answer.ms))).toBeLessThan(POOL.acquireTimeoutMs);
    // Every other answer of that service was a 200 or that same code (requests in flight at the kill).
    expect(failFastReads.filter((s) => !(s.answer.status === 200 || s.answer.code === 'REPLICA_UNAVAILABLE'))).toEqual([]);

    // /health: degraded (still 200: the primary takes writes) while the replica is down, ok after.
    expect(healthDown.status).toBe(200);
    expect(healthDown.body).toMatchObject({ status: 'degraded', primary: { up: true }, replica: { up: false } });
    expect(healthUp.body).toMatchObject({ status: 'ok', replica: { up: true, inRecovery: true } });
  });

  it('a frozen replica (SIGSTOP: no answers at all) does not hang read models: they end within the statement timeout + grace', async () => {
    // Every process of the replica: the postmaster and its children (startup, walreceiver, backends).
    const pid = fc.cluster.pidOf('replica')!;
    const tree = [pid, ...execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number)];
    const bound = POOL.statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS + 1500;
    for (const p of tree) process.kill(p, 'SIGSTOP');
    try {
      const reads = await Promise.all(
        Array.from({ length: 6 }, (_, i) => http.get(`${(i % 2 === 0 ? withFallback : failFast).url}/library/books-in-circulation`).then((answer) => ({ fallback: i % 2 === 0, answer }))),
      );
      const append = await http.post(`${withFallback.url}/events/append`, {
        events: [{ type: 'ReplicaProbe', payload: { key: 'frozen' } }],
        filter: { items: [{ types: ['ReplicaProbe'], payload: { anyOf: [{ key: 'frozen' }] } }] },
        expectedVersion: 0,
      });
      expect(append.status).toBe(201);
      for (const { fallback, answer } of reads) {
        expect(answer.ms).toBeLessThan(bound);
        if (fallback) {
          expect(answer.status).toBe(200);
          expect(answer.headers['x-esbench-read-from']).toBe('primary-fallback');
        } else {
          expect([answer.status, answer.code]).toEqual([503, 'REPLICA_UNAVAILABLE']);
        }
      }
      const health = await http.get(`${withFallback.url}/health`);
      expect(health.ms).toBeLessThan(bound);
      expect(health.body).toMatchObject({ status: 'degraded' });
    } finally {
      for (const p of tree) process.kill(p, 'SIGCONT');
    }
    // Thawed: the replica answers again, through the same services.
    await until(async () => {
      const r = await http.get(`${failFast.url}/library/books-in-circulation`);
      return r.status === 200 && !r.headers['x-esbench-read-from'] ? true : undefined;
    }, 15_000, 'reads from the thawed replica');
  });
});
