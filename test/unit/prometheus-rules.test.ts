/**
 * promtool (Debian: apt-get install prometheus) checks our Prometheus files the way Prometheus
 * will read them: the scrape configuration, the alert rules, and prometheus/tests/alerts.test.yml,
 * which makes every alert fire on synthetic series (and stay quiet just inside its threshold).
 * Skipped, with the reason, where promtool is missing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT } from '../helpers/observability.ts';

const PROMTOOL = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim() || undefined;

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL!, args, { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const read = (p: string): unknown => parse(fs.readFileSync(path.join(ROOT, p), 'utf8'));

describe.skipIf(!PROMTOOL)(
  `promtool on prometheus/${PROMTOOL ? '' : ' (skipped: no promtool on PATH; Debian: apt-get install prometheus)'}`,
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-promtool-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('accepts prometheus.yml, with its rule file where the compose stack mounts it', () => {
      // rule_files name the container path (/etc/prometheus/alerts.yml): point it at ours.
      const config = read('prometheus/prometheus.yml') as { rule_files: string[] };
      expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
      config.rule_files = [path.join(ROOT, 'prometheus/alerts.yml')];
      const file = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(file, stringify(config));
      const r = promtool('check', 'config', file);
      expect(r.output).toContain('SUCCESS');
      expect(r.status, r.output).toBe(0);
    });

    it('accepts the alert rules', () => {
      const r = promtool('check', 'rules', 'prometheus/alerts.yml');
      expect(r.status, r.output).toBe(0);
      expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    });

    it('passes the rule unit tests', () => {
      const r = promtool('test', 'rules', 'prometheus/tests/alerts.test.yml');
      expect(r.status, r.output).toBe(0);
    });

    it('has a rule unit test in which every alert fires', () => {
      const rules = read('prometheus/alerts.yml') as { groups: Array<{ rules: Array<{ alert: string }> }> };
      const tests = read('prometheus/tests/alerts.test.yml') as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
      };
      const firing = new Set(
        tests.tests.flatMap((t) =>
          (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
        ),
      );
      const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
      expect(alerts.length).toBeGreaterThan(10);
      expect(alerts.filter((a) => !firing.has(a))).toEqual([]);
    });
  },
);
