/**
 * Database settings of a sweep level, applied, verified and restored.
 *
 * - Server settings (GUCs): ALTER SYSTEM SET on the node, pg_reload_conf(), a restart when
 *   pg_settings.pending_restart says so (embedded cluster only), then verified in pg_settings.
 * - Table and index storage parameters: ALTER TABLE / ALTER INDEX ... SET (k = v) on the primary, verified in
 *   pg_class.reloptions on the primary and, once replayed, on the replica.
 *
 * Crash safety: the ORIGINAL value of every key is written to a journal file BEFORE the first change to it;
 * restoreSettings() puts every journaled key back and only then removes the journal. A sweep calls it at the
 * end, on SIGINT/SIGTERM, and first thing on `--resume` (a crashed sweep left its journal behind).
 *
 * applySettings() makes the database "originals + this plan": keys of earlier plans that this plan does not
 * set go back to their originals, so levels never leak into each other.
 *
 * Identifiers (table, index, setting names) cannot be bound as parameters: they are checked against the
 * catalogue first (to_regclass / pg_settings, with bound parameters) and quoted; values are quoted literals.
 */
import fs from 'node:fs';
import { writeJsonAtomic } from '../core/atomic-file.ts';
import type pg from 'pg';
import { APPLICATION_NAMES } from '../core/application-names.ts';
import { connectClient } from '../core/pg-client.ts';
import { EsbenchError } from '../core/errors.ts';

export type SettingsNode = 'primary' | 'replica';

export interface DbSettingsPlan {
  /** GUCs: ALTER SYSTEM SET ...; reload; restart if pending_restart. */
  primary?: Readonly<Record<string, string>>;
  replica?: Readonly<Record<string, string>>;
  /** ALTER TABLE t SET (k = v) on the primary. */
  tables?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** ALTER INDEX i SET (k = v) on the primary. */
  indexes?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface SettingsTarget {
  primaryUrl: string;
  replicaUrl: string;
  /** Restarts a node (embedded cluster). Without it, a setting that needs a restart fails with RESTART_UNAVAILABLE. */
  restart?: (node: SettingsNode) => Promise<void>;
  /** Progress lines (stderr). */
  onProgress?: (line: string) => void;
}

/** What a GUC was before esbench touched it. */
interface GucOriginal {
  /** pg_settings.setting (base unit). */
  setting: string;
  /** True when the value came from postgresql.auto.conf (an earlier ALTER SYSTEM): restored with SET, else RESET. */
  autoConf: boolean;
}

export interface SettingsJournal {
  version: 1;
  createdAt: string;
  gucs: Record<SettingsNode, Record<string, GucOriginal>>;
  /** relation → option → original value (null: the option was not set). */
  tables: Record<string, Record<string, string | null>>;
  indexes: Record<string, Record<string, string | null>>;
  /** The plan applied last (for the record). */
  applied: DbSettingsPlan;
}

const SETTING_ROW = `SELECT name, setting, unit, vartype, context, pending_restart, source, sourcefile FROM pg_settings WHERE name = $1`;
const RELOPTIONS = `SELECT c.reloptions, c.relkind FROM pg_class c WHERE c.oid = to_regclass($1)`;
const RELOAD = `SELECT pg_reload_conf()`;
const CONF_LOAD_TIME = `SELECT pg_conf_load_time() AS t`;

interface SettingRow {
  name: string;
  setting: string;
  unit: string | null;
  vartype: 'bool' | 'enum' | 'integer' | 'real' | 'string';
  context: string;
  pending_restart: boolean;
  source: string;
  sourcefile: string | null;
}

const NAME = /^[a-z_][a-z0-9_.]*$/i;

function connect(url: string, what: string): Promise<pg.Client> {
  return connectClient(url, { applicationName: APPLICATION_NAMES.tuner, connectionTimeoutMillis: 10_000, what });
}

async function withClient<T>(url: string, what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connect(url, what);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- journal

export function emptyJournal(): SettingsJournal {
  return { version: 1, createdAt: new Date().toISOString(), gucs: { primary: {}, replica: {} }, tables: {}, indexes: {}, applied: {} };
}

export function readJournal(file: string): SettingsJournal | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SettingsJournal;
  } catch (e) {
    throw new EsbenchError('SWEEP_DIR_INVALID', `settings journal ${file} is unreadable: ${(e as Error).message}`);
  }
}

