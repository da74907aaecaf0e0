/**
 * `esbench run` as a user runs it: the service in its own process, the paced engine, the observer,
 * the split; results saved as JSON before the summary; --slo exit codes; Ctrl-C keeps what was
 * measured (partial) and leaves no service process behind.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { esbench } from './cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-run-'));
fs.chmodSync(dir, 0o755);
const results = path.join(dir, 'results');
const cluster = ['--data-dir', path.join(dir, 'cluster')];
const quick = ['--rate', '20', '--duration', '3s', '--warmup', '1s', '--results', results, ...cluster];

afterAll(async () => {
  await esbench(['cluster', 'down', ...cluster]);
  fs.rmSync(dir, { recursive: true, force: true });
});

function runs(): string[] {
  return fs.existsSync(results) ? fs.readdirSync(results).filter((f) => f.endsWith('-run') || /-run-\d+$/.test(f)).sort() : [];
}

describe('esbench run', () => {
  it('measures, saves run.json, and prints a labelled summary with the split', async () => {
    const r = await esbench(['run', ...quick, '--seed-events', '5000', '--seed', '7', '--slo', 'p99<5s,errors=0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\s+1s\s+sent \d+/m); // one progress line per second
    expect(r.stdout).toMatch(/rate: target 20\/s, achieved [\d.]+\/s sent/);
    expect(r.stdout).toMatch(/client latency \(ms\): p50 [\d.]+/);
    expect(r.stdout).toContain('Where the time goes');
    expect(r.stdout).toMatch(/lend-book-copy\s+\d+/);
    expect(r.stdout).toMatch(/primary\s+cache hit [\d.]+%/);
    expect(r.stdout).toMatch(/ok {3}p99<5s/);
    const [id] = runs();
    const saved = JSON.parse(fs.readFileSync(path.join(results, id!, 'run.json'), 'utf8'));
    expect(saved.partial).toBe(false);
    expect(saved.load.engine).toBe('paced');
    expect(saved.load.config.seed).toBe(7);
    expect(saved.load.counters.sent).toBeGreaterThanOrEqual(55);
    expect(saved.config.pools.primary).toMatchObject({ max: 60, min: 2 });
    expect(saved.observation.samplers.map((s: { node: string }) => s.node)).toEqual(['primary', 'replica']);
    const lend = saved.split.endpoints.find((e: { endpoint: string }) => e.endpoint === 'lend-book-copy');
    expect(lend.rows.find((x: { component: string }) => x.component === 'dbExecution').mean).toBeGreaterThan(0);
    expect(Math.abs(lend.residualMs)).toBeLessThan(0.5); // the parts add up to the client latency
    // Issue 11: the endpoint's own statements, planning as DB time (track_planning is on in our
    // cluster), the driver's decode and the calibration probe, the observer's share of DB time.
    // The default (held) command path reads the boundary with `decision_read`; the study's with `query`.
    expect(lend.statements.some((s: { statement: string }) => s.statement === 'decision_read@lend-book-copy')).toBe(true);
    // Planning is its own component; it can be 0 in a short window: prepared statements run on
    // cached generic plans once each connection has planned them (a CI run saw 0, rightly).
    const planning = lend.rows.find((x: { component: string }) => x.component === 'dbPlanning');
    expect(planning.measuredAt).toMatch(/pg_stat_statements \(track_planning\)/);
    expect(planning.mean).toBeGreaterThanOrEqual(0);
    expect(lend.rows.find((x: { component: string }) => x.component === 'decode').mean).toBeGreaterThan(0);
    expect(lend.driver.rowsPerRequest).toBeGreaterThan(0);
    expect(saved.split.probe.readings).toBeGreaterThanOrEqual(1);
    const primaryWindow = saved.observation.statements.find((w: { node: string }) => w.node === 'primary');
    expect(primaryWindow.planning).toBe('tracked');
    expect(primaryWindow.observerShare).toBeGreaterThan(0);
    expect(primaryWindow.observerShare).toBeLessThan(1);
    expect(r.stdout).toMatch(/observer's own statements: [\d.]+ ms of [\d.]+ ms database statement time/);
    // ...and against each node's CPU time, which does not depend on what the workload sends there.
    expect(r.stdout).toMatch(/primary\s+observer's own statements: [\d.]+ ms = [\d.]+% of the node's CPU time/);
    expect(r.stdout).toMatch(/replica\s+observer's own statements: [\d.]+ ms = [\d.]+% of the node's CPU time/);
    // CPU per process over the window; the embedded cluster's nodes are ours, so they are counted.
    expect(r.stdout).toMatch(/CPU during the measured window/);
    const cpu = saved.cpu as { processes: Array<{ process: string; cpuSeconds: number | null }>; totalMsPerRequest: number };
    const seconds = Object.fromEntries(cpu.processes.map((p) => [p.process, p.cpuSeconds]));
    if (process.platform === 'linux') {
      expect(seconds['postgres-primary']).toBeGreaterThan(0);
      expect(seconds['postgres-replica']).toBeGreaterThan(0);
      expect(seconds.service).toBeGreaterThan(0);
    }
    expect(seconds.generator).toBeGreaterThan(0);
    expect(cpu.totalMsPerRequest).toBeGreaterThan(0);
  });

  it('exits 1 with SLO_VIOLATED when an SLO fails, still saving the run', async () => {
    const before = runs().length;
    const r = await esbench(['run', ...quick, '--slo', 'p50<0.001ms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SLO_VIOLATED: p50<0.001ms/);
    expect(r.stdout).toMatch(/FAIL p50<0.001ms/);
    expect(runs().length).toBe(before + 1);
  });

  it('rejects bad flags before starting anything', async () => {
    for (const args of [['--rate', 'fast'], ['--duration', '0s'], ['--engine', 'wrk'], ['--workload', 'tpcc'], ['--slo', 'p99<'], ['--mix', 'lend=x']]) {
      const r = await esbench(['run', ...args, ...cluster]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('Ctrl-C keeps what was measured (partial, exit 130) and stops the service', async () => {
    const before = runs().length;
    const child = spawn(process.execPath, [path.resolve('bin/esbench.js'), 'run', ...quick.slice(0, 2), '--duration', '60s', '--warmup', '0s', '--results', results, ...cluster], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (/^\s+2s\s+sent/m.test(stderr)) {
          clearInterval(t);
          resolve();
        }
      }, 100);
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(130);
    expect(stdout).toContain('PARTIAL');
    expect(runs().length).toBe(before + 1);
    const saved = JSON.parse(fs.readFileSync(path.join(results, runs().at(-1)!, 'run.json'), 'utf8'));
    expect(saved.partial).toBe(true);
    expect(saved.load.counters.sent).toBeGreaterThan(20);
    // The service process is gone.
    expect(saved.service.pid).toBeGreaterThan(0);
    expect(() => process.kill(saved.service.pid, 0)).toThrow();
  });
});
