/**
 * The Docker stack, checked without Docker: the compose file parses and everything it mounts or
 * builds exists, no password is written down, and every PromQL expression in the Grafana
 * dashboards and Prometheus rules reads a metric that docs/metrics.md (the service) or
 * prometheus/exporter-metrics.txt (postgres_exporter) lists. The live /metrics scrape check
 * reuses test/helpers/promql-metrics.ts once the service exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allExprs } from '../helpers/observability.ts';
import {
  isCatalogued,
  metricNamesInPromql,
  parseExposition,
  parseMetricList,
  parseMetricsDoc,
  type MetricCatalogue,
} from '../helpers/promql-metrics.ts';

const ROOT = path.resolve('.');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string } | string;
  volumes?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
  entrypoint?: string[];
  command?: string[];
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes: Record<string, unknown> };

/** Compose interpolation, as far as mount paths go: ${VAR:-default} -> default; a required var fails. */
function resolveDefaults(text: string): string {
  return text.replace(/\$\{([A-Z_]+)(:?[-?])([^}]*)\}/g, (_m, name: string, op: string, arg: string) => {
    if (op.endsWith('-')) return arg;
    throw new Error(`mount path needs \${${name}}: it cannot be checked without a value`);
  });
}

function bindMounts(service: Service): Array<{ source: string; target: string }> {
  return (service.volumes ?? [])
    .map((v) => resolveDefaults(v))
    .filter((v) => v.startsWith('.') || v.startsWith('/'))
    .map((v) => {
      const [source = '', target = ''] = v.split(':');
      return { source, target };
    });
}

const DASHBOARDS = fs.readdirSync(path.join(ROOT, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));
const dashboards = DASHBOARDS.map((f) => ({ file: f, json: JSON.parse(read(`grafana/dashboards/${f}`)) as { panels: Array<{ title: string; description: string; datasource: { uid: string } }> } }));
const rules = parse(read('prometheus/alerts.yml')) as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }> }> };

function catalogue(): MetricCatalogue {
  const c = parseMetricsDoc(read('docs/metrics.md'));
  return parseMetricList(read('prometheus/exporter-metrics.txt'), c);
}

describe('promql metric extraction', () => {
  it.each([
    ['histogram_quantile(0.95, sum by (le, route) (rate(esbench_http_request_duration_seconds_bucket{route="/x"}[5m])))', ['esbench_http_request_duration_seconds_bucket']],
    ['sum without (instance) (rate(a_total[1m] offset 5m)) / on (pool) group_left(node) b', ['a_total', 'b']],
    ['max(x{status_code=~"5.."}) > bool 0.7 and y or unless_this', ['x', 'y', 'unless_this']],
    ['rate(c[$__rate_interval]) * ${scale} + $other + 1e-3 + 0x1F + Inf', ['c']],
    ['label_replace(up{job="a"}, "dst", "$1", "src", "(.*)") # comment metric_in_comment', ['up']],
    ['{__name__="by_name", job="x"} + sum by (pool) (d) + count_values("v", e)', ['by_name', 'd', 'e']],
    ['topk(3, sum by (route) (f[5m:1m])) @ start()', ['f']],
  ])('%s', (expr, expected) => {
    expect(metricNamesInPromql(expr)).toEqual(expected);
  });

  it('knows histogram series, documented prefixes and a live exposition', () => {
    const c = parseMetricsDoc(read('docs/metrics.md'));
    expect(isCatalogued('esbench_pool_acquire_wait_seconds_bucket', c)).toBe(true);
    expect(isCatalogued('esbench_pool_total_connections_bucket', c)).toBe(false); // a gauge has no buckets
    expect(isCatalogued('esbench_nodejs_eventloop_lag_p99_seconds', c)).toBe(true);
    expect(isCatalogued('esbench_pool_total_connection', c)).toBe(false);
    const live = parseExposition('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\ng{a="b"} 2\n');
    expect(['h_bucket', 'h_sum', 'g', 'nope'].map((n) => isCatalogued(n, live))).toEqual([true, true, true, false]);
  });
});

