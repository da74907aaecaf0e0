/**
 * `esbench study` end to end with a tiny size (hidden test flags: 2 s windows, 2,000 events, one
 * repetition, a given capacity instead of the search): Ctrl-C stops it with its settings restored,
 * --resume finishes it with a verdict for every criterion and claim in study.json, every setting and
 * the history are back afterwards, and a second --resume runs no trial again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { VERDICT_IDS } from '../../src/study/verdicts.ts';
import { esbench, spawnEsbench } from './cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-study-'));
fs.chmodSync(dir, 0o755);
const results = path.join(dir, 'results');
const cluster = ['--data-dir', path.join(dir, 'cluster')];
const tiny = ['--trial-seconds', '2', '--events', '2000', '--repeats', '1', '--capacity-rate', '30', '--seed', '3', '--results', results, ...cluster];

afterAll(async () => {
  await esbench(['cluster', 'down', ...cluster]);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function primaryQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const status = await esbench(['cluster', 'status', '--json', ...cluster]);
  const url = (JSON.parse(status.stdout) as { nodes: Array<{ node: string; url: string }> }).nodes.find((n) => n.node === 'primary')!.url;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('esbench study', () => {
  it('stops cleanly on Ctrl-C (settings restored), resumes to a verdict for every criterion and claim, and a second resume reruns nothing', async () => {
    // The cluster's own settings before the study (tuning/primary.conf; schema default fastupdate on).
    const up = await esbench(['cluster', 'up', ...cluster]);
    expect(up.code, up.stderr).toBe(0);

    // Interrupted in the middle of the ablation: exit 130, what ran is saved, the settings are back.
    const first = spawnEsbench(['study', ...tiny], { timeoutMs: 600_000 });
    await first.waitFor(/\[5\/\d+\] \S+ @ \d+ req\/s r1.*: reset history/, 480_000);
    first.signal('SIGINT');
    const stopped = await first.exited;
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(130);
    const [id] = fs.readdirSync(results).filter((f) => f.endsWith('-study'));
    const studyDir = path.join(results, id!);
    const partial = JSON.parse(fs.readFileSync(path.join(studyDir, 'study.json'), 'utf8'));
    expect(partial.partial).toBe(true);
    expect(partial.settingsRestored).toBe(true);
    expect(fs.existsSync(path.join(studyDir, 'settings-journal.json'))).toBe(false);
    expect(stopped.stdout).toContain('--resume');

    const r = await esbench(['study', '--resume', studyDir, ...cluster], { timeoutMs: 600_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(/ETA \d/);
    const saved = JSON.parse(fs.readFileSync(path.join(studyDir, 'study.json'), 'utf8'));
    expect(saved.partial).toBe(false);
    const ids = saved.verdicts.map((v: { id: string }) => v.id);
    for (const v of VERDICT_IDS) expect(ids).toContain(v);
    expect(ids).toContain('c2s-scaled-rate-without-timeouts'); // 30 req/s < 300: the pair is scaled
    expect(saved.pair).toMatchObject({ low: 25, high: 30, scaled: true });
    for (const v of saved.verdicts) {
      expect(['holds', 'does not hold', 'cannot be measured here']).toContain(v.verdict);
      for (const key of ['criterion', 'verdict', 'figure', 'ci', 'evidence']) expect(v).toHaveProperty(key);
      for (const run of v.evidence.runs) expect(fs.existsSync(path.join(studyDir, run)), run).toBe(true);
    }
    expect(saved.settingsRestored).toBe(true);
    expect(fs.existsSync(path.join(studyDir, 'settings-journal.json'))).toBe(false);
    expect(r.stdout).toContain("Seed 003's success criteria");
    expect(r.stdout).toContain('"MinConns 20→2 removed 14 ms of application overhead"');
    expect(r.stdout).toContain(`saved: ${path.join(studyDir, 'study.json')}`);

    // Every setting is back: the cluster's own autovacuum and fastupdate, no ALTER SYSTEM left.
    const settings = await primaryQuery<{ name: string; setting: string; sourcefile: string | null }>(
      "SELECT name, setting, sourcefile FROM pg_settings WHERE name IN ('autovacuum_naptime', 'shared_buffers', 'autovacuum_vacuum_cost_limit')",
    );
    for (const s of settings) expect(s.sourcefile ?? '', s.name).not.toMatch(/postgresql\.auto\.conf$/);
    expect(settings.find((s) => s.name === 'autovacuum_naptime')?.setting).toBe('120');
    const rel = await primaryQuery<{ relname: string; reloptions: string[] | null }>(
      "SELECT relname, reloptions FROM pg_class WHERE relname IN ('events', 'idx_events_payload_gin')",
    );
    expect(rel.find((x) => x.relname === 'events')?.reloptions ?? null).toBeNull();
    expect(rel.find((x) => x.relname === 'idx_events_payload_gin')?.reloptions).toEqual(['fastupdate=on']);
    // The history is back to the seeded one.
    const [count] = await primaryQuery<{ n: string }>('SELECT count(*) AS n FROM events');
    expect(Number(count!.n)).toBe(saved.history.events);

    // A second --resume: every trial is saved, so nothing runs again; the same verdicts come back.
    const trialsBefore = fs.readdirSync(path.join(studyDir, 'trials')).length;
    const again = await esbench(['study', '--resume', studyDir, ...cluster], { timeoutMs: 120_000 });
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(again.stderr).toContain('resuming');
    expect(again.stderr).not.toMatch(/reset history, apply/);
    expect(fs.readdirSync(path.join(studyDir, 'trials')).length).toBe(trialsBefore);
    const resumed = JSON.parse(fs.readFileSync(path.join(studyDir, 'study.json'), 'utf8'));
    expect(resumed.verdicts.map((v: { id: string; verdict: string }) => `${v.id}:${v.verdict}`)).toEqual(
      saved.verdicts.map((v: { id: string; verdict: string }) => `${v.id}:${v.verdict}`),
    );
  }, 1_200_000);

  it('refuses a --resume directory that is not a study, in one line', async () => {
    const r = await esbench(['study', '--resume', dir, ...cluster]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^esbench: STUDY_DIR_INVALID: /m);
  });
});
