/**
 * Security of what esbench starts and serves:
 *  - the embedded cluster listens on 127.0.0.1 only, its data directory is not world-readable,
 *    and trust authentication is limited to the loopback;
 *  - /metrics and /health expose no event data and no passwords; logs and CLI errors never print a
 *    connection password;
 *  - filter and event values holding quotes, `@>` fragments and SQL keywords are data, never SQL,
 *    at the store and over HTTP: they round-trip exactly and the table survives.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.ts';
import { buildApp } from '../../src/service/app.ts';
import { DbPool } from '../../src/store/db-pool.ts';
import { EventStore } from '../../src/store/event-store.ts';
import type { Filter, JsonObject } from '../../src/store/filter.ts';
import { DEFAULT_POOL } from '../../src/core/config.ts';
import { esbench, spawnEsbench } from '../e2e/cli.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { schemaDatabase, type SchemaDatabase } from '../helpers/schema-db.ts';
import { SQL_STRINGS, UNICODE_STRINGS } from '../helpers/hostile.ts';

const PASSWORD = 'Pa55-w0rd-canary-7f3e';
let base: SchemaDatabase;
let db: TestDatabase;
let sql: pg.Pool;

/** The URL with a password (trust authentication accepts it; the point is where it shows up). */
const withPassword = (url: string) => url.replace('postgres://postgres@', `postgres://postgres:${PASSWORD}@`);

beforeAll(async () => {
  base = await schemaDatabase();
  ({ db, sql } = base);
});
afterAll(async () => {
  await base?.close();
});

async function onNode<T extends pg.QueryResultRow>(port: number, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, application_name: 'esbench_test' });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

describe('the embedded cluster', () => {
  const { primaryPort, replicaPort, dataDir } = inject('cluster');

  it('listens on 127.0.0.1 only', async () => {
    for (const port of [primaryPort, replicaPort]) {
      const [row] = await onNode<{ listen_addresses: string }>(port, 'SHOW listen_addresses');
      expect(row?.listen_addresses).toBe('127.0.0.1');
      const [sock] = await onNode<{ unix_socket_directories: string }>(port, 'SHOW unix_socket_directories');
      expect(sock?.unix_socket_directories).toBe('');
    }
  });

  const external = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => a !== undefined && !a.internal && a.family === 'IPv4')
    .map((a) => a.address);
  it.skipIf(external.length === 0)(`is not reachable on another local interface (${external.join(', ') || 'none here: skipped'})`, async () => {
    expect(await connects('127.0.0.1', primaryPort)).toBe(true); // the probe works...
    for (const address of external) {
      for (const port of [primaryPort, replicaPort]) expect(await connects(address, port), `${address}:${port}`).toBe(false);
    }
  });

  it('keeps its data directory private (no group or world access)', () => {
    for (const dir of [dataDir, path.join(dataDir, 'primary'), path.join(dataDir, 'replica')]) {
      expect(fs.statSync(dir).mode & 0o077, dir).toBe(0);
    }
  });

  it('trusts only 127.0.0.1 (pg_hba), no local socket, no other host', async () => {
    for (const [node, port] of [['primary', primaryPort], ['replica', replicaPort]] as const) {
      const lines = fs
        .readFileSync(path.join(dataDir, node, 'pg_hba.conf'), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l, `${node}: ${l}`).toMatch(/^host\s+\S+\s+\S+\s+127\.0\.0\.1\/32\s+trust$/);
      // What the server actually loaded, not only the file.
      const rules = await onNode<{ type: string; address: string | null; netmask: string | null; error: string | null }>(
        port,
        'SELECT type, address, netmask, error FROM pg_hba_file_rules',
      );
      expect(rules.length).toBe(lines.length);
      for (const r of rules) expect(r).toEqual({ type: 'host', address: '127.0.0.1', netmask: '255.255.255.255', error: null });
    }
  });
});

