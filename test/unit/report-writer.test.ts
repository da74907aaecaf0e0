import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EsbenchError } from '../../src/core/errors.ts';
import { p99Limit } from '../../src/report/html/capacity-section.ts';
import { writeReport } from '../../src/report/report-writer.ts';

const FIXTURES = path.resolve('test/fixtures/report');
const dirs: string[] = [];

function copyFixture(kind: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `esbench-report-unit-${kind}-`));
  dirs.push(dir);
  fs.cpSync(path.join(FIXTURES, kind), dir, { recursive: true });
  return dir;
}

function emptyDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-report-unit-'));
  dirs.push(dir);
  return dir;
}

/** The inline SVG of each figure, by figure id. */
function figures(html: string): Map<string, string> {
  return new Map([...html.matchAll(/<figure class="chart" id="([^"]+)">([\s\S]*?)<\/figure>/g)].map((m) => [m[1]!, m[2]!]));
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('writeReport', () => {
  it('draws a run: timeline with spike bands, split waterfall, spike causes; self-contained', async () => {
    const dir = copyFixture('run');
    const { htmlPath, mdPath } = await writeReport(dir);
    expect(htmlPath).toBe(path.join(dir, 'report.html'));
    const html = fs.readFileSync(htmlPath, 'utf8');
    const md = fs.readFileSync(mdPath, 'utf8');
    const figs = figures(html);
    expect([...figs.keys()]).toEqual(['timeline', 'split']);
    for (const svg of figs.values()) expect(svg).toMatch(/class="mark-(line|rect|symbol)[^"]*role-mark/);
    // The fixture's one spike (seconds 0-1) is a band and a table row with its cause.
    expect(figs.get('timeline')).toContain('>S1<');
    expect(html).toMatch(/<tr id="spike-1"><td>S1<\/td><td>0–1<\/td>/);
    // The observer's samples on the same seconds: GIN pending lists and backends of the primary.
    expect(figs.get('timeline')).toContain('GIN pending list (primary)');
    expect(figs.get('timeline')).toContain('Backends on the primary');
    expect(html).toContain('unexplained');
    // Every endpoint of the split is in the waterfall.
    for (const e of ['lend-book-copy', 'return-book-copy', 'add-book-copy', 'remove-book-copy']) expect(figs.get('split')).toContain(e);
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(md).toContain('## Timeline and spikes');
    expect(md).toContain('<a id="spike-1"></a>S1 | 0–1 |');
  });

  it('links each verdict to the rows of the runs behind it, and back', async () => {
    const dir = copyFixture('study');
    const { htmlPath, mdPath } = await writeReport(dir);
    const html = fs.readFileSync(htmlPath, 'utf8');
    const study = JSON.parse(fs.readFileSync(path.join(dir, 'study.json'), 'utf8')) as { verdicts: Array<{ id: string; evidence: { runs: string[] } }> };
    const ids = new Set([...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
    for (const v of study.verdicts) {
      expect(ids).toContain(`verdict-${v.id}`);
      for (const r of v.evidence.runs) expect(ids).toContain(`run-${r.replace(/\/run\.json$/, '').replace(/[^A-Za-z0-9_-]+/g, '-')}`);
    }
    const targets = [...html.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]);
    expect(targets.length).toBeGreaterThan(study.verdicts.length);
    expect(targets.filter((t) => !ids.has(t))).toEqual([]);
    expect(fs.readFileSync(mdPath, 'utf8')).toContain('<a id="verdict-c2-rate-without-timeouts"></a>');
  });

  it('degrades a section, not the page, when shapes drift or a file is unreadable', async () => {
    const dir = emptyDir();
    fs.writeFileSync(path.join(dir, 'run.json'), '{"kind": "run", truncated');
    fs.writeFileSync(
      path.join(dir, 'sweep.json'),
      JSON.stringify({ levels: [{ key: 'a', p99: 120 }, { key: 'b', p99: { mean: 90, ci: [80, 100] } }, 'garbage'], comparisons: 'none' }),
    );
    fs.writeFileSync(
      path.join(dir, 'capacity.json'),
      JSON.stringify({ maxRate: 40, steps: [{ targetRate: 20, p99Ms: 30, pass: true }, { targetRate: 60, p99Ms: { estimate: 800 }, pass: false }], slo: { p99Ms: 500 } }),
    );
    fs.writeFileSync(
      path.join(dir, 'study.json'),
      JSON.stringify({ verdicts: [{ criterion: 'x holds', verdict: 'holds', figure: '1 ms', ci: [0.5, 1.5], evidence: ['trials/0-a-r1'] }, { verdict: 'does not hold' }] }),
    );
    const { htmlPath } = await writeReport(dir);
    const html = fs.readFileSync(htmlPath, 'utf8');
    expect(html).toContain('run.json could not be read');
    const figs = figures(html);
    expect(figs.get('sweep-p99')).toMatch(/role-mark/);
    expect(figs.get('capacity-chart')).toMatch(/role-mark/);
    expect(html).toContain('sweep.json has no comparisons.');
    expect(html.match(/<tr id="verdict-/g)).toHaveLength(2);
    expect(html).toContain('[0.50, 1.50]');
    // A cited run that is not in the directory is listed as such.
    expect(html).toContain('id="run-trials-0-a-r1"');
    expect(html).toContain('(not in this directory)');
  });

  it('refuses a missing or empty directory with RESULTS_NOT_FOUND', async () => {
    await expect(writeReport(path.join(os.tmpdir(), 'esbench-no-such-dir-xyz'))).rejects.toMatchObject({ code: 'RESULTS_NOT_FOUND' });
    const empty = emptyDir();
    const e = await writeReport(empty).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EsbenchError);
    expect((e as EsbenchError).code).toBe('RESULTS_NOT_FOUND');
    expect(fs.readdirSync(empty)).toEqual([]);
    // A results root: the message names one of its result directories.
    const root = emptyDir();
    fs.cpSync(path.join(FIXTURES, 'capacity'), path.join(root, '20260101T000000Z-capacity'), { recursive: true });
    await expect(writeReport(root)).rejects.toThrow(`give one result's directory, e.g. ${path.join(root, '20260101T000000Z-capacity')}`);
  });
});

describe('p99Limit', () => {
  it('reads the p99 limit from the SLO forms capacity.json may hold', () => {
    expect(p99Limit('p99<500ms,timeouts=0')).toBe(500);
    expect(p99Limit('errors<1%,p99<0.2s')).toBe(200);
    expect(p99Limit({ p99Ms: 250 })).toBe(250);
    expect(p99Limit([{ metric: 'errors', limit: 1 }, { metric: 'p99', limit: 300 }])).toBe(300);
    expect(p99Limit('timeouts=0')).toBeNull();
    expect(p99Limit(undefined)).toBeNull();
  });
});
