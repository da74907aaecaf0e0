/**
 * Database settings of a sweep level: applied, verified, switched between levels without leaking, restored
 * from the journal (pg_settings on both nodes, reloptions on both nodes); and a sweep interrupted mid-way, or
 * resumed after a crash, restores every setting. Server settings are cluster-wide, so every test that changes
 * them is in this one file (files run in parallel on the shared cluster); reloadable settings only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySettings, parseSettingsPlan, readJournal, restoreSettings, settingMatches } from '../../src/tuner/settings.ts';
import { gridLevels, parseFactor } from '../../src/tuner/sweep-factors.ts';
import { JOURNAL_FILE, runSweep, type SweepPlan, type TrialRunner } from '../../src/tuner/sweep.ts';
import { trialConfig } from '../../src/tuner/trial.ts';
import { fakeTrialResult } from '../helpers/fake-trial.ts';
import { schemaDatabase, type SchemaDatabase } from '../helpers/schema-db.ts';

let sdb: SchemaDatabase;
let dir: string;
beforeAll(async () => {
  sdb = await schemaDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esb-settings-'));
});
afterAll(async () => {
  // Whatever happened, leave the shared cluster as it was.
  for (const j of [path.join(dir, 'settings-journal.json'), path.join(dir, 'a', JOURNAL_FILE), path.join(dir, 'b', JOURNAL_FILE)]) {
    await restoreSettings({ primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl }, j).catch(() => undefined);
  }
  await sdb.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function q<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}
const setting = async (url: string, name: string) => (await q<{ setting: string }>(url, 'SELECT setting FROM pg_settings WHERE name = $1', [name]))[0]!.setting;
const reloptions = async (url: string, rel: string) =>
  (await q<{ reloptions: string[] | null }>(url, 'SELECT reloptions FROM pg_class WHERE oid = to_regclass($1)', [rel]))[0]!.reloptions ?? [];

const profile = (name: string) => parseSettingsPlan(JSON.parse(fs.readFileSync(path.resolve('tuning/autovacuum', `${name}.json`), 'utf8')), name);

describe('settingMatches', () => {
  it('compares values in the setting base unit', () => {
    expect(settingMatches('2min', { setting: '120', unit: 's', vartype: 'integer' })).toBe(true);
    expect(settingMatches('64MB', { setting: '8192', unit: '8kB', vartype: 'integer' })).toBe(true);
    expect(settingMatches('off', { setting: 'off', unit: null, vartype: 'bool' })).toBe(true);
    expect(settingMatches('0.02', { setting: '0.02', unit: null, vartype: 'real' })).toBe(true);
    expect(settingMatches('2ms', { setting: '2', unit: 'ms', vartype: 'real' })).toBe(true);
    expect(settingMatches('3min', { setting: '120', unit: 's', vartype: 'integer' })).toBe(false);
  });
});

describe('applySettings / restoreSettings', () => {
  it('applies a profile on both nodes and tables, switches levels without leaking, restores every original', async () => {
    const p = sdb.db.primaryUrl;
    const r = sdb.db.replicaUrl;
    const target = { primaryUrl: p, replicaUrl: r };
    const journal = path.join(dir, 'settings-journal.json');
    const before = {
      naptime: await setting(p, 'autovacuum_naptime'),
      replicaNaptime: await setting(r, 'autovacuum_naptime'),
      scale: await setting(p, 'autovacuum_vacuum_scale_factor'),
      replicaScale: await setting(r, 'autovacuum_vacuum_scale_factor'),
      events: await reloptions(p, 'events'),
      gin: await reloptions(p, 'idx_events_payload_gin'),
    };
    const seed003 = profile('seed-003');
    await applySettings(target, { ...seed003, indexes: { idx_events_payload_gin: { fastupdate: 'off' } } }, journal);
    // The journal holds the originals.
    const j = readJournal(journal)!;
    expect(j.gucs.primary.autovacuum_naptime!.setting).toBe(before.naptime);
    expect(j.indexes.idx_events_payload_gin!.fastupdate).toBe(before.gin.find((o) => o.startsWith('fastupdate='))?.split('=')[1] ?? null);
    expect(await setting(p, 'autovacuum_naptime')).toBe('120');
    expect(await setting(p, 'autovacuum_vacuum_scale_factor')).toBe('0.8');
    expect(await setting(r, 'autovacuum_vacuum_scale_factor')).toBe('0.9');
    expect(await setting(r, 'autovacuum_naptime')).toBe('600');
    expect(await reloptions(p, 'events')).toEqual(expect.arrayContaining(['fillfactor=98', 'autovacuum_analyze_threshold=3000']));
    expect(await reloptions(r, 'events')).toEqual(expect.arrayContaining(['fillfactor=98', 'autovacuum_analyze_threshold=3000']));
    expect(await reloptions(r, 'idx_events_payload_gin')).toContain('fastupdate=off');

    // Another level: seed 003's keys it does not set go back to their originals.
    await applySettings(target, profile('aggressive-insert'), journal);
    expect(await setting(p, 'autovacuum_naptime')).toBe('15');
    expect(await setting(p, 'autovacuum_vacuum_scale_factor')).toBe(before.scale);
    expect(await setting(r, 'autovacuum_vacuum_scale_factor')).toBe(before.replicaScale);
    const ev = await reloptions(p, 'events');
    expect(ev).toContain('autovacuum_vacuum_insert_threshold=5000');
    expect(ev.some((o) => o.startsWith('fillfactor='))).toBe(before.events.some((o) => o.startsWith('fillfactor=')));
    expect(await reloptions(p, 'idx_events_payload_gin')).toEqual(before.gin);

    expect(await restoreSettings(target, journal)).toBe(true);
    expect(fs.existsSync(journal)).toBe(false);
    expect(await setting(p, 'autovacuum_naptime')).toBe(before.naptime);
    expect(await setting(r, 'autovacuum_naptime')).toBe(before.replicaNaptime);
    expect(await reloptions(p, 'events')).toEqual(before.events);
    expect(await reloptions(r, 'events')).toEqual(before.events);
    const auto = await q<{ n: string }>(p, "SELECT count(*) AS n FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name LIKE 'autovacuum%'");
    expect(Number(auto[0]!.n)).toBe(0);
    // Idempotent.
    expect(await restoreSettings(target, journal)).toBe(false);
  });

  it('refuses a setting that needs a restart when it cannot restart, and restores it', async () => {
    const target = { primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl };
    const journal = path.join(dir, 'restart-journal.json');
    const before = await setting(sdb.db.primaryUrl, 'max_prepared_transactions');
    await expect(applySettings(target, { primary: { max_prepared_transactions: String(Number(before) + 3) } }, journal)).rejects.toMatchObject({ code: 'RESTART_UNAVAILABLE' });
    await restoreSettings(target, journal);
    // The running value never changed; the auto.conf entry is gone.
    expect(await setting(sdb.db.primaryUrl, 'max_prepared_transactions')).toBe(before);
    const auto = await q<{ n: string }>(sdb.db.primaryUrl, "SELECT count(*) AS n FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name = 'max_prepared_transactions'");
    expect(Number(auto[0]!.n)).toBe(0);
    expect(fs.existsSync(journal)).toBe(false);
  });

  it('rejects unknown settings and relations as BAD_PLAN', async () => {
    const target = { primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl };
    await expect(applySettings(target, { primary: { no_such_setting: '1' } }, path.join(dir, 'x.json'))).rejects.toMatchObject({ code: 'BAD_PLAN' });
    await expect(applySettings(target, { tables: { no_such_table: { fillfactor: '90' } } }, path.join(dir, 'y.json'))).rejects.toMatchObject({ code: 'BAD_PLAN' });
    expect(() => parseSettingsPlan({ primry: {} }, 'p')).toThrow(/unknown key/);
  });
});

async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [node, url] of [['primary', sdb.db.primaryUrl], ['replica', sdb.db.replicaUrl]] as const) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const s = await c.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name LIKE 'autovacuum%' ORDER BY name");
      out[`${node}.settings`] = Object.fromEntries(s.rows.map((r) => [r.name, r.setting]));
      const auto = await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name LIKE 'autovacuum%'");
      out[`${node}.autoConf`] = auto.rows[0]!.n;
      const rel = await c.query<{ relname: string; reloptions: string[] | null }>(
        "SELECT relname, reloptions FROM pg_class WHERE relname IN ('events', 'idx_events_payload_gin', 'idx_events_metadata_gin') ORDER BY relname",
      );
      out[`${node}.reloptions`] = Object.fromEntries(rel.rows.map((r) => [r.relname, r.reloptions]));
    } finally {
      await c.end();
    }
  }
  return out;
}

function plan(): SweepPlan {
  return {
    levels: gridLevels([parseFactor('autovacuum=seed-003,aggressive-insert'), parseFactor('gin-fastupdate=off,on')], path.resolve('tuning')),
    baselineKey: 'autovacuum=seed-003,gin-fastupdate=off',
    repeats: 2,
    trial: trialConfig({ rate: 10, durationMs: 1000, warmupMs: 0 }),
    threshold: { relative: 0.05, absoluteMs: 1 },
    seed: 3,
    driftEvery: 0,
  };
}

describe('sweep settings lifecycle', () => {
  it('an interrupt mid-sweep restores every setting (pg_settings and reloptions, both nodes)', async () => {
    const target = { primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl };
    const before = await snapshot();
    const controller = new AbortController();
    let calls = 0;
    let seenDuring: Record<string, unknown> | undefined;
    const trial: TrialRunner = async (_t, config) => {
      calls++;
      if (calls === 3) {
        seenDuring = await snapshot(); // the level's settings are in force during its trial
        controller.abort();
        return fakeTrialResult(config, { p50: 5, partial: true });
      }
      return fakeTrialResult(config, { p50: 5 });
    };
    const r = await runSweep(target, plan(), path.join(dir, 'a'), { signal: controller.signal, runTrial: trial });
    expect(r.partial).toBe(true);
    expect(r.settingsRestored).toBe(true);
    expect(seenDuring).not.toEqual(before);
    expect(await snapshot()).toEqual(before);
    expect(fs.existsSync(path.join(dir, 'a', JOURNAL_FILE))).toBe(false);
  });

  it('after a crash with settings applied, resume restores them before anything else', async () => {
    const target = { primaryUrl: sdb.db.primaryUrl, replicaUrl: sdb.db.replicaUrl };
    const before = await snapshot();
    const sweepDir = path.join(dir, 'b');
    const p = plan();
    // A first run that "crashed": its plan stored, a level's settings applied, journal left behind.
    const crashing: TrialRunner = async () => {
      throw new Error('simulated crash');
    };
    await expect(runSweep(target, p, sweepDir, { runTrial: crashing })).rejects.toThrow(/simulated crash/);
    expect(await snapshot()).toEqual(before); // an error still restores (finally)
    await applySettings(target, p.levels[0]!.settings, path.join(sweepDir, JOURNAL_FILE)); // as if killed -9 mid-trial
    expect(await snapshot()).not.toEqual(before);
    const controller = new AbortController();
    const resumed: TrialRunner = async (_t, config) => {
      controller.abort();
      return fakeTrialResult(config, { p50: 5, partial: true });
    };
    const progress: string[] = [];
    await runSweep(target, p, sweepDir, { signal: controller.signal, runTrial: resumed, onProgress: (l) => progress.push(l) });
    expect(progress[0]).toMatch(/restoring the database settings a previous run/);
    expect(await snapshot()).toEqual(before);
  });
});
