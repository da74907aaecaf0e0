/**
 * report.html as a person opens it: `esbench report <dir>` on each fixture (run, sweep, capacity,
 * study), then Debian's Chromium (driven by playwright-core) loads the file from file://. The page
 * must load without console errors or any request beyond the file itself, every chart must hold
 * data marks, every in-page link must land on an element, and the study's verdict table must hold
 * every verdict. A full-page screenshot of each is kept in test-artifacts/ (git-ignored).
 *
 * Skipped, saying why, where /usr/bin/chromium is missing (.ci/run installs it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbench } from './cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);
const FIXTURES = path.resolve('test/fixtures/report');
const ARTIFACTS = path.resolve('test-artifacts');

if (!available) console.warn(`report-browser.test: skipped: ${CHROMIUM} not found (apt-get install chromium; .ci/run installs it)`);

/** Charts each fixture's page draws: run = timeline + split; sweep = p50, p99, timeouts, rate; capacity = 1; study = the runs. */
const CHARTS: Record<string, number> = { run: 2, sweep: 4, capacity: 1, study: 1 };

describe.skipIf(!available)(`report.html in Chromium${available ? '' : ` (skipped: ${CHROMIUM} not found)`}`, () => {
  let context: BrowserContext | undefined;
  let userDataDir = '';
  const work: string[] = [];

  beforeAll(async () => {
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1200, height: 900 },
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
    for (const d of work) fs.rmSync(d, { recursive: true, force: true });
  });

  it.each(Object.keys(CHARTS))(
    '%s: loads from file:// with no console error and no fetch, every chart has marks, every link lands',
    async (kind) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `esbench-report-${kind}-`));
      work.push(dir);
      fs.cpSync(path.join(FIXTURES, kind), dir, { recursive: true });
      const cli = await esbench(['report', dir]);
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
      const htmlPath = path.join(dir, 'report.html');
      expect(cli.stdout).toContain(htmlPath);
      expect(cli.stdout).toContain(path.join(dir, 'report.md'));
      expect(fs.readFileSync(htmlPath, 'utf8')).not.toMatch(/<script|<link |<img |@import|url\(/i);

      const page = await context!.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (r.url() !== pathToFileURL(htmlPath).href) problems.push(`fetched ${r.url()}`);
      });
      await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });

      const charts = await page.$$eval('figure.chart', (figs) =>
        figs.map((f) => ({
          id: f.id,
          svg: f.querySelectorAll('svg').length,
          // Data marks only: vega gives axes, legends and titles other roles.
          marks: f.querySelectorAll('g.role-mark > path, g.role-mark > rect, g.role-mark > line').length,
          caption: f.querySelector('figcaption')?.textContent ?? '',
        })),
      );
      expect(charts.map((c) => c.id)).toHaveLength(CHARTS[kind]!);
      for (const c of charts) {
        expect(c.svg, c.id).toBe(1);
        expect(c.marks, `${c.id} has no marks`).toBeGreaterThan(0);
        expect(c.caption, `${c.id} caption says where it was measured`).toMatch(/load generator|Server-Timing|pg_stat_statements|observer/);
      }
      const dangling = await page.$$eval('a[href^="#"]', (as) => {
        // Runs in the page (this project's TypeScript has no DOM lib).
        const doc = (globalThis as unknown as { document: { getElementById(id: string): unknown } }).document;
        return as.map((a) => a.getAttribute('href')!.slice(1)).filter((id) => !doc.getElementById(id));
      });
      expect(dangling).toEqual([]);

      if (kind === 'study') {
        const study = JSON.parse(fs.readFileSync(path.join(dir, 'study.json'), 'utf8')) as { verdicts: Array<{ id: string; verdict: string; evidence: { runs: string[] } }> };
        const rows = await page.$$eval('#verdict-table tbody tr', (trs) => trs.map((tr) => ({ id: tr.id, text: tr.textContent ?? '', links: tr.querySelectorAll('a[href^="#run-"]').length })));
        expect(rows).toHaveLength(study.verdicts.length);
        study.verdicts.forEach((v, i) => {
          expect(rows[i]!.id).toBe(`verdict-${v.id}`);
          expect(rows[i]!.text).toContain(v.verdict);
          expect(rows[i]!.links).toBe(v.evidence.runs.length);
        });
        // Following a verdict's evidence link lands on that run's row.
        await page.click('#verdict-c2-rate-without-timeouts a[href^="#run-"]');
        expect(new URL(page.url()).hash).toBe('#run-trials-2-tuned-r1');
        expect(await page.locator('#run-trials-2-tuned-r1').isVisible()).toBe(true);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, `report-${kind}.png`), fullPage: true });
      await page.close();
      expect(problems).toEqual([]);
    },
    180_000,
  );
});
