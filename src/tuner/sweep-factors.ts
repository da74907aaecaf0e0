/**
 * Sweep factors: a name and its values (`pool-min=0,2,5`) turned into sweep levels, each a config patch
 * handed whole to the trial's service and a database settings plan. One factor, or the grid of several.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { ConfigInput } from '../core/config.ts';
import { EsbenchError } from '../core/errors.ts';
import { mergeDeep } from '../core/config.ts';
import { mergePlans, parseSettingsPlan, type DbSettingsPlan } from './settings.ts';

export interface SweepLevel {
  key: string;
  factor: string;
  value: string;
  /** Pools + service patch handed to the trial's service whole (serve --config). */
  config: ConfigInput;
  settings: DbSettingsPlan;
}

export interface FactorSpec {
  name: string;
  values: string[];
}

export const FACTORS = [
  'pool-min',
  'replica-pool-min',
  'pool-max',
  'gin-fastupdate',
  'gin-pending-list-limit',
  'autovacuum',
  'append-strategy',
  'decisions',
  'snapshot-threshold',
] as const;

export type FactorName = (typeof FACTORS)[number];

/** Factors whose values are ordered sizes ("the smallest pool minimum"). */
export const ORDINAL: ReadonlySet<string> = new Set(['pool-min', 'replica-pool-min', 'pool-max', 'gin-pending-list-limit', 'snapshot-threshold']);

const GIN_INDEXES = ['idx_events_payload_gin', 'idx_events_metadata_gin'];

function int(value: string, factor: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new EsbenchError('BAD_PLAN', `${factor}=${value}: expected an integer in ${min}..${max}`);
  return n;
}

function oneOf(value: string, factor: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new EsbenchError('BAD_PLAN', `${factor}=${value}: expected one of ${allowed.join(', ')}`);
  return value;
}