describe('docker-compose.yml', () => {
  it('has the stack\'s services, PgBouncer only behind its profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['esbench', 'esbench-pgbouncer', 'exporter-primary', 'exporter-replica', 'grafana', 'pgbouncer', 'primary', 'prometheus', 'replica'].sort(),
    );
    expect(compose.services.pgbouncer!.profiles).toEqual(['pgbouncer']);
    expect(compose.services['esbench-pgbouncer']!.profiles).toEqual(['pgbouncer']);
    expect(compose.services.primary!.image).toMatch(/^postgres:17/);
    for (const name of ['primary', 'replica', 'esbench', 'prometheus', 'grafana']) expect(compose.services[name]!.profiles).toBeUndefined();
  });

  it('mounts and builds only files that exist', () => {
    let mounts = 0;
    for (const [name, service] of Object.entries(compose.services)) {
      for (const m of bindMounts(service)) {
        mounts += 1;
        expect(fs.existsSync(path.join(ROOT, m.source)), `${name}: ${m.source}`).toBe(true);
      }
      for (const v of service.volumes ?? []) {
        if (!v.startsWith('.') && !v.startsWith('$')) expect(Object.keys(compose.volumes), `${name}: volume ${v}`).toContain(v.split(':')[0]);
      }
      if (service.build) {
        const b = typeof service.build === 'string' ? { context: service.build } : service.build;
        expect(fs.existsSync(path.join(ROOT, b.context)), `${name}: build context`).toBe(true);
        expect(fs.existsSync(path.join(ROOT, b.context, b.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`).toBe(true);
      }
    }
    expect(mounts).toBeGreaterThan(15);
    // Scripts referenced inside the mounted files exist too.
    expect(read('docker/postgres/initdb/01-esbench.sh')).toContain('/etc/esbench/schema.sql');
    expect(bindMounts(compose.services.primary!)).toContainEqual({ source: './sql/schema.sql', target: '/etc/esbench/schema.sql' });
  });

  it('mounts each node\'s tuning file and preloads pg_stat_statements', () => {
    expect(bindMounts(compose.services.primary!)).toContainEqual({ source: './tuning/primary.conf', target: '/etc/esbench/tuning.conf' });
    expect(bindMounts(compose.services.replica!)).toContainEqual({ source: './tuning/replica.conf', target: '/etc/esbench/tuning.conf' });
    for (const node of ['primary', 'replica']) {
      const conf = read(`docker/postgres/${node}.conf`);
      expect(conf).toMatch(/^include = '\/etc\/esbench\/tuning.conf'$/m);
      expect(conf).toMatch(/^shared_preload_libraries = 'pg_stat_statements'/m);
      // the stack's own settings come after the tuning file, so they win
      expect(conf.indexOf('include =')).toBeLessThan(conf.indexOf('shared_preload_libraries'));
    }
  });

  it('writes no password down: every secret is a required variable from .env', () => {
    const text = read('docker-compose.yml');
    expect(text).not.toMatch(/PASSWORD:?-/); // no ${X_PASSWORD:-default}
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|_PASS$/.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
        if (/^postgres(ql)?:\/\//.test(String(value))) expect(value, `${name}.${key}`).toMatch(/^postgres:\/\/\w+:\$\{ESBENCH_DB_PASSWORD:\?[^}]+\}@/);
      }
    }
    const hba = read('docker/postgres/pg_hba.conf').split('\n').filter((l) => l.startsWith('host'));
    expect(hba.length).toBeGreaterThan(0);
    for (const line of hba) expect(line).toMatch(/scram-sha-256$/);
    // .env.example names every variable the compose file requires.
    const example = read('docker/env.example');
    for (const m of text.matchAll(/\$\{([A-Z_]+):\?/g)) expect(example).toMatch(new RegExp(`^${m[1]}=`, 'm'));
  });

  it('scrapes the compose services and loads the rule file it mounts', () => {
    const prom = parse(read('prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    const mounted = bindMounts(compose.services.prometheus!).map((m) => m.target);
    for (const f of prom.rule_files) expect(mounted).toContain(f);
    const hosts = prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets.map((t) => t.split(':')[0]!)));
    for (const h of hosts) expect(Object.keys(compose.services)).toContain(h);
  });
});

describe('dashboards and alert rules', () => {
  const known = catalogue();

  it('read only metrics the service or the exporter exposes', () => {
    const exprs = [...dashboards.flatMap((d) => allExprs(d.json)), ...allExprs(rules)];
    expect(exprs.length).toBeGreaterThan(40);
    const unknown: string[] = [];
    for (const e of exprs) {
      const names = metricNamesInPromql(e);
      expect(names.length, e).toBeGreaterThan(0);
      for (const n of names) if (!isCatalogued(n, known)) unknown.push(`${n} in ${e}`);
    }
    expect(unknown).toEqual([]);
  });

  it('cover what issue 4 asks the dashboards to show', () => {
    const exprs = dashboards.flatMap((d) => allExprs(d.json)).join('\n');
    for (const metric of [
      'esbench_http_request_duration_seconds_bucket', // latency percentiles per route
      'esbench_db_roundtrip_seconds_sum', // DB-vs-app split
      'pg_stat_statements_seconds_total',
      'esbench_pool_total_connections', // pool gauges
      'esbench_pool_acquire_wait_seconds_bucket', // acquire waits
      'esbench_concurrency_conflicts_total', // conflicts / retries
      'esbench_command_retries_total',
      'esbench_replica_lag_seconds', // replication lag
      'pg_stat_user_tables_autovacuum_count', // autovacuum activity
      'pg_stat_database_blks_hit', // cache hit
    ]) {
      expect(exprs, metric).toContain(metric);
    }
  });

  it('use the provisioned datasource and are documented panel by panel in docs/operations.md', () => {
    const ds = parse(read('grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ uid: string }> };
    const uid = ds.datasources[0]!.uid;
    const ops = read('docs/operations.md');
    for (const d of dashboards) {
      for (const p of d.json.panels) {
        expect(p.datasource.uid, `${d.file}: ${p.title}`).toBe(uid);
        expect(p.description.length, `${d.file}: ${p.title}`).toBeGreaterThan(20);
        expect(ops, `docs/operations.md lacks panel "${p.title}"`).toContain(`| ${p.title} |`);
      }
    }
  });

  it('alert on seed 002\'s thresholds, each rule naming its source', () => {
    const all = rules.groups.flatMap((g) => g.rules);
    const byName = Object.fromEntries(all.map((r) => [r.alert, r]));
    expect(byName.PoolUtilisationHigh!.expr).toMatch(/> 0\.7$/);
    expect(byName.PoolUtilisationHigh!.for).toBe('5m');
    expect(byName.PoolUtilisationCritical!.expr).toMatch(/> 0\.9$/);
    expect(byName.PoolUtilisationCritical!.for).toBe('2m');
    expect(byName.PoolAcquireWaitHigh!.expr).toMatch(/> 0\.1\s*$/);
    expect(byName.LatencyP95High!.expr).toMatch(/histogram_quantile\(0\.95,.*> 0\.2$/);
    expect(byName.LatencyP99Critical!.expr).toMatch(/histogram_quantile\(0\.99,.*> 0\.5$/);
    expect(byName.ConnectionFailures!.expr).toMatch(/> 0\.01\s*$/);
    expect(byName.ReplicationLagAboveCriterion!.expr).toMatch(/esbench_replica_lag_seconds\) > 0\.01$/);
    for (const r of all) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels.severity);
      expect(r.annotations.source, r.alert).toMatch(/seed 002|study|health/);
    }
  });

  it('lists as the exporter\'s only names the exporter or its custom queries define', () => {
    const queries = parse(read('docker/postgres-exporter/queries.yaml')) as Record<string, { metrics: Array<Record<string, { usage: string }>> }>;
    const custom = Object.entries(queries).flatMap(([ns, q]) =>
      q.metrics.flatMap((m) => Object.entries(m).filter(([, spec]) => spec.usage !== 'LABEL').map(([col]) => `${ns}_${col}`)),
    );
    const listed = [...parseMetricList(read('prometheus/exporter-metrics.txt')).names];
    for (const name of listed) expect(name).toMatch(/^pg_/);
    for (const c of custom) expect(listed).toContain(c);
    // every listed name not from a custom query belongs to a built-in collector's namespace
    for (const name of listed.filter((n) => !custom.includes(n))) {
      expect(name, name).toMatch(/^pg_(up|stat_database_|stat_user_tables_|replication_|stat_statements_|settings_)/);
    }
  });
});