describe('what the service exposes', () => {
  let app: FastifyInstance;
  const canaries = { reader: 'reader-canary-x91', book: 'book-canary-x92', payload: 'payload-canary-x93', type: 'TypeCanaryX94' };

  beforeAll(async () => {
    app = await buildApp({ config: resolveConfig({}, {}), primaryUrl: withPassword(db.primaryUrl), replicaUrl: withPassword(db.replicaUrl) });
    await app.ready();
    const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
    expect((await post('/library/commands/register-reader', { readerId: canaries.reader })).statusCode).toBe(201);
    expect((await post('/library/commands/add-book-copy', { bookId: canaries.book })).statusCode).toBe(201);
    expect((await post('/library/commands/lend-book-copy', { bookId: canaries.book, readerId: canaries.reader })).statusCode).toBe(201);
    expect((await post('/library/commands/lend-book-copy', { bookId: canaries.book, readerId: canaries.reader })).statusCode).toBe(422);
    const filter = { items: [{ types: [canaries.type], payload: { anyOf: [{ secret: canaries.payload }] } }] };
    expect((await post('/events/append', { events: [{ type: canaries.type, payload: { secret: canaries.payload } }], filter, expectedVersion: 0 })).statusCode).toBe(201);
    expect((await post('/events/append', { events: [{ type: canaries.type, payload: { secret: canaries.payload } }], filter, expectedVersion: 0 })).statusCode).toBe(409);
    expect((await post('/events/query', { filter })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/library/readers/${canaries.reader}/books-lent?from=primary` })).statusCode).toBe(200);
  });
  afterAll(async () => app?.close());

  it('/metrics and /health contain no event data and no password', async () => {
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const health = (await app.inject({ method: 'GET', url: '/health' })).body;
    expect(metrics).toContain('esbench_http_request_duration_seconds');
    expect(JSON.parse(health)).toMatchObject({ status: 'ok' });
    for (const body of [metrics, health]) {
      for (const secret of [...Object.values(canaries), PASSWORD]) expect(body).not.toContain(secret);
    }
  });

  it('error answers of an unreachable node carry no password', async () => {
    const down = await buildApp({
      config: resolveConfig({ service: { replicaFallback: false }, pools: { replica: { ...DEFAULT_POOL, min: 0, acquireTimeoutMs: 500 } } }, {}),
      primaryUrl: withPassword(db.primaryUrl),
      replicaUrl: `postgres://postgres:${PASSWORD}@127.0.0.1:1/nowhere`,
    });
    try {
      await down.ready();
      for (const url of ['/library/books-in-circulation', '/health']) {
        const r = await down.inject({ method: 'GET', url });
        expect(r.body).not.toContain(PASSWORD);
      }
      const r = await down.inject({ method: 'GET', url: '/library/books-in-circulation' });
      expect([r.statusCode, r.json().error.code]).toEqual([503, 'REPLICA_UNAVAILABLE']);
    } finally {
      await down.close();
    }
  });
});

