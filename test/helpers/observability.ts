/** Every PromQL expression of the Grafana dashboards and the Prometheus alert rules. */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export function allExprs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => allExprs(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'expr' && typeof v === 'string') out.push(v);
      else allExprs(v, out);
    }
  }
  return out;
}

export function dashboardFiles(): string[] {
  return fs.readdirSync(path.join(ROOT, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));
}

export function observabilityExprs(): string[] {
  const dashboards = dashboardFiles().map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, 'grafana/dashboards', f), 'utf8')) as unknown);
  const rules = parse(fs.readFileSync(path.join(ROOT, 'prometheus/alerts.yml'), 'utf8')) as unknown;
  return [...dashboards.flatMap((d) => allExprs(d)), ...allExprs(rules)];
}
