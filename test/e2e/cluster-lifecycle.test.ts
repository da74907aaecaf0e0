/**
 * The embedded cluster as a user drives it: up (twice), status, a crashed node reported and
 * recovered, seed, down with no postgres process left behind.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { esbench } from './cli.ts';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-e2e-'));
// mkdtemp makes it 0700; postgres runs as an unprivileged user (we may be root) and must traverse it.
fs.chmodSync(dataDir, 0o755);
const results = path.join(dataDir, 'results');
const flags = ['--data-dir', path.join(dataDir, 'cluster')];

function postgresProcesses(): string[] {
  try {
    return execFileSync('pgrep', ['-f', '--', path.join(dataDir, 'cluster')], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

interface Status {
  nodes: Array<{ node: string; state: string; port: number; pid: number | null; inRecovery: boolean | null }>;
  replication: { state: string | null };
}

afterAll(async () => {
  await esbench(['cluster', 'down', ...flags]);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('esbench cluster', () => {
  it('up is idempotent and brings up a streaming primary + replica on loopback', async () => {
    const first = await esbench(['cluster', 'up', '--json', ...flags]);
    expect(first.code, first.stderr).toBe(0);
    const s1 = JSON.parse(first.stdout) as Status;
    expect(s1.nodes.map((n) => [n.node, n.state, n.inRecovery])).toEqual([
      ['primary', 'running', false],
      ['replica', 'running', true],
    ]);
    expect(s1.replication.state).toBe('streaming');
    const second = await esbench(['cluster', 'up', '--json', ...flags]);
    const s2 = JSON.parse(second.stdout) as Status;
    expect(s2.nodes.map((n) => [n.port, n.pid])).toEqual(s1.nodes.map((n) => [n.port, n.pid]));
    // Security: data directory not world-readable; only 127.0.0.1 in listen_addresses.
    const mode = fs.statSync(path.join(dataDir, 'cluster')).mode & 0o777;
    expect(mode & 0o077).toBe(0);
    expect(fs.readFileSync(path.join(dataDir, 'cluster/primary/esbench.conf'), 'utf8')).toContain("listen_addresses = '127.0.0.1'");
  });

  it('seeds with a progress line and saves the result as JSON', async () => {
    const r = await esbench(['seed', '--events', '5000', '--results', results, ...flags]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/seed: 5000\/5000 \(100%\)/);
    const [run] = fs.readdirSync(results).filter((f) => f.endsWith('-seed'));
    const saved = JSON.parse(fs.readFileSync(path.join(results, run!, 'seed.json'), 'utf8'));
    expect(saved.result.events).toBe(5000);
    const again = await esbench(['seed', '--events', '10', '--results', results, ...flags]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not empty: pass --reset/);
  });

  it('a crashed node is reported (exit 3), and up recovers it', async () => {
    const s = JSON.parse((await esbench(['cluster', 'status', '--json', ...flags])).stdout) as Status;
    const replicaPid = s.nodes.find((n) => n.node === 'replica')!.pid!;
    process.kill(replicaPid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const crashed = await esbench(['cluster', 'status', ...flags]);
    expect(crashed.code).toBe(3);
    expect(crashed.stdout).toMatch(/replica\s+crashed/);
    const up = await esbench(['cluster', 'up', '--json', ...flags]);
    expect(up.code, up.stderr).toBe(0);
    expect((JSON.parse(up.stdout) as Status).replication.state).toBe('streaming');
  });

  it('down stops both nodes and leaves no postgres process behind', async () => {
    expect(postgresProcesses().length).toBeGreaterThan(0);
    const r = await esbench(['cluster', 'down', ...flags]);
    expect(r.code).toBe(0);
    expect(postgresProcesses()).toEqual([]);
    const status = await esbench(['cluster', 'status', ...flags]);
    expect(status.stdout).toMatch(/primary\s+stopped/);
  });
});
