/**
 * Every metric the dashboards and alert rules read is really exposed: esbench_* names against a
 * live /metrics scrape of the service (after traffic, so labelled series exist), pg_* names against
 * the postgres_exporter list. And every metric docs/metrics.md documents is in the scrape.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCatalogued, metricNamesInPromql, parseExposition, parseMetricList, parseMetricsDoc } from '../helpers/promql-metrics.ts';
import { appFixture, type AppFixture } from '../helpers/app.ts';
import { observabilityExprs, ROOT } from '../helpers/observability.ts';

let fx: AppFixture;
let scrape: string;
beforeAll(async () => {
  fx = await appFixture();
  const post = (url: string, payload: object) => fx.app.inject({ method: 'POST', url, payload });
  await post('/library/commands/register-reader', { readerId: 'reader-1' });
  await post('/library/commands/add-book-copy', { bookId: 'book-1' });
  await post('/library/commands/lend-book-copy', { bookId: 'book-1', readerId: 'reader-1' });
  await post('/library/commands/lend-book-copy', { bookId: 'book-1', readerId: 'reader-1' }); // a rejection
  await fx.app.inject({ method: 'GET', url: '/library/books-in-circulation' });
  await fx.app.inject({ method: 'GET', url: '/health' });
  scrape = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
});
afterAll(async () => fx.close());

describe('PromQL names against a live scrape', () => {
  it('every esbench_* metric in dashboards and rules is in the live /metrics; every other one is the exporter\'s', () => {
    const live = parseExposition(scrape);
    const exporter = parseMetricList(fs.readFileSync(path.join(ROOT, 'prometheus/exporter-metrics.txt'), 'utf8'));
    const names = new Set(observabilityExprs().flatMap(metricNamesInPromql));
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      if (name.startsWith('esbench_')) expect(isCatalogued(name, live), `${name} not in the live scrape`).toBe(true);
      else expect(isCatalogued(name, exporter), `${name} not exported by postgres_exporter (prometheus/exporter-metrics.txt)`).toBe(true);
    }
  });

  it('every metric docs/metrics.md documents is in the live scrape', () => {
    const live = parseExposition(scrape);
    const doc = parseMetricsDoc(fs.readFileSync(path.join(ROOT, 'docs/metrics.md'), 'utf8'));
    for (const name of doc.names) expect(isCatalogued(name, live), `${name} documented but not exposed`).toBe(true);
    for (const prefix of doc.prefixes) expect([...live.names].some((n) => n.startsWith(prefix)), prefix).toBe(true);
  });
});
