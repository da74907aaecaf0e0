/** The CLI as a user runs it: `node bin/esbench.js ...` in a child process. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve('bin/esbench.js');

/** Runs the CLI; resolves with its exit code and output (a non-zero exit is a result, not an error). */
function esbench(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

// Each case spawns node + tsx (~1 s of start-up): keep the cases few.
describe('esbench tune-config', () => {
  it('prints a commented config fragment with seed 002\'s figures', async () => {
    const r = await esbench('tune-config', '--ram', '64GB', '--role', 'replica', '--workload', 'read');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^shared_buffers = 16GB +# 25% of RAM/m);
    expect(r.stdout).toMatch(/^effective_cache_size = 48GB +# /m);
    expect(r.stdout).toMatch(/^work_mem = 512MB +# /m);
    expect(r.stdout).toMatch(/^maintenance_work_mem = 4GB +# /m);
    expect(r.stdout).toMatch(/^autovacuum_naptime = 10min +# seed 003 replica/m);
  });

  it.each([
    [['--ram', '-4GB', '--role', 'primary'], /BAD_FLAG: --ram '-4GB' is not a positive size/],
    [['--ram', '32GB', '--role', 'master'], /BAD_FLAG: --role must be one of primary, replica/],
    [['--role', 'primary'], /required option '--ram <size>' not specified/],
  ])('rejects %j with one line on stderr and exit 2', async (args, message) => {
    const r = await esbench('tune-config', ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

describe('esbench maintain --dry-run', () => {
  it('prints the SQL with what each step locks, without any database', async () => {
    const r = await esbench('maintain', '--dry-run', '--steps', 'reindex,vacuum', '--data-dir', '/nonexistent/esbench');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('VACUUM (ANALYZE, TRUNCATE false) events;');
    expect(r.stdout).toContain('REINDEX INDEX CONCURRENTLY idx_events_payload_gin;');
    expect(r.stdout.indexOf('VACUUM')).toBeLessThan(r.stdout.indexOf('REINDEX'));
    expect(r.stdout).toMatch(/-- locks: SHARE UPDATE EXCLUSIVE/);
  });
});
