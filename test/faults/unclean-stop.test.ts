/**
 * Unclean stop: both postmasters killed with SIGKILL, then `esbench cluster up` (the CLI, as a user
 * runs it) recovers the cluster: plainly; with an orphaned backend still attached to the killed
 * primary's shared memory (PostgreSQL refuses to start then); and with a stale postmaster.pid whose
 * pid now belongs to another process (pid reuse: `up` skipped the start, `down` signalled the stranger).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/cluster/process.ts';
import { urlFor } from '../../src/cluster/embedded-cluster.ts';
import { esbench } from '../e2e/cli.ts';
import { sleep, until } from './fault-cluster.ts';

const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-fault-unclean-'));
// mkdtemp makes it 0700; postgres runs as an unprivileged user (we may be root) and must traverse it.
fs.chmodSync(parent, 0o755);
const dataDir = path.join(parent, 'cluster');
const flags = ['--data-dir', dataDir];
let primaryUrl: string;
let replicaUrl: string;
const strangers: ChildProcess[] = [];

interface Status {
  nodes: Array<{ node: string; state: string; pid: number | null; port: number }>;
  replication: { state: string | null };
}

const status = async () => {
  const r = await esbench(['cluster', 'status', '--json', ...flags]);
  return { code: r.code, status: JSON.parse(r.stdout) as Status };
};

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, application_name: 'esbench_test' });
  c.on('error', () => {});
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

const count = async (url: string) => Number((await query<{ n: string }>(url, 'SELECT count(*) AS n FROM probe'))[0]?.n);


/** kill -9 of both postmasters; returns once both are gone. */
async function killBoth(): Promise<void> {
  const { status: s } = await status();
  const pids = s.nodes.map((n) => n.pid!);
  expect(pids.every((p) => p > 0)).toBe(true);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  await until(async () => (pids.some(isAlive) ? undefined : true), 10_000, 'postmasters gone');
}

async function upRecovers(): Promise<string> {
  const up = await esbench(['cluster', 'up', '--json', ...flags]);
  expect(up.code, up.stderr).toBe(0);
  const s = JSON.parse(up.stdout) as Status;
  expect(s.nodes.map((n) => n.state)).toEqual(['running', 'running']);
  expect(s.replication.state).toBe('streaming');
  return up.stderr;
}

beforeAll(async () => {
  const up = await esbench(['cluster', 'up', '--json', ...flags]);
  expect(up.code, up.stderr).toBe(0);
  const s = JSON.parse(up.stdout) as Status;
  primaryUrl = urlFor(s.nodes[0]!.port);
  replicaUrl = urlFor(s.nodes[1]!.port);
  await query(primaryUrl, 'CREATE TABLE probe (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
});

afterAll(async () => {
  for (const p of strangers) p.kill('SIGKILL');
  await esbench(['cluster', 'down', ...flags]);
  fs.rmSync(parent, { recursive: true, force: true });
});

describe('esbench cluster up after an unclean stop', () => {
  it('kill -9 of both nodes: status reports them crashed (exit 3) and says what to do; up recovers; committed rows survive', async () => {
    await query(primaryUrl, 'INSERT INTO probe SELECT FROM generate_series(1, 1000)');
    await killBoth();
    const crashed = await esbench(['cluster', 'status', ...flags]);
    expect(crashed.code).toBe(3);
    expect(crashed.stdout).toMatch(/primary\s+crashed/);
    expect(crashed.stdout).toMatch(/replica\s+crashed/);
    expect(crashed.stdout).toContain('`esbench cluster up` restarts it');
    await upRecovers();
    expect(await count(primaryUrl)).toBe(1000);
    await until(async () => ((await count(replicaUrl)) === 1000 ? true : undefined), 10_000, 'replica caught up');
  });

  it('an orphaned backend still holding the killed primary\'s shared memory is terminated, then the primary starts', async () => {
    // A CPU-bound statement does not notice its postmaster's death: the backend lives on.
    const busy = new pg.Client({ connectionString: primaryUrl, application_name: 'esbench_test_busy' });
    busy.on('error', () => {});
    await busy.connect();
    const running = busy.query('SELECT count(*) FROM generate_series(1, 2000000000)').then(
      () => 'finished',
      () => 'terminated',
    );
    const [{ pid: backend }] = await until(
      async () => {
        const rows = await query<{ pid: number }>(primaryUrl, "SELECT pid FROM pg_stat_activity WHERE application_name = 'esbench_test_busy' AND state = 'active'");
        return rows.length === 1 ? (rows as [{ pid: number }]) : undefined;
      },
      10_000,
      'busy backend',
    );
    await killBoth();
    await sleep(300);
    expect(isAlive(backend)).toBe(true); // the orphan PostgreSQL would refuse to start next to
    const stderr = await upRecovers();
    expect(stderr).toMatch(new RegExp(`terminating 1 orphaned postgres process\\(es\\) of its killed postmaster \\(pids ${backend}\\)`));
    expect(isAlive(backend)).toBe(false);
    expect(await running).toBe('terminated');
    await busy.end().catch(() => {});
    expect(await count(primaryUrl)).toBe(1000);
  });

  it('a stale postmaster.pid naming a live stranger (pid reuse): up starts the node anyway, down leaves the stranger alone', async () => {
    await killBoth();
    const stranger = spawn('sleep', ['300'], { stdio: 'ignore' });
    strangers.push(stranger);
    for (const node of ['primary', 'replica']) {
      const file = path.join(dataDir, node, 'postmaster.pid');
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines[0] = String(stranger.pid);
      fs.writeFileSync(file, lines.join('\n'));
    }
    const { code, status: s } = await status();
    expect(code).toBe(3);
    expect(s.nodes.map((n) => [n.state, n.pid])).toEqual([
      ['crashed', null],
      ['crashed', null],
    ]);
    const stderr = await upRecovers();
    expect(stderr).toContain(`primary: removing a stale postmaster.pid (pid ${stranger.pid} is another process now)`);
    expect(await count(primaryUrl)).toBe(1000);
    // down stops the real nodes, and only them.
    const down = await esbench(['cluster', 'down', ...flags]);
    expect(down.code, down.stderr).toBe(0);
    expect(isAlive(stranger.pid!)).toBe(true);
    await upRecovers();
  });
});