describe('logs and CLI errors never print a connection password', () => {
  it('serve --log: its startup, request and error logs', async () => {
    const cli = spawnEsbench([
      'serve', '--log', '--ready-json', '--port', '0', '--no-replica-fallback', '--pool-acquire-timeout', '500ms',
      '--primary-url', withPassword(db.primaryUrl),
      '--replica-url', `postgres://postgres:${PASSWORD}@127.0.0.1:1/nowhere`,
    ]);
    try {
      const line = await cli.waitFor(/\{"event":"listening".*\}/);
      const { url } = JSON.parse(line[0]) as { url: string };
      // A 503 is logged at error level with its cause chain: the most likely place for a leak.
      expect((await fetch(`${url}/library/books-in-circulation`)).status).toBe(503);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      await fetch(`${url}/events/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"broken' });
    } finally {
      cli.signal('SIGTERM');
    }
    const exit = await cli.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/"level":50.*REPLICA_UNAVAILABLE|REPLICA_UNAVAILABLE.*"level":50/); // the error was logged...
    expect(exit.stdout + exit.stderr).not.toContain(PASSWORD); // ...without the password
  });

  it.each([
    ['seed', ['seed', '--primary-url', `postgres://me:${PASSWORD}@127.0.0.1:1/db`, '--results', fs.mkdtempSync(path.join(os.tmpdir(), 'esb-sec-'))]],
    ['serve', ['serve', '--port', '0', '--primary-url', `postgres://me:${PASSWORD}@127.0.0.1:1/db`]],
    ['cluster status', ['cluster', 'status', '--primary-url', `postgres://me:${PASSWORD}@127.0.0.1:1/db`, '--replica-url', `postgres://me:${PASSWORD}@127.0.0.1:2/db`]],
    ['health', ['health', '--primary-url', `postgres://me:${PASSWORD}@127.0.0.1:1/db`]],
  ])('%s against an unreachable URL (also with ESBENCH_DEBUG=1 stack traces)', async (name, args) => {
    const envs: Array<Record<string, string>> = [{}, { ESBENCH_DEBUG: '1' }];
    for (const env of envs) {
      const r = await esbench(args, { env });
      expect(r.stdout + r.stderr).not.toContain(PASSWORD);
      // status reports unreachable nodes as a status (exit 0); the others fail.
      if (name === 'cluster status') expect(r.stdout).toMatch(/unreachable/);
      else expect(r.code).not.toBe(0);
    }
  });
});

describe('hostile values are data, never SQL', () => {
  // Every SQL / `@>` fragment, plus the unicode edge cases PostgreSQL can store.
  const values = [...SQL_STRINGS, ...UNICODE_STRINGS.filter((v) => v !== '' && !v.includes('\u0000') && v.isWellFormed())];
  const eventOf = (v: string, i: number) => ({
    type: v,
    payload: { [v]: v, BookID: v, nested: { [`k${i}`]: [v, { deeper: v }] } } as JsonObject,
    metadata: { source: v } as JsonObject,
  });
  const boundary = (v: string): Filter => ({ items: [{ types: [v], payload: { allOf: [{ BookID: v }, { [v]: v }] } }] });

  it('at the store: each value appends and queries back exactly, matching only its own event; the table survives', async () => {
    const pool = new DbPool('primary', db.primaryUrl, { ...DEFAULT_POOL, min: 0 });
    try {
      const store = new EventStore(pool, 'safe');
      const before = await base.count();
      for (const [i, v] of values.entries()) {
        const e = eventOf(v, i);
        const r = await store.append([e], { filter: boundary(v), expectedVersion: 0 });
        const q = await store.query(boundary(v));
        expect(q.events.map((x) => ({ type: x.type, payload: x.payload, metadata: x.metadata })), JSON.stringify(v)).toEqual([e]);
        expect(q.version).toBe(r.version);
        // `any-of` over keys and `after` take the same path through the filter compiler.
        const any = await store.query({ items: [{ types: [v], payload: { anyOf: [{ nested: { [`k${i}`]: [v] } }] }, after: 0 }] });
        expect(any.events.map((x) => x.sequenceNumber)).toEqual([r.version]);
      }
      const after = await base.count();
      expect(after - before).toBe(values.length);
      // A value that would match every row if it were SQL matches none.
      expect((await store.query({ items: [{ types: ["x' OR '1'='1"], payload: { anyOf: [{ BookID: "' OR '1'='1" }] } }] })).events).toEqual([]);
      expect((await sql.query("SELECT to_regclass('events') IS NOT NULL AS ok")).rows[0]).toEqual({ ok: true });
    } finally {
      await pool.close();
    }
  });

  it('over HTTP: the same values round-trip through /events/append and /events/query; IDs made of SQL keywords are just IDs', async () => {
    const app = await buildApp({ config: resolveConfig({}, {}), primaryUrl: db.primaryUrl, replicaUrl: db.replicaUrl });
    try {
      await app.ready();
      for (const [i, v] of values.entries()) {
        // Distinct from the store test's events: a marker key makes the boundary new.
        const e = { ...eventOf(v, i), payload: { ...eventOf(v, i).payload, http: true } };
        const filter = { items: [{ types: [v], payload: { allOf: [{ BookID: v }, { http: true }] } }] };
        const a = await app.inject({ method: 'POST', url: '/events/append', payload: { events: [e], filter, expectedVersion: 0 } });
        expect(a.statusCode, `${JSON.stringify(v)}: ${a.body}`).toBe(201);
        const q = await app.inject({ method: 'POST', url: '/events/query', payload: { filter, from: 'primary' } });
        expect(q.json().events.map((x: { type: string; payload: unknown; metadata: unknown }) => ({ type: x.type, payload: x.payload, metadata: x.metadata }))).toEqual([e]);
      }
      for (const id of ['DROP', 'SELECT', '1:OR:1', '--', 'null']) {
        expect((await app.inject({ method: 'POST', url: '/library/commands/register-reader', payload: { readerId: id } })).statusCode).toBe(201);
        expect((await app.inject({ method: 'POST', url: '/library/commands/add-book-copy', payload: { bookId: id } })).statusCode).toBe(201);
        expect((await app.inject({ method: 'POST', url: '/library/commands/lend-book-copy', payload: { bookId: id, readerId: id } })).statusCode).toBe(201);
        const lent = await app.inject({ method: 'GET', url: `/library/readers/${encodeURIComponent(id)}/books-lent?from=primary` });
        expect(lent.json()).toMatchObject({ readerId: id, books: [id] });
      }
      expect((await sql.query("SELECT to_regclass('events') IS NOT NULL AS ok")).rows[0]).toEqual({ ok: true });
    } finally {
      await app.close();
    }
  });
});
