/**
 * Fuzz: at least 10,000 generated malformed or hostile requests to every route (broken JSON, wrong
 * types, deep nesting, huge strings and arrays within and beyond the body limit, unicode edge
 * cases, SQL and `@>` fragments in every field, prototype-pollution keys), through `inject`, then a
 * few hundred over real HTTP, then bytes that are not HTTP at all.
 *
 * Every answer is a 4xx carrying a catalogued `{"error": {"code"}}` with the catalogue's status,
 * except a read that is valid despite hostile values (200: the values are data). No 5xx, the
 * service stays up, and the events row count is unchanged.
 *
 * The seed is random per run and printed on failure; reproduce with
 *   ESBENCH_FUZZ_SEED=<seed> npx vitest run --project integration test/integration/fuzz.test.ts
 */
import { randomInt } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/core/errors.ts';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { generateCase, READ_ONLY_ROUTES, SENTINEL_TYPE, seededRng, type FuzzCase } from '../helpers/hostile.ts';

const SEED = Number(process.env.ESBENCH_FUZZ_SEED ?? randomInt(2 ** 31));
const CASES = Number(process.env.ESBENCH_FUZZ_CASES ?? 10_000);
const HTTP_CASES = 300;
// The limit is the service's own check; 64 KiB keeps "beyond the limit" cheap to generate.
const BODY_LIMIT = 64 * 1024;

let fx: AppFixture;
let rowsBefore: number;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  fx = await appFixture({ service: { bodyLimitBytes: BODY_LIMIT } });
  // Every fuzzed append carries this item in its filter with expectedVersion 0: a valid-but-hostile
  // append reaches the database and is refused (409), so the row count must not move.
  await fx.sql.query("INSERT INTO events (event_type, payload) VALUES ($1, '{}')", [SENTINEL_TYPE]);
  rowsBefore = await fx.count();
});
afterAll(async () => fx?.close());

interface Answer {
  status: number;
  body: string;
}

/** The invariant every answer must hold; returns what is wrong, or undefined. */
function judge(c: FuzzCase, a: Answer): string | undefined {
  if (a.status >= 500) return `${a.status} (server error): ${a.body.slice(0, 200)}`;
  if (c.expectStatus !== undefined && a.status !== c.expectStatus) return `expected ${c.expectStatus}, got ${a.status}: ${a.body.slice(0, 200)}`;
  if (a.status >= 200 && a.status < 300) {
    return READ_ONLY_ROUTES.has(c.route) ? undefined : `a write route answered ${a.status}: ${a.body.slice(0, 200)}`;
  }
  if (a.status < 400) return `unexpected status ${a.status}`;
  if (c.method === 'HEAD') return undefined; // no body by definition
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(a.body) as typeof parsed;
  } catch {
    return `${a.status} without a JSON body: ${a.body.slice(0, 200)}`;
  }
  const code = parsed.error?.code;
  if (typeof code !== 'string' || !(code in ERROR_CATALOGUE)) return `${a.status} without a catalogued code: ${a.body.slice(0, 200)}`;
  if (typeof parsed.error?.message !== 'string') return `${a.status} ${code} without a message`;
  if (ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE].http !== a.status) return `${code} answered with ${a.status}`;
  if (c.expectCode !== undefined && code !== c.expectCode) return `expected ${c.expectCode}, got ${code}`;
  return undefined;
}

interface Failure {
  index: number;
  route: string;
  mutations: string[];
  request: string;
  problem: string;
}

function describeCase(c: FuzzCase): string {
  const body = c.body === undefined ? '' : typeof c.body === 'string' ? c.body : c.body.toString('latin1');
  return `${c.method} ${c.url.slice(0, 120)} ${JSON.stringify(c.headers)} ${body.length > 160 ? `${body.slice(0, 160)}…(${body.length})` : body}`;
}

/** Failures grouped by the start of their problem, so one run shows every kind at once. */
function summary(failures: Failure[]): string {
  const groups = new Map<string, number>();
  for (const f of failures) {
    const key = `${f.route}: ${f.problem.slice(0, 60)}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n}× ${k}`).join('; ');
}

