/**
 * A real Prometheus (the binary, on loopback) scrapes a live service started here, with the
 * scrape configuration of prometheus/prometheus.yml (targets mapped to local addresses, 1 s
 * interval) and its alert rules loaded; then every PromQL expression of every Grafana panel must
 * return at least one series through Prometheus' HTTP API, and every alert rule must evaluate
 * without error. pg_* panels need postgres_exporter; where its binary is present (Debian:
 * prometheus-postgres-exporter) one runs per node, else those panels are skipped and named.
 * The whole file is skipped, with the reason, where the prometheus binary is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/cluster/ports.ts';
import { resolveConfig } from '../../src/core/config.ts';
import { startServer, type RunningServer } from '../../src/service/server.ts';
import { dashboardFiles, ROOT } from '../helpers/observability.ts';
import { schemaDatabase, type SchemaDatabase } from '../helpers/schema-db.ts';

function onPath(...names: string[]): string | undefined {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found) return found;
  }
  return undefined;
}

const PROMETHEUS = onPath('prometheus');
const EXPORTER = onPath('prometheus-postgres-exporter', 'postgres_exporter');
/**
 * Exporter metrics that come from collectors added in postgres_exporter 0.13 (stat_statements,
 * stat_user_tables, replication's lag in seconds); docker-compose.yml runs 0.17.1, Debian 12
 * ships 0.11. Panels on them are checked only with an exporter that new.
 */
const NEEDS_EXPORTER_0_13 = /pg_stat_statements_|pg_stat_user_tables_|pg_replication_lag_seconds/;

function exporterVersion(bin: string): [number, number] {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const m = /version (\d+)\.(\d+)/.exec(`${out.stdout}${out.stderr}`);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}
const EXPORTER_IS_0_13 = EXPORTER !== undefined && ((v) => v[0] > 0 || v[1] >= 13)(exporterVersion(EXPORTER));

interface Panel {
  dashboard: string;
  title: string;
  expr: string;
}

function panels(): Panel[] {
  return dashboardFiles().flatMap((file) => {
    const json = JSON.parse(fs.readFileSync(path.join(ROOT, 'grafana/dashboards', file), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr?: string }> }>;
    };
    return json.panels.flatMap((p) =>
      (p.targets ?? []).flatMap((t) => (t.expr ? [{ dashboard: file, title: p.title, expr: t.expr }] : [])),
    );
  });
}

/** What Grafana would send: the dashboard variables replaced by their values for this setup. */
function asGrafanaSends(expr: string, database: string): string {
  return expr
    .replaceAll('$__rate_interval', '10s') // Grafana: at least 4 scrape intervals (1 s here)
    .replaceAll('$via', 'direct')
    .replaceAll('datname="esbench"', `datname="${database}"`); // the test's database, not the compose stack's
}

const children: ChildProcess[] = [];
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.once('exit', (code) => {
    if (code !== null && code !== 0) console.error(`${cmd} exited ${code}:\n${stderr}`);
  });
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { resultType: string; result: unknown[] };
}

