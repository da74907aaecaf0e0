/**
 * The signal contract of the commands that exist (README "Reliability"):
 *  - `serve` / `start`: SIGINT or SIGTERM is their normal end: in-flight requests drain, pools
 *    close, the port closes, exit 0. No child process of theirs is left.
 *  - a signal before anything was served, or during a seed: exit 130 with one line
 *    `esbench: INTERRUPTED: ...`; an interrupted seed writes nothing (the COPY is one transaction).
 * The embedded cluster itself keeps running (like `cluster up`, which these commands include).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/cluster/process.ts';
import { urlFor } from '../../src/cluster/embedded-cluster.ts';
import { applySchema } from '../../src/store/schema.ts';
import { errLines, esbench, spawnEsbench as spawnCli, type RunningCli } from './cli.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-sig-'));
// mkdtemp makes it 0700; postgres runs as an unprivileged user (we may be root) and must traverse it.
fs.chmodSync(dataDir, 0o755);
const results = path.join(dataDir, 'results');
const flags = ['--data-dir', path.join(dataDir, 'cluster')];
let sql: pg.Pool;

beforeAll(async () => {
  const up = await esbench(['cluster', 'up', '--json', ...flags]);
  expect(up.code, up.stderr).toBe(0);
  const status = JSON.parse(up.stdout) as { nodes: Array<{ node: string; port: number }> };
  sql = new pg.Pool({ connectionString: urlFor(status.nodes.find((n) => n.node === 'primary')!.port), max: 2, application_name: 'esbench_test' });
  // Each test counts rows, whichever runs first.
  await applySchema(sql, { ginFastupdate: true });
});

afterAll(async () => {
  await sql?.end();
  await esbench(['cluster', 'down', ...flags]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// Whatever a failed test left running is killed before the next one (and before cluster down).
const started: RunningCli[] = [];
const spawnEsbench = (args: string[]) => {
  const cli = spawnCli(args);
  started.push(cli);
  return cli;
};
afterEach(async () => {
  for (const cli of started.splice(0)) {
    cli.signal('SIGKILL');
    await cli.exited;
  }
});

const count = async () => Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n);

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}


function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Connections a CLI process held open on the primary (its pools are named esbench_<pool>_pool). */
async function serviceConnections(): Promise<number> {
  const r = await sql.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name IN ('esbench_primary_pool', 'esbench_cli')");
  return Number(r.rows[0]?.n);
}

async function stopAndCheck(cli: RunningCli, signal: NodeJS.Signals, port: number) {
  const children = childrenOf(cli.pid);
  const t0 = Date.now();
  cli.signal(signal);
  const exit = await cli.exited;
  const elapsed = Date.now() - t0;
  expect(exit.signal).toBeNull(); // it handled the signal, it was not killed by it
  expect(elapsed).toBeLessThan(5000);
  expect(await portOpen(port)).toBe(false);
  // No child of the command outlives it.
  for (let i = 0; i < 20 && children.some(isAlive); i++) await new Promise((r) => setTimeout(r, 100));
  expect(children.filter(isAlive)).toEqual([]);
  return exit;
}

describe('signals', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serve --ready-json + %s: in-flight request drains, clean exit 0, port closed, no child left', async (signal) => {
    const cli = spawnEsbench(['serve', '--port', '0', '--ready-json', ...flags]);
    const line = await cli.waitFor(/\{"event":"listening".*\}/);
    const { url } = JSON.parse(line[0]) as { url: string };
    const port = Number(new URL(url).port);
    expect((await fetch(`${url}/health`)).status).toBe(200);

    // A request in flight when the signal arrives: held by a lock, released after the signal.
    const locker = await sql.connect();
    let answer: Promise<Response>;
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      answer = fetch(`${url}/events/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filter: { items: [{ types: ['T'] }] } }),
      });
      await new Promise((r) => setTimeout(r, 300));
      setTimeout(() => void locker.query('COMMIT'), 500);
      const exit = await stopAndCheck(cli, signal, port);
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toContain('{"event":"closed"}');
      expect(exit.stderr).not.toMatch(/esbench: /);
    } finally {
      locker.release();
    }
    const drained = await answer;
    expect(drained.status).toBe(200);
    expect(await drained.json()).toEqual({ events: [], version: 0 });
    // Its pools were closed, not abandoned.
    expect(await serviceConnections()).toBe(0);
  });

  it('SIGINT during `seed --events 2000000`: exits 130 promptly with one INTERRUPTED line, nothing written', async () => {
    const before = await count();
    const cli = spawnEsbench(['seed', '--events', '2000000', '--results', results, ...flags]);
    // The COPY is streaming (progress lines come every 10,000 events).
    await cli.waitFor(/seed: [1-9]\d*\/2000000/);
    const t0 = Date.now();
    cli.signal('SIGINT');
    const exit = await cli.exited;
    // Typically ~0.2 s; a COPY that starved the event loop took 8-18 s to notice the signal.
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(exit.code).toBe(130);
    expect(exit.signal).toBeNull();
    const errors = errLines(exit).filter((l) => l.startsWith('esbench:'));
    expect(errors).toEqual(['esbench: INTERRUPTED: seeding interrupted; nothing was written (COPY is one transaction)']);
    expect(await count()).toBe(before);
    // No result directory for a seed that did not happen, and no backend of it left on the primary.
    expect(fs.readdirSync(results)).toEqual(['.esbench-results']);
    expect(await serviceConnections()).toBe(0);
  });

  it('SIGINT during the seed of `start` (empty store): exit 130, nothing written, the service never listened', async () => {
    expect(await count()).toBe(0);
    const cli = spawnEsbench(['start', '--port', '0', '--events', '2000000', ...flags]);
    await cli.waitFor(/seed: [1-9]\d*\/2000000/);
    cli.signal('SIGINT');
    const exit = await cli.exited;
    expect(exit.code).toBe(130);
    expect(errLines(exit).filter((l) => l.startsWith('esbench:'))).toEqual(['esbench: INTERRUPTED: seeding interrupted; nothing was written (COPY is one transaction)']);
    expect(exit.stdout).not.toContain('esbench is running');
    expect(await count()).toBe(0);
  });

  it('start + SIGTERM once serving: exit 0, port closed', async () => {
    const cli = spawnEsbench(['start', '--port', '0', '--events', '2000', ...flags]);
    const m = await cli.waitFor(/service {2}(http:\/\/127\.0\.0\.1:(\d+))/);
    expect((await fetch(`${m[1]}/health`)).status).toBe(200);
    const exit = await stopAndCheck(cli, 'SIGTERM', Number(m[2]));
    expect(exit.code, exit.stderr).toBe(0);
    expect(await count()).toBe(2000);
    expect(await serviceConnections()).toBe(0);
  });
});
