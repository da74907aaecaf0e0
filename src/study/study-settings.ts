/**
 * Applies a level's database settings and puts the originals back — the study's own, small
 * version of what src/tuner/settings.ts provides (same plan shape, same journal idea), used while
 * that module is not available on this branch.
 *
 * The journal is written BEFORE anything is changed and holds, per node, each GUC's value set by
 * ALTER SYSTEM before the study (or null: none, so RESET restores the config files' value) and each
 * table's / index's reloptions. Restoring is idempotent: a crashed or interrupted study restores from
 * the same journal on --resume, and a journal that was restored is deleted.
 */
import fs from 'node:fs';
import pg from 'pg';
import { EsbenchError } from '../core/errors.ts';
import type { StudySettingsPlan } from './study-plan.ts';

export type SettingsNode = 'primary' | 'replica';

export interface StudySettingsTarget {
  primaryUrl: string;
  replicaUrl: string;
  /** Restarts both nodes (shared_buffers); absent on an external cluster. */
  restart?: () => Promise<void>;
}

interface Journal {
  gucs: Record<SettingsNode, Record<string, string | null>>;
  relations: Record<string, string[] | null>;
}

const NAME = /^[a-z_][a-z0-9_.]*$/;
/** Values are numbers with an optional unit, on/off, or simple words: nothing that needs quoting beyond ''. */
const VALUE = /^-?[0-9A-Za-z_.]+$/;

const AUTO_CONF_SQL = `SELECT name, current_setting(name) AS value, sourcefile FROM pg_settings WHERE name = ANY($1::text[])`;
const RELOPTIONS_SQL = `SELECT relname, reloptions FROM pg_class WHERE relname = ANY($1::text[]) AND relnamespace = 'public'::regnamespace`;
const PENDING_RESTART_SQL = 'SELECT name FROM pg_settings WHERE pending_restart';
const RELOAD_SQL = 'SELECT pg_reload_conf()';
const REPLAY_WAIT_SQL = `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done`;
const CURRENT_LSN_SQL = 'SELECT pg_current_wal_lsn()::text AS lsn';

function check(name: string, value?: string): void {
  if (!NAME.test(name)) throw new EsbenchError('BAD_CONFIG', `setting name '${name}' is not a plain identifier`);
  if (value !== undefined && !VALUE.test(value)) throw new EsbenchError('BAD_CONFIG', `value '${value}' of ${name} is not a plain number, unit or word`);
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, application_name: 'esbench_study_settings', connectionTimeoutMillis: 10_000 });
  c.on('error', () => {});
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

function urlOf(target: StudySettingsTarget, node: SettingsNode): string {
  return node === 'primary' ? target.primaryUrl : target.replicaUrl;
}

function readJournal(file: string): Journal | null {
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Journal;
}