/** Whole or absent, and fsynced: a crash never leaves half a journal. */
function writeJournal(file: string, journal: SettingsJournal): void {
  writeJsonAtomic(file, journal, { fsync: true });
}

// ---------------------------------------------------------------- values

const MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

function unitFactor(unit: string): { kind: 'memory' | 'time'; factor: number } | undefined {
  const m = /^(\d*)\s*([a-zA-Z]+)$/.exec(unit);
  if (!m) return undefined;
  const n = m[1] ? Number(m[1]) : 1;
  const u = m[2]!;
  if (u in MEMORY) return { kind: 'memory', factor: n * MEMORY[u]! };
  if (u in TIME) return { kind: 'time', factor: n * TIME[u]! };
  return undefined;
}

const TRUE = new Set(['on', 'true', 'yes', '1', 't', 'y']);
const FALSE = new Set(['off', 'false', 'no', '0', 'f', 'n']);

/**
 * True when `wanted` (as a user writes it: '2min', '64MB', 'on') is the value pg_settings shows as
 * `row.setting` (base unit, e.g. '120' with unit 's').
 */
export function settingMatches(wanted: string, row: Pick<SettingRow, 'setting' | 'unit' | 'vartype'>): boolean {
  const w = wanted.trim();
  switch (row.vartype) {
    case 'bool':
      return (TRUE.has(w.toLowerCase()) && row.setting === 'on') || (FALSE.has(w.toLowerCase()) && row.setting === 'off');
    case 'integer':
    case 'real': {
      const m = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([a-zA-Z]*)$/i.exec(w);
      if (!m) return false;
      let value = Number(m[1]);
      if (m[2]) {
        const given = unitFactor(m[2]);
        const base = row.unit ? unitFactor(row.unit) : undefined;
        if (!given || !base || given.kind !== base.kind) return false;
        value = (value * given.factor) / base.factor;
      }
      const actual = Number(row.setting);
      if (row.vartype === 'integer') return Math.round(value) === actual || (value === -1 && actual === -1);
      return Math.abs(value - actual) <= 1e-9 * Math.max(1, Math.abs(actual));
    }
    default:
      return w.toLowerCase() === row.setting.toLowerCase();
  }
}

function parseReloptions(opts: string[] | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of opts ?? []) {
    const i = o.indexOf('=');
    if (i > 0) out[o.slice(0, i)] = o.slice(i + 1);
  }
  return out;
}

function quoteRelation(c: pg.Client, name: string): string {
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i.test(name)) throw new EsbenchError('BAD_PLAN', `not a table or index name: '${name}'`);
  return name.split('.').map((p) => c.escapeIdentifier(p)).join('.');
}

function checkOptionName(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new EsbenchError('BAD_PLAN', `not a storage parameter name: '${name}'`);
  return name;
}

// ---------------------------------------------------------------- GUCs

async function settingRow(c: pg.Client, name: string): Promise<SettingRow> {
  if (!NAME.test(name)) throw new EsbenchError('BAD_PLAN', `not a setting name: '${name}'`);
  const row = (await c.query<SettingRow>(SETTING_ROW, [name])).rows[0];
  if (!row) throw new EsbenchError('BAD_PLAN', `unknown PostgreSQL setting '${name}'`);
  return row;
}

function alterSystemSet(c: pg.Client, name: string, value: string): string {
  return `ALTER SYSTEM SET ${c.escapeIdentifier(name)} = ${c.escapeLiteral(value)}`;
}

function alterSystemReset(c: pg.Client, name: string): string {
  return `ALTER SYSTEM RESET ${c.escapeIdentifier(name)}`;
}

type Expectation = { name: string; matches: (row: SettingRow) => boolean; shown: string };

/**
 * Applies ALTER SYSTEM statements on one node, reloads, restarts when a changed setting is pending a restart,
 * and waits until pg_settings shows every expectation.
 */
