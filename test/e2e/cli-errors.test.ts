/** The CLI contract for bad input: one readable line, a non-zero exit, nothing half-written. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { errLines, esbench } from './cli.ts';

describe('esbench CLI: help and usage errors', () => {
  // A process per command took ~3 s each (tsx loads every command's sources), 60 s for all of
  // them, and timed out on a busy CI machine: the top level and one sub-command run as processes,
  // every command's --help through main() in this process (the same program and parser).
  it('--help lists the commands; every command has --help', async () => {
    const r = await esbench(['--help']);
    expect(r.code).toBe(0);
    const commands = [...r.stdout.matchAll(/^ {2}([a-z-]+)\s/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['start', 'cluster', 'seed', 'serve']));
    const sub = await esbench(['cluster', 'status', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('Usage: esbench cluster status');
    for (const c of [...commands, 'cluster up', 'cluster down', 'cluster status']) {
      let out = '';
      const code = await main(['node', 'esbench', ...c.split(' '), '--help'], { stdout: (t) => void (out += t), stderr: () => {} });
      expect(code, c).toBe(0);
      expect(out, c).toContain('Usage: esbench');
    }
  });

  const bad: Array<[string, string[], number, RegExp]> = [
    ['unknown command', ['frobnicate'], 2, /unknown command 'frobnicate'/],
    ['unknown flag', ['seed', '--evnts', '5'], 2, /unknown option '--evnts'/],
    ['bad number', ['seed', '--events', 'lots'], 2, /BAD_FLAG: --events 'lots' is not a whole number/],
    ['zero events', ['seed', '--events', '0'], 2, /BAD_FLAG: --events must be between 1/],
    ['bad port', ['serve', '--port', '70000'], 2, /BAD_FLAG: --port must be between 0 and 65535/],
    ['bad duration', ['serve', '--pool-idle-timeout', 'forever'], 2, /BAD_FLAG: --pool-idle-timeout 'forever' is not a duration/],
    ['min above max', ['serve', '--pool-min', '9', '--pool-max', '3'], 2, /BAD_CONFIG: pool primary.min \(9\) must not exceed max \(3\)/],
    ['not a postgres URL', ['cluster', 'status', '--primary-url', 'http://example'], 2, /BAD_CONFIG: primary URL must be a postgres:\/\/ URL/],
    ['bad on/off', ['serve', '--gin-fastupdate', 'maybe'], 2, /BAD_FLAG: --gin-fastupdate must be one of on, off/],
  ];
  it.each(bad)('%s → one line and the exit code', async (_name, args, code, pattern) => {
    const r = await esbench(args);
    expect(r.code).toBe(code);
    const lines = errLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('an unreachable database → one line with the URL redacted, exit 3', async () => {
    const results = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-r-'));
    const r = await esbench(['seed', '--primary-url', 'postgres://me:hunter2@127.0.0.1:1/db', '--results', results]);
    expect(r.code).toBe(3);
    expect(errLines(r)).toHaveLength(1);
    expect(r.stderr).toMatch(/DB_UNAVAILABLE: cannot reach the primary at postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/db/);
    expect(r.stderr).not.toContain('hunter2');
    expect(fs.readdirSync(results)).toEqual(['.esbench-results']); // no half-written run directory
    fs.rmSync(results, { recursive: true, force: true });
  });

  it('cluster status with nodes that do not answer → their state, passwords redacted, exit 3', async () => {
    const r = await esbench(['cluster', 'status', '--primary-url', 'postgres://me:hunter2@127.0.0.1:1/db', '--replica-url', 'postgres://me:hunter2@127.0.0.1:2/db']);
    expect(r.code).toBe(3);
    expect(r.stdout.match(/unreachable/g)).toHaveLength(2);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });

  it('a results directory that is not esbench\'s is refused and left untouched', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-foreign-'));
    fs.writeFileSync(path.join(dir, 'thesis.tex'), 'precious');
    const r = await esbench(['seed', '--results', dir, '--primary-url', 'postgres://127.0.0.1:1/db']);
    expect(r.code).toBe(2);
    expect(errLines(r)[0]).toMatch(/RESULTS_DIR_INVALID: .* is not an esbench results directory/);
    expect(fs.readdirSync(dir)).toEqual(['thesis.tex']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