async function runAll(cases: FuzzCase[], concurrency: number, send: (c: FuzzCase) => Promise<Answer>): Promise<{ failures: Failure[]; statuses: Map<number, number> }> {
  const failures: Failure[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      let problem: string | undefined;
      try {
        const a = await send(c);
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        problem = judge(c, a);
      } catch (e) {
        problem = `no answer: ${(e as Error).message}`;
      }
      if (problem) failures.push({ index: c.index, route: c.route, mutations: c.mutations, request: describeCase(c), problem });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { failures, statuses };
}

function generate(seed: number, n: number): FuzzCase[] {
  const rng = seededRng(seed);
  return Array.from({ length: n }, (_, i) => generateCase(i, rng, { bodyLimit: BODY_LIMIT }));
}

const reportSeed = () =>
  onTestFailed(() => {
    console.error(`fuzz seed ${SEED}: reproduce with ESBENCH_FUZZ_SEED=${SEED} npx vitest run --project integration test/integration/fuzz.test.ts`);
  });

describe(`fuzz (seed ${SEED})`, () => {
  it(`${CASES} generated hostile requests through inject: 4xx with a catalogued code, no 5xx, nothing written`, async () => {
    reportSeed();
    const cases = generate(SEED, CASES);
    // Every route is exercised, not just the easy ones.
    const routes = new Set(cases.map((c) => c.route));
    expect([...routes].sort()).toEqual(
      ['add-book-copy', 'append', 'books-lent', 'cancel-reader', 'circulation', 'health', 'lend-book-copy', 'metrics', 'query', 'register-reader', 'remove-book-copy', 'return-book-copy', 'unknown'].sort(),
    );
    const { failures, statuses } = await runAll(cases, 8, async (c) => {
      const r = await fx.app.inject({
        method: c.method as 'GET',
        url: c.url,
        headers: c.headers,
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      return { status: r.statusCode, body: r.body };
    });
    expect(failures.slice(0, 15), `seed ${SEED}: ${failures.length} of ${cases.length} failed: ${summary(failures)}`).toEqual([]);
    console.log(`fuzz seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    // The mix reached the database (valid-but-hostile reads and refused appends), not only the parser.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(CASES / 20);
    expect(statuses.get(409) ?? 0).toBeGreaterThan(CASES / 50);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(CASES / 50);
    expect(statuses.get(413) ?? 0).toBeGreaterThan(0);
    expect(await fx.count()).toBe(rowsBefore);
  });

  it(`${HTTP_CASES} more over real HTTP, and bytes that are not HTTP`, async () => {
    reportSeed();
    await fx.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = fx.app.server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    const agent = new Agent({ connections: 4, keepAliveTimeout: 1000 });
    try {
      const cases = generate(SEED + 1, HTTP_CASES);
      const { failures } = await runAll(cases, 4, async (c) => {
        const r = await request(`${origin}${c.url}`, {
          method: c.method as 'GET',
          headers: c.headers,
          dispatcher: agent,
          ...(c.body !== undefined ? { body: c.body } : {}),
        });
        return { status: r.statusCode, body: await r.body.text() };
      });
      expect(failures.slice(0, 15), `seed ${SEED}: ${failures.length} of ${cases.length} failed over HTTP: ${summary(failures)}`).toEqual([]);
    } finally {
      await agent.close();
    }

    const raw = [
      'GARBAGE\r\n\r\n',
      'GET /health HTTP/9.9\r\n\r\n',
      'POST /events/query HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /events/query HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`,
      'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'GET /he\u0000alth HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const bytes of raw) {
      const answer = await new Promise<string>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        let data = '';
        socket.setTimeout(5000, () => socket.destroy());
        socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
        socket.on('close', () => resolve(data));
        socket.on('error', () => resolve(data));
        socket.end(bytes);
      });
      expect(answer, JSON.stringify(bytes.slice(0, 60))).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer.slice(answer.indexOf('\r\n\r\n') + 4), JSON.stringify(bytes.slice(0, 60))).toBe(
        '{"error":{"code":"BAD_REQUEST","message":"malformed HTTP request"}}',
      );
    }
    expect(await fx.count()).toBe(rowsBefore);
  });

  it('afterwards: no prototype was polluted, the table survived, and a valid request still works', async () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await fx.count()).toBe(rowsBefore);
    const ok = await fx.app.inject({ method: 'POST', url: '/library/commands/register-reader', payload: { readerId: 'reader-after-fuzz' } });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(await fx.count()).toBe(rowsBefore + 1);
    const health = await fx.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ status: 'ok' });
  });
});