function writeJournal(file: string, journal: Journal): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(journal, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** ALTER SYSTEM values in force now (from postgresql.auto.conf), null where the files decide. */
async function autoConfValues(c: pg.Client, names: string[]): Promise<Record<string, string | null>> {
  const rows = (await c.query<{ name: string; value: string; sourcefile: string | null }>(AUTO_CONF_SQL, [names])).rows;
  const out: Record<string, string | null> = {};
  for (const n of names) {
    const r = rows.find((x) => x.name === n);
    out[n] = r && r.sourcefile?.endsWith('postgresql.auto.conf') ? r.value : null;
  }
  return out;
}

async function reloptions(c: pg.Client, names: string[]): Promise<Record<string, string[] | null>> {
  const rows = (await c.query<{ relname: string; reloptions: string[] | null }>(RELOPTIONS_SQL, [names])).rows;
  return Object.fromEntries(names.map((n) => [n, rows.find((r) => r.relname === n)?.reloptions ?? null]));
}

/** Journals what a plan will change (only keys not journaled yet: the first original wins). */
async function journalOriginals(target: StudySettingsTarget, plan: StudySettingsPlan, file: string): Promise<void> {
  const journal: Journal = readJournal(file) ?? { gucs: { primary: {}, replica: {} }, relations: {} };
  for (const node of ['primary', 'replica'] as const) {
    const names = Object.keys(plan[node] ?? {}).filter((n) => !(n in journal.gucs[node]));
    if (names.length === 0) continue;
    Object.assign(journal.gucs[node], await withClient(urlOf(target, node), (c) => autoConfValues(c, names)));
  }
  const rels = [...Object.keys(plan.tables ?? {}), ...Object.keys(plan.indexes ?? {})].filter((r) => !(r in journal.relations));
  if (rels.length > 0) Object.assign(journal.relations, await withClient(target.primaryUrl, (c) => reloptions(c, rels)));
  writeJournal(file, journal);
}

async function waitForReplay(target: StudySettingsTarget): Promise<void> {
  if (target.replicaUrl === target.primaryUrl) return;
  const lsn = await withClient(target.primaryUrl, async (c) => (await c.query<{ lsn: string }>(CURRENT_LSN_SQL)).rows[0]!.lsn);
  await withClient(target.replicaUrl, async (c) => {
    for (let i = 0; i < 300; i++) {
      if ((await c.query<{ done: boolean }>(REPLAY_WAIT_SQL, [lsn])).rows[0]?.done) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new EsbenchError('INTERNAL', 'the replica did not replay the settings change within 30 s');
  });
}

async function reloadAndRestartIfNeeded(target: StudySettingsTarget): Promise<void> {
  const pending: string[] = [];
  for (const node of ['primary', 'replica'] as const) {
    if (node === 'replica' && target.replicaUrl === target.primaryUrl) continue;
    await withClient(urlOf(target, node), async (c) => {
      await c.query(RELOAD_SQL);
      // pg_reload_conf() signals the postmaster; give it a moment before reading pending_restart.
      await new Promise((r) => setTimeout(r, 300));
      pending.push(...(await c.query<{ name: string }>(PENDING_RESTART_SQL)).rows.map((r) => `${node}.${r.name}`));
    });
  }
  if (pending.length === 0) return;
  if (!target.restart) {
    throw new EsbenchError('RESTART_UNAVAILABLE', `${pending.join(', ')} only take effect after a restart, which esbench cannot do on an external cluster`);
  }
  await target.restart();
}

/** Journals the originals, then applies the plan and reloads (restarting when a setting needs it). */
export async function applyStudySettings(target: StudySettingsTarget, plan: StudySettingsPlan, journalFile: string): Promise<void> {
  await journalOriginals(target, plan, journalFile);
  for (const node of ['primary', 'replica'] as const) {
    const gucs = Object.entries(plan[node] ?? {});
    if (gucs.length === 0 || (node === 'replica' && target.replicaUrl === target.primaryUrl)) continue;
    await withClient(urlOf(target, node), async (c) => {
      for (const [name, value] of gucs) {
        check(name, value);
        // ALTER SYSTEM takes no parameters: name and value are checked above against plain patterns.
        await c.query(`ALTER SYSTEM SET ${name} = '${value}'`);
      }
    });
  }
  await withClient(target.primaryUrl, async (c) => {
    for (const [kind, rels] of [['TABLE', plan.tables], ['INDEX', plan.indexes]] as const) {
      for (const [rel, params] of Object.entries(rels ?? {})) {
        check(rel);
        const entries = Object.entries(params);
        entries.forEach(([k, v]) => check(k, v));
        if (entries.length > 0) await c.query(`ALTER ${kind} ${rel} SET (${entries.map(([k, v]) => `${k} = ${v}`).join(', ')})`);
      }
    }
  });
  await reloadAndRestartIfNeeded(target);
  await waitForReplay(target);
}

/** Puts every journaled setting back (idempotent), then deletes the journal. No journal: nothing to do. */
export async function restoreStudySettings(target: StudySettingsTarget, journalFile: string): Promise<boolean> {
  const journal = readJournal(journalFile);
  if (!journal) return false;
  for (const node of ['primary', 'replica'] as const) {
    const gucs = Object.entries(journal.gucs[node]);
    if (gucs.length === 0 || (node === 'replica' && target.replicaUrl === target.primaryUrl)) continue;
    await withClient(urlOf(target, node), async (c) => {
      for (const [name, value] of gucs) {
        check(name, value ?? undefined);
        await c.query(value === null ? `ALTER SYSTEM RESET ${name}` : `ALTER SYSTEM SET ${name} = '${value}'`);
      }
    });
  }
  await withClient(target.primaryUrl, async (c) => {
    const kinds = (await c.query<{ relname: string; relkind: string }>(`SELECT relname, relkind FROM pg_class WHERE relname = ANY($1::text[]) AND relnamespace = 'public'::regnamespace`, [Object.keys(journal.relations)])).rows;
    const current = await reloptions(c, Object.keys(journal.relations));
    for (const [rel, original] of Object.entries(journal.relations)) {
      const kind = kinds.find((k) => k.relname === rel)?.relkind === 'i' ? 'INDEX' : 'TABLE';
      check(rel);
      const now = (current[rel] ?? []).map((o) => o.split('=')[0]!);
      if (now.length > 0) {
        now.forEach((k) => check(k));
        await c.query(`ALTER ${kind} ${rel} RESET (${now.join(', ')})`);
      }
      const back = (original ?? []).map((o) => o.split('=') as [string, string]);
      back.forEach(([k, v]) => check(k, v));
      if (back.length > 0) await c.query(`ALTER ${kind} ${rel} SET (${back.map(([k, v]) => `${k} = ${v}`).join(', ')})`);
    }
  });
  await reloadAndRestartIfNeeded(target);
  await waitForReplay(target);
  fs.rmSync(journalFile, { force: true });
  return true;
}