async function changeNode(
  target: SettingsTarget,
  node: SettingsNode,
  statements: string[],
  expectations: Expectation[],
): Promise<void> {
  if (statements.length === 0) return;
  const url = node === 'primary' ? target.primaryUrl : target.replicaUrl;
  const loadedBefore = await withClient(url, node, async (c) => {
    const t = (await c.query<{ t: Date }>(CONF_LOAD_TIME)).rows[0]!.t;
    for (const s of statements) {
      try {
        await c.query(s);
      } catch (e) {
        throw new EsbenchError('BAD_PLAN', `${node}: ${s}: ${(e as Error).message}`, { cause: e });
      }
    }
    await c.query(RELOAD);
    return t.getTime();
  });
  // pg_reload_conf() only signals the postmaster: wait until a new session sees the new load time, or
  // pg_settings may still show the previous state (and its pending_restart).
  for (const deadline = Date.now() + 10_000; ; ) {
    const t = await withClient(url, node, async (c) => (await c.query<{ t: Date }>(CONF_LOAD_TIME)).rows[0]!.t.getTime());
    if (t > loadedBefore) break;
    if (Date.now() > deadline) throw new EsbenchError('SETTING_NOT_APPLIED', `${node}: the configuration was not reloaded within 10 s`);
    await sleep(50);
  }
  let restarted = false;
  for (const deadline = Date.now() + 10_000; ; ) {
    const rows = await withClient(url, node, async (c) => {
      const out: SettingRow[] = [];
      for (const e of expectations) out.push(await settingRow(c, e.name));
      return out;
    });
    // Only a setting that does not show its wanted value needs the restart: PostgreSQL keeps pending_restart
    // on a postmaster setting removed from the files even when the running value is already the wanted one.
    const pending = rows.filter((r, i) => r.pending_restart && !expectations[i]!.matches(r));
    if (pending.length > 0 && !restarted) {
      if (!target.restart) {
        throw new EsbenchError(
          'RESTART_UNAVAILABLE',
          `${node}: ${pending.map((r) => r.name).join(', ')} need(s) a restart and esbench cannot restart this cluster; restart it yourself or drop the setting`,
        );
      }
      target.onProgress?.(`settings: restarting the ${node} (${pending.map((r) => r.name).join(', ')} need a restart)`);
      await target.restart(node);
      restarted = true;
      continue;
    }
    const wrong = expectations.filter((e, i) => !e.matches(rows[i]!));
    if (wrong.length === 0) return;
    if (Date.now() > deadline) {
      throw new EsbenchError(
        'SETTING_NOT_APPLIED',
        `${node}: ${wrong.map((e) => `${e.name} should be ${e.shown}, pg_settings shows ${rows[expectations.indexOf(e)]!.setting}${rows[expectations.indexOf(e)]!.unit ?? ''}`).join('; ')}${pending.length ? ` (pending restart: ${pending.map((r) => r.name).join(', ')})` : ''}`,
      );
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------- relations

type RelKind = 'tables' | 'indexes';

async function reloptionsOf(c: pg.Client, relation: string, kind: RelKind): Promise<Record<string, string>> {
  const row = (await c.query<{ reloptions: string[] | null; relkind: string }>(RELOPTIONS, [relation])).rows[0];
  if (!row) throw new EsbenchError('BAD_PLAN', `no ${kind === 'tables' ? 'table' : 'index'} '${relation}' in this database`);
  const isIndex = row.relkind === 'i' || row.relkind === 'I';
  if (isIndex !== (kind === 'indexes')) throw new EsbenchError('BAD_PLAN', `'${relation}' is ${isIndex ? 'an index' : 'not an index'}; list it under ${isIndex ? 'indexes' : 'tables'}`);
  return parseReloptions(row.reloptions);
}

async function waitReloptions(url: string, node: SettingsNode, relation: string, kind: RelKind, wanted: Record<string, string | null>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const now = await withClient(url, node, (c) => reloptionsOf(c, relation, kind));
    const wrong = Object.entries(wanted).filter(([k, v]) => (v === null ? k in now : now[k]?.toLowerCase() !== v.toLowerCase()));
    if (wrong.length === 0) return;
    if (Date.now() > deadline) {
      throw new EsbenchError(
        'SETTING_NOT_APPLIED',
        `${node}: ${relation} reloptions show ${JSON.stringify(now)}, expected ${wrong.map(([k, v]) => `${k}=${v ?? '(unset)'}`).join(', ')}${node === 'replica' ? ' (not replayed in time)' : ''}`,
      );
    }
    await sleep(100);
  }
}

async function changeRelations(target: SettingsTarget, kind: RelKind, wanted: Record<string, Record<string, string | null>>): Promise<void> {
  const entries = Object.entries(wanted).filter(([, opts]) => Object.keys(opts).length > 0);
  if (entries.length === 0) return;
  await withClient(target.primaryUrl, 'primary', async (c) => {
    for (const [relation, opts] of entries) {
      const rel = quoteRelation(c, relation);
      const keyword = kind === 'tables' ? 'TABLE' : 'INDEX';
      const set = Object.entries(opts).filter(([, v]) => v !== null);
      const reset = Object.entries(opts).filter(([, v]) => v === null);
      try {
        if (set.length > 0) await c.query(`ALTER ${keyword} ${rel} SET (${set.map(([k, v]) => `${checkOptionName(k)} = ${c.escapeLiteral(v!)}`).join(', ')})`);
        if (reset.length > 0) await c.query(`ALTER ${keyword} ${rel} RESET (${reset.map(([k]) => checkOptionName(k)).join(', ')})`);
      } catch (e) {
        if (e instanceof EsbenchError) throw e;
        throw new EsbenchError('BAD_PLAN', `ALTER ${keyword} ${relation}: ${(e as Error).message}`, { cause: e });
      }
    }
  });
  for (const [relation, opts] of entries) {
    await waitReloptions(target.primaryUrl, 'primary', relation, kind, opts, 5_000);
    if (target.replicaUrl !== target.primaryUrl) await waitReloptions(target.replicaUrl, 'replica', relation, kind, opts, 30_000);
  }
}

// ---------------------------------------------------------------- apply / restore

/** Validates a plan's shape (from a profile file or a plan file). */
export function parseSettingsPlan(value: unknown, where: string): DbSettingsPlan {
  const bad = (m: string) => new EsbenchError('BAD_PLAN', `${where}: ${m}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('expected an object {primary, replica, tables, indexes}');
  const out: Record<string, unknown> = {};
  const strings = (o: unknown, at: string): Record<string, string> => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw bad(`${at} must be an object of settings`);
    const r: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad(`${at}.${k} must be a string`);
      r[k] = typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
    }
    return r;
  };
  for (const [k, v] of Object.entries(value)) {
    if (k === 'description' || k === 'source') continue;
    if (k === 'primary' || k === 'replica') out[k] = strings(v, k);
    else if (k === 'tables' || k === 'indexes') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad(`${k} must be an object`);
      out[k] = Object.fromEntries(Object.entries(v).map(([rel, opts]) => [rel, strings(opts, `${k}.${rel}`)]));
    } else throw bad(`unknown key '${k}' (expected primary, replica, tables, indexes)`);
  }
  return out as DbSettingsPlan;
}

/**
 * Makes the database "originals + plan": journals the original of every key the plan touches (file written
 * before any change), applies the plan, puts back keys of earlier plans that this one does not set, and
 * verifies everything (pg_settings, reloptions on both nodes).
 */
export async function applySettings(target: SettingsTarget, givenPlan: DbSettingsPlan, journalFile: string): Promise<void> {
  let plan = givenPlan;
  if (target.replicaUrl === target.primaryUrl && Object.keys(plan.replica ?? {}).length > 0) {
    // No replica (external mode without --replica-url): its settings would land on the primary.
    target.onProgress?.(`settings: no separate replica; its settings (${Object.keys(plan.replica ?? {}).join(', ')}) are not applied`);
    plan = { ...plan, replica: {} };
  }
  const journal = readJournal(journalFile) ?? emptyJournal();
  // 1. Originals first.
  let grew = false;
  for (const node of ['primary', 'replica'] as const) {
    const wanted = plan[node] ?? {};
    const fresh = Object.keys(wanted).filter((k) => !(k in journal.gucs[node]));
    if (fresh.length === 0) continue;
    await withClient(node === 'primary' ? target.primaryUrl : target.replicaUrl, node, async (c) => {
      for (const name of fresh) {
        const row = await settingRow(c, name);
        journal.gucs[node][name] = { setting: row.setting, autoConf: row.source === 'configuration file' && (row.sourcefile ?? '').endsWith('postgresql.auto.conf') };
        grew = true;
      }
    });
  }
  for (const kind of ['tables', 'indexes'] as const) {
    const wanted = plan[kind] ?? {};
    for (const [relation, opts] of Object.entries(wanted)) {
      const known = (journal[kind][relation] ??= {});
      const fresh = Object.keys(opts).filter((k) => !(k in known));
      if (fresh.length === 0) continue;
      const now = await withClient(target.primaryUrl, 'primary', (c) => reloptionsOf(c, relation, kind));
      for (const k of fresh) known[checkOptionName(k)] = now[k] ?? null;
      grew = true;
    }
  }
  journal.applied = plan;
  if (grew || !fs.existsSync(journalFile)) writeJournal(journalFile, journal);

  // 2. Apply: plan values, and originals for journaled keys the plan leaves out.
  for (const node of ['primary', 'replica'] as const) {
    if (node === 'replica' && target.replicaUrl === target.primaryUrl) continue;
    const wanted = plan[node] ?? {};
    const statements: string[] = [];
    const expectations: Expectation[] = [];
    await withClient(node === 'primary' ? target.primaryUrl : target.replicaUrl, node, async (c) => {
      for (const [name, original] of Object.entries(journal.gucs[node])) {
        const value = wanted[name];
        const row = await settingRow(c, name);
        if (value !== undefined) {
          if (settingMatches(value, row) && row.source === 'configuration file' && (row.sourcefile ?? '').endsWith('postgresql.auto.conf')) continue;
          statements.push(alterSystemSet(c, name, value));
          expectations.push({ name, matches: (r) => settingMatches(value, r), shown: value });
        } else {
          const inAutoConf = row.source === 'configuration file' && (row.sourcefile ?? '').endsWith('postgresql.auto.conf');
          if (row.setting === original.setting && !row.pending_restart && inAutoConf === original.autoConf) continue;
          statements.push(original.autoConf ? alterSystemSet(c, name, original.setting) : alterSystemReset(c, name));
          expectations.push({ name, matches: (r) => r.setting === original.setting, shown: original.setting });
        }
      }
    });
    await changeNode(target, node, statements, expectations);
  }
  for (const kind of ['tables', 'indexes'] as const) {
    const wanted: Record<string, Record<string, string | null>> = {};
    for (const [relation, originals] of Object.entries(journal[kind])) {
      const opts = plan[kind]?.[relation] ?? {};
      wanted[relation] = Object.fromEntries(Object.entries(originals).map(([k, orig]) => [k, opts[k] ?? orig]));
    }
    await changeRelations(target, kind, wanted);
  }
}

/**
 * Puts every journaled setting back to its original and verifies it, then removes the journal. Idempotent:
 * without a journal it does nothing. If it fails, the journal stays for the next attempt (`--resume`).
 */
export async function restoreSettings(target: SettingsTarget, journalFile: string): Promise<boolean> {
  const journal = readJournal(journalFile);
  if (!journal) return false;
  await applySettings(target, {}, journalFile);
  fs.rmSync(journalFile, { force: true });
  return true;
}

/** True when applying `plan` changes nothing on the database (an empty plan). */
export function isEmptyPlan(plan: DbSettingsPlan): boolean {
  return (
    Object.keys(plan.primary ?? {}).length === 0 &&
    Object.keys(plan.replica ?? {}).length === 0 &&
    Object.values(plan.tables ?? {}).every((o) => Object.keys(o).length === 0) &&
    Object.values(plan.indexes ?? {}).every((o) => Object.keys(o).length === 0)
  );
}

/** Merges plans (later wins, per key). */
export function mergePlans(...plans: DbSettingsPlan[]): DbSettingsPlan {
  const out: { primary: Record<string, string>; replica: Record<string, string>; tables: Record<string, Record<string, string>>; indexes: Record<string, Record<string, string>> } = {
    primary: {},
    replica: {},
    tables: {},
    indexes: {},
  };
  for (const p of plans) {
    Object.assign(out.primary, p.primary ?? {});
    Object.assign(out.replica, p.replica ?? {});
    for (const kind of ['tables', 'indexes'] as const) {
      for (const [rel, opts] of Object.entries(p[kind] ?? {})) out[kind][rel] = { ...(out[kind][rel] ?? {}), ...opts };
    }
  }
  return out;
}
