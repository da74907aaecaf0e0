/**
 * `esbench spikes A --against B` on saved runs (test/fixtures/spikes, written by make-fixtures.ts),
 * through the CLI's own entry point: the verdict sentence, spikes.json saved next to the run, and
 * a bad path as one line with a stable code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { SpikesResult } from '../../src/analysis/saved-run-spikes.ts';

let tmp: string;
beforeAll(() => {
  // The command writes spikes.json next to the run: work on a copy, not on the fixtures.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-spikes-cli-'));
  fs.cpSync(path.resolve('test/fixtures/spikes'), tmp, { recursive: true });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function esbench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'esbench', ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: tmp, env: {} });
  return { code, stdout, stderr };
}

const saved = (dir: string): SpikesResult => JSON.parse(fs.readFileSync(path.join(tmp, dir, 'spikes.json'), 'utf8')) as SpikesResult;

describe('esbench spikes', () => {
  it('lists a saved run\'s spikes with their cause, recomputed from its seconds and samples', async () => {
    const r = await esbench('spikes', 'before');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Spikes of .*before\/run\.json/);
    const spikes = saved('before').spikes.spikes;
    expect(spikes.map((s) => s.firstSecond)).toEqual([10, 30, 50, 70, 90, 110]);
    for (const s of spikes) expect(s.causes[0]).toMatchObject({ kind: 'lock wait', role: 'primary' });
    expect(r.stdout).toMatch(/primary: lock wait \(primary\) — Lock:relation \(a table lock\): up to 12 backend/);
    expect(r.stdout).toMatch(/6 spikes, one every 20 s/);
    expect(saved('before').comparison).toBeNull();
  });

  it('says "gone" when they are gone', async () => {
    const r = await esbench('spikes', 'after-gone', '--against', 'before');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Gone: 0 spikes .* against 6 spikes/m);
    const c = saved('after-gone').comparison!;
    expect(c.verdict).toBe('gone');
    expect(c.count!.pValue).toBeLessThan(0.05);
    expect(c.timeouts!.pValue).toBeLessThan(0.001);
  });

  it('says "not gone" when they are not', async () => {
    const r = await esbench('spikes', 'after-not-gone', '--against', 'before');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Not gone: 5 spikes .* against 6 spikes/m);
    expect(saved('after-not-gone').comparison!.verdict).toBe('not gone');
  });

  it('the other way round: a reference without spikes has nothing to be gone; one spike more is not significantly worse', async () => {
    expect((await esbench('spikes', 'before', '--against', 'after-gone')).stdout).toMatch(/^Nothing to be gone: the reference run had no spikes/m);
    const worse = await esbench('spikes', 'before', '--against', 'after-not-gone', '--json');
    expect((JSON.parse(worse.stdout) as SpikesResult).comparison!.verdict).toBe('not gone');
  });

  it('a directory without a run is one line with a stable code', async () => {
    fs.mkdirSync(path.join(tmp, 'empty'), { recursive: true });
    const r = await esbench('spikes', 'empty');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^esbench: RUN_NOT_READABLE: .*no run\.json here\n$/);
    fs.writeFileSync(path.join(tmp, 'empty', 'run.json'), '{"kind":"sweep"}');
    expect((await esbench('spikes', 'empty')).stderr).toMatch(/RUN_NOT_READABLE: .*not a run saved by esbench run/);
    expect((await esbench('spikes', 'nowhere')).stderr).toMatch(/RUN_NOT_READABLE: .*does not exist/);
  });
});
