/** `esbench report` from the command line: paths on stdout; a bad directory is one line with its code. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errLines, esbench } from './cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-report-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('esbench report', () => {
  it('writes report.html and report.md beside the JSON and prints their paths (relative dir resolved)', async () => {
    fs.cpSync(path.resolve('test/fixtures/report/capacity'), path.join(dir, 'cap'), { recursive: true });
    const r = await esbench(['report', path.relative(process.cwd(), path.join(dir, 'cap'))]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([`report: ${path.join(dir, 'cap', 'report.html')}`, `report: ${path.join(dir, 'cap', 'report.md')}`]);
    expect(fs.readFileSync(path.join(dir, 'cap', 'report.html'), 'utf8')).toContain('<svg');
  });

  it.each([
    ['a missing directory', () => path.join(dir, 'nope')],
    ['a directory without results', () => fs.mkdtempSync(path.join(dir, 'empty-'))],
  ])('refuses %s with one line and exit 2', async (_, target) => {
    const r = await esbench(['report', target()]);
    expect(r.code).toBe(2);
    expect(errLines(r)).toHaveLength(1);
    expect(errLines(r)[0]).toMatch(/^esbench: RESULTS_NOT_FOUND: /);
    expect(r.stdout).toBe('');
  });
});
