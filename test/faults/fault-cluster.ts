/**
 * Helpers of the fault tests: each test file starts its own embedded primary + replica in a temp
 * directory (faults crash and stop nodes, so they cannot share the integration cluster), and a
 * listening service on it. Everything started here is stopped in `destroy` / `close`, and an exit
 * hook kills what a crashed test run would otherwise leave behind.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { poolApplicationName } from '../../src/core/application-names.ts';
import { withClient } from '../../src/core/pg-client.ts';
import { waitFor } from '../helpers/store.ts';
import { Agent, request } from 'undici';
import { EmbeddedCluster, NODES, urlFor } from '../../src/cluster/embedded-cluster.ts';
import { resolveConfig, type ConfigInput } from '../../src/core/config.ts';
import { buildApp } from '../../src/service/app.ts';
import { applySchema } from '../../src/store/schema.ts';

export interface FaultCluster {
  cluster: EmbeddedCluster;
  primaryUrl: string;
  replicaUrl: string;
  primaryPort: number;
  replicaPort: number;
  /** A small pool on the primary for the test's own checks (counts, locks). */
  sql: pg.Pool;
  destroy(): Promise<void>;
}

export async function startFaultCluster(label: string): Promise<FaultCluster> {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), `esb-fault-${label}-`));
  // mkdtemp makes it 0700; postgres runs as an unprivileged user (we may be root) and must traverse it.
  fs.chmodSync(parent, 0o755);
  const cluster = new EmbeddedCluster({ dataDir: path.join(parent, 'cluster'), tuningDir: path.resolve('tuning') });
  // Last resort if the worker dies before afterAll: no postmaster of ours outlives the run.
  const onExit = () => {
    for (const node of NODES) {
      const pid = cluster.pidOf(node);
      if (pid !== null) process.kill(pid, 'SIGKILL');
    }
  };
  process.once('exit', onExit);
  let sql: pg.Pool | undefined;
  const destroy = async () => {
    await sql?.end().catch(() => {});
    await cluster.destroy();
    fs.rmSync(parent, { recursive: true, force: true });
    process.off('exit', onExit);
  };
  try {
    const state = await cluster.up();
    const primaryUrl = urlFor(state.ports.primary);
    sql = new pg.Pool({ connectionString: primaryUrl, max: 3, application_name: 'esbench_test' });
    // The pool's idle clients see the crashes too; their errors are expected here.
    sql.on('error', () => {});
    await applySchema(sql, { ginFastupdate: true });
    return {
      cluster,
      primaryUrl,
      replicaUrl: urlFor(state.ports.replica),
      primaryPort: state.ports.primary,
      replicaPort: state.ports.replica,
      sql,
      destroy,
    };
  } catch (e) {
    await destroy();
    throw e;
  }
}

export interface ServiceUnderTest {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** The service on 127.0.0.1:<free port>, as `esbench serve` runs it. */
export async function startService(fc: FaultCluster, input: ConfigInput, urls: { primary?: string; replica?: string } = {}): Promise<ServiceUnderTest> {
  const app = await buildApp({ config: resolveConfig(input, {}), primaryUrl: urls.primary ?? fc.primaryUrl, replicaUrl: urls.replica ?? fc.replicaUrl });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface Answer {
  status: number;
  /** The error code of a non-2xx answer. */
  code: string | undefined;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** Client-side latency (request sent → body read). */
  ms: number;
  startedAt: number;
}

/** An HTTP client with a hard deadline per request, so a hung request fails the test instead of stalling it. */
export function httpClient(connections = 16, deadlineMs = 15_000) {
  const agent = new Agent({ connections, headersTimeout: deadlineMs, bodyTimeout: deadlineMs });
  const send = async (method: 'GET' | 'POST', url: string, body?: unknown): Promise<Answer> => {
    const startedAt = performance.now();
    const r = await request(url, {
      method,
      dispatcher: agent,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await r.body.text();
    const ms = performance.now() - startedAt;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    const error = parsed.error as { code?: string } | undefined;
    return { status: r.statusCode, code: error?.code, body: parsed, headers: r.headers, ms, startedAt };
  };
  return {
    get: (url: string) => send('GET', url),
    post: (url: string, body: unknown) => send('POST', url, body),
    close: () => agent.close(),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until fn returns a value (not undefined), ignoring errors in between. */
export const until = <T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> => waitFor(fn, timeoutMs, what);

/** Connections of a pool (by application_name) as the node sees them. */
export async function poolConnections(url: string, pool: 'primary' | 'replica'): Promise<number> {
  return withClient(
    url,
    async (c) => {
      const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [poolApplicationName(pool)]);
      return Number(r.rows[0]?.n);
    },
    { applicationName: 'esbench_test_probe', connectionTimeoutMillis: 2000 },
  );
}