describe.skipIf(!PROMETHEUS)(
  `a real Prometheus scraping the service${PROMETHEUS ? '' : ' (skipped: no prometheus binary on PATH; Debian: apt-get install prometheus)'}`,
  () => {
    let base: SchemaDatabase;
    let server: RunningServer;
    let promUrl: string;
    let traffic: NodeJS.Timeout | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-prom-'));

    const query = async (expr: string): Promise<QueryAnswer> => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await res.json()) as QueryAnswer;
    };

    beforeAll(async () => {
      base = await schemaDatabase();
      const config = resolveConfig({ service: { host: '127.0.0.1', port: 0 } }, {});
      server = await startServer(config, base.db.primaryUrl, base.db.replicaUrl);
      const post = (url: string, body: object) =>
        fetch(`${server.url}${url}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      await post('/library/commands/register-reader', { readerId: 'reader-1' });
      await post('/library/commands/add-book-copy', { bookId: 'book-1' });
      await post('/library/commands/lend-book-copy', { bookId: 'book-1', readerId: 'reader-1' });
      await post('/library/commands/lend-book-copy', { bookId: 'book-1', readerId: 'reader-1' }); // a 422
      // A trickle of traffic while Prometheus scrapes, so rates have something to show.
      traffic = setInterval(() => {
        void fetch(`${server.url}/library/books-in-circulation`).catch(() => {});
        void fetch(`${server.url}/health`).catch(() => {});
        void post('/library/commands/add-book-copy', { bookId: 'book-2' }).catch(() => {});
      }, 200);

      // Targets of prometheus/prometheus.yml mapped to what runs here; unmapped ones are dropped.
      const local = new Map<string, string>([['esbench:8080', new URL(server.url).host]]);
      if (EXPORTER) {
        for (const [node, url] of [
          ['primary', base.db.primaryUrl],
          ['replica', base.db.replicaUrl],
        ] as const) {
          const port = await freePort();
          const args = [
            `--web.listen-address=127.0.0.1:${port}`,
            `--extend.query-path=${path.join(ROOT, 'docker/postgres-exporter/queries.yaml')}`,
          ];
          if (EXPORTER_IS_0_13) args.push('--collector.stat_statements');
          start(EXPORTER, args, { DATA_SOURCE_NAME: `${url}?sslmode=disable` });
          local.set(`exporter-${node}:9187`, `127.0.0.1:${port}`);
        }
      }
      const compose = parse(fs.readFileSync(path.join(ROOT, 'prometheus/prometheus.yml'), 'utf8')) as {
        global: Record<string, unknown>;
        rule_files: string[];
        scrape_configs: Array<{ scrape_interval?: string; static_configs: Array<{ targets: string[] }> }>;
      };
      compose.global = { ...compose.global, scrape_interval: '1s', evaluation_interval: '1s' };
      compose.rule_files = [path.join(ROOT, 'prometheus/alerts.yml')];
      for (const job of compose.scrape_configs) {
        delete job.scrape_interval;
        for (const sc of job.static_configs)
          sc.targets = sc.targets.flatMap((t) => (local.has(t) ? [local.get(t)!] : []));
      }
      const configFile = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(configFile, stringify(compose));
      const promPort = await freePort();
      promUrl = `http://127.0.0.1:${promPort}`;
      start(PROMETHEUS!, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]);
      await waitFor('Prometheus to be ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
    });

    afterAll(async () => {
      if (traffic) clearInterval(traffic);
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
            }),
        ),
      );
      await server?.close();
      await base?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('scrapes every mapped target and finds it up', async () => {
      const up = await waitFor('every target up', async () => {
        const a = await query('up');
        const result = (a.data?.result ?? []) as Array<{ metric: Record<string, string>; value: [number, string] }>;
        const expected = EXPORTER ? 3 : 1;
        return result.length === expected && result.every((r) => r.value[1] === '1') ? result : undefined;
      });
      expect(up.map((r) => `${r.metric.job}/${r.metric.node}`).sort()).toEqual(
        EXPORTER ? ['esbench/service', 'postgres/primary', 'postgres/replica'] : ['esbench/service'],
      );
    });

    it('answers every Grafana panel query with at least one series', async () => {
      const all = panels();
      expect(all.length).toBeGreaterThan(20);
      const checked = all.filter((p) => {
        if (!p.expr.includes('pg_')) return true;
        return EXPORTER !== undefined && (EXPORTER_IS_0_13 || !NEEDS_EXPORTER_0_13.test(p.expr));
      });
      const skipped = all.filter((p) => !checked.includes(p));
      if (skipped.length > 0) {
        console.warn(
          `panels not checked (${EXPORTER ? 'postgres_exporter older than 0.13' : 'no postgres_exporter binary'}):\n` +
            skipped.map((p) => `  ${p.dashboard} / ${p.title}: ${p.expr}`).join('\n'),
        );
      }
      // A rate needs two scrapes inside its window: ask again until every panel has a series
      // or 30 s have passed, then name the ones that stayed empty.
      const pending = new Map(checked.map((p) => [p, asGrafanaSends(p.expr, base.db.name)]));
      const failed = new Map<Panel, string>();
      const deadline = Date.now() + 30_000;
      while (pending.size > 0 && Date.now() < deadline) {
        for (const [panel, expr] of pending) {
          const a = await query(expr);
          if (a.status !== 'success')
            failed.set(panel, `${expr} -> ${a.error}`); // a syntax error will not heal
          else if ((a.data?.result.length ?? 0) === 0) continue;
          pending.delete(panel);
        }
        if (pending.size > 0) await new Promise((r) => setTimeout(r, 500));
      }
      for (const [panel, expr] of pending) failed.set(panel, `${expr} -> no series`);
      const empty = [...failed].map(([p, why]) => `${p.dashboard} / ${p.title}: ${why}`);
      expect(empty).toEqual([]);
    });

    it('loads every alert rule and evaluates each without error', async () => {
      const rules = await waitFor('rules evaluated', async () => {
        const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
          data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
        };
        const list = res.data.groups.flatMap((g) => g.rules);
        return list.length > 0 && list.every((r) => r.health !== 'unknown') ? list : undefined;
      });
      const alerts = parse(fs.readFileSync(path.join(ROOT, 'prometheus/alerts.yml'), 'utf8')) as {
        groups: Array<{ rules: Array<{ alert: string }> }>;
      };
      expect(rules.map((r) => r.name).sort()).toEqual(alerts.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort());
      expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    });
  },
);