/** The autovacuum profile `name` (tuning/autovacuum/<name>.json) or a path to a JSON/YAML plan file. */
export function loadProfile(name: string, tuningDir: string): DbSettingsPlan {
  const candidates = [name, path.join(tuningDir, 'autovacuum', `${name}.json`), path.join(tuningDir, 'autovacuum', name)];
  const file = candidates.find((f) => /\.(json|ya?ml)$/.test(f) && fs.existsSync(f));
  if (!file) {
    const dir = path.join(tuningDir, 'autovacuum');
    const known = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')) : [];
    throw new EsbenchError('BAD_PLAN', `autovacuum profile '${name}' not found (known: ${known.join(', ') || 'none'} in ${dir})`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EsbenchError('BAD_PLAN', `${file}: ${(e as Error).message}`);
  }
  return parseSettingsPlan(parsed, file);
}

/** One factor value → its config patch and settings. */
export function factorLevel(factor: string, value: string, tuningDir: string): { config: ConfigInput; settings: DbSettingsPlan } {
  switch (factor as FactorName) {
    case 'pool-min': {
      const n = int(value, factor, 0, 10_000);
      return { config: { pools: { primary: { min: n }, replica: { min: n } } }, settings: {} };
    }
    case 'replica-pool-min':
      return { config: { pools: { replica: { min: int(value, factor, 0, 10_000) } } }, settings: {} };
    case 'pool-max': {
      const n = int(value, factor, 1, 10_000);
      return { config: { pools: { primary: { max: n }, replica: { max: n } } }, settings: {} };
    }
    case 'gin-fastupdate': {
      const v = oneOf(value, factor, ['on', 'off']);
      return { config: {}, settings: { indexes: Object.fromEntries(GIN_INDEXES.map((i) => [i, { fastupdate: v }])) } };
    }
    case 'gin-pending-list-limit': {
      // Storage parameter in kB (64 .. 2147483647).
      const n = int(value, factor, 64, 2_147_483_647);
      return { config: {}, settings: { indexes: Object.fromEntries(GIN_INDEXES.map((i) => [i, { gin_pending_list_limit: String(n) }])) } };
    }
    case 'autovacuum':
      return { config: {}, settings: loadProfile(value, tuningDir) };
    case 'append-strategy':
      return { config: { service: { appendStrategy: oneOf(value, factor, ['safe', 'baseline']) as 'safe' } }, settings: {} };
    case 'decisions':
      return { config: { service: { decisions: oneOf(value, factor, ['snapshot', 'full']) as 'full' } }, settings: {} };
    case 'snapshot-threshold':
      return { config: { service: { snapshotThreshold: int(value, factor, 0, 1_000_000) } }, settings: {} };
    default:
      throw new EsbenchError('BAD_PLAN', `unknown factor '${factor}' (known: ${FACTORS.join(', ')})`);
  }
}

/** `pool-min=0,2,5` → {name, values}. */
export function parseFactor(text: string): FactorSpec {
  const m = /^([a-z-]+)=(.+)$/.exec(text.trim());
  if (!m) throw new EsbenchError('BAD_PLAN', `--factor '${text}' is not like pool-min=2,20`);
  const name = m[1]!;
  if (!(FACTORS as readonly string[]).includes(name)) throw new EsbenchError('BAD_PLAN', `unknown factor '${name}' (known: ${FACTORS.join(', ')})`);
  const values = m[2]!.split(',').map((v) => v.trim()).filter(Boolean);
  if (values.length < 1) throw new EsbenchError('BAD_PLAN', `--factor ${name}: no values`);
  if (new Set(values).size !== values.length) throw new EsbenchError('BAD_PLAN', `--factor ${name}: a value is repeated`);
  return { name, values };
}

/** Every combination of the factors' values (one factor: its values). The first combination is the default baseline. */
export function gridLevels(factors: readonly FactorSpec[], tuningDir: string): SweepLevel[] {
  if (factors.length === 0) throw new EsbenchError('BAD_PLAN', 'a sweep needs at least one --factor (or a plan file)');
  const names = factors.map((f) => f.name);
  if (new Set(names).size !== names.length) throw new EsbenchError('BAD_PLAN', 'a factor is given twice');
  let combos: Array<Array<[string, string]>> = [[]];
  for (const f of factors) combos = combos.flatMap((c) => f.values.map((v) => [...c, [f.name, v] as [string, string]]));
  return combos.map((combo) => {
    const parts = combo.map(([f, v]) => factorLevel(f, v, tuningDir));
    return {
      key: combo.map(([f, v]) => `${f}=${v}`).join(','),
      factor: combo.map(([f]) => f).join(' × '),
      value: combo.map(([, v]) => v).join(' × '),
      config: parts.reduce<ConfigInput>((acc, p) => mergeDeep<ConfigInput>(acc, p.config), {}),
      settings: mergePlans(...parts.map((p) => p.settings)),
    };
  });
}

/** A plan file (YAML or JSON): factors plus optional trial settings. */
export interface PlanFile {
  factors: FactorSpec[];
  baseline?: string;
  repeats?: number;
  rate?: number;
  duration?: string;
  warmup?: string;
  seed?: number;
  threshold?: string;
  workload?: string;
}

export function readPlanFile(file: string): PlanFile {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new EsbenchError('BAD_PLAN', `plan ${file}: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new EsbenchError('BAD_PLAN', `plan ${file}: expected an object with 'factors'`);
  const r = raw as Record<string, unknown>;
  const known = new Set(['factors', 'baseline', 'repeats', 'rate', 'duration', 'warmup', 'seed', 'threshold', 'workload']);
  const unknown = Object.keys(r).filter((k) => !known.has(k));
  if (unknown.length) throw new EsbenchError('BAD_PLAN', `plan ${file}: unknown key(s) ${unknown.join(', ')}`);
  const f = r.factors;
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new EsbenchError('BAD_PLAN', `plan ${file}: 'factors' must map a factor to its values, e.g. {pool-min: [2, 20]}`);
  const factors = Object.entries(f as Record<string, unknown>).map(([name, values]) => {
    const list = Array.isArray(values) ? values.map(String) : String(values).split(',');
    return parseFactor(`${name}=${list.join(',')}`);
  });
  const opt = <T>(k: string, type: 'number' | 'string'): T | undefined => {
    if (r[k] === undefined) return undefined;
    if (typeof r[k] !== type) throw new EsbenchError('BAD_PLAN', `plan ${file}: '${k}' must be a ${type}`);
    return r[k] as T;
  };
  return {
    factors,
    baseline: opt<string>('baseline', 'string'),
    repeats: opt<number>('repeats', 'number'),
    rate: opt<number>('rate', 'number'),
    duration: opt<string>('duration', 'string'),
    warmup: opt<string>('warmup', 'string'),
    seed: opt<number>('seed', 'number'),
    threshold: opt<string>('threshold', 'string'),
    workload: opt<string>('workload', 'string'),
  };
}
