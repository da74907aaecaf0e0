/**
 * What `esbench study` runs: the study's three configurations, the factors that differ between
 * them, the ablation levels (each factor changed alone), and the size of the run (--quick / --full).
 *
 * Sources (../shared/seeds/003 and 002, ../shared/STUDY.md):
 * - `original` is the study's starting point: pgxpool MaxConns 60 / MinConns 20 per node, GIN
 *   `fastupdate = off`, PostgreSQL's default autovacuum, memory primary 7 GB / replica 3 GB, the
 *   unlocked MAX-CTE append, decisions re-folded from the whole boundary.
 * - `tuned` is where seed 003 ended: MinConns 2, GIN `fastupdate = on` (its "CRITICAL FIX" *removed*
 *   `fastupdate=off` from the GIN indexes, back to PostgreSQL's default `on`), seed 003's primary and
 *   replica autovacuum plus the per-table settings on events, memory swapped to 4 GB / 6 GB. The
 *   append and the decisions are the study's (it never changed them).
 * - `esbench` is `tuned` with esbench's own append (advisory locks) and snapshot decisions, and its
 *   command path (issue 15): one transaction holding the boundary's locks, btree boundary indexes
 *   on (key, sequence_number), named prepared statements. The study's configurations pin the study's
 *   command path (checked append, GIN-only reads, unnamed statements) explicitly, since esbench's
 *   defaults are no longer the study's.
 *
 * Memory is scaled to this machine: the study's nodes had 10 GB together, so 7 GB becomes 70 % of
 * this machine's RAM, and seed 002's rules (src/tuner/memory-sizing.ts) size that node's
 * shared_buffers / effective_cache_size / work_mem / maintenance_work_mem.
 *
 * Every level spells out every factor's settings (not only the one it changes), so the order in
 * which levels run never leaks one level's settings into the next.
 */
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../core/config.ts';
import { formatPgSize } from '../core/units.ts';
import { sizeMemory } from '../tuner/memory-sizing.ts';
import { loadProfile } from '../tuner/sweep-factors.ts';
import type { DbSettingsPlan } from '../tuner/settings.ts';

/** A level's database settings: the tuner applies, verifies and restores them (src/tuner/settings.ts). */
export type StudySettingsPlan = DbSettingsPlan;

export type ConfigurationName = 'original' | 'tuned' | 'esbench';
export const CONFIGURATION_NAMES: readonly ConfigurationName[] = ['original', 'tuned', 'esbench'];

export type StudyFactor = 'pool-min' | 'gin-fastupdate' | 'autovacuum' | 'memory' | 'append-strategy' | 'decisions' | 'command-path';
/** The factors seed 003 changed (original → tuned). */
export const STUDY_FACTORS: readonly StudyFactor[] = ['pool-min', 'gin-fastupdate', 'autovacuum', 'memory'];
/** What esbench changes on top of tuned. */
export const ESBENCH_FACTORS: readonly StudyFactor[] = ['append-strategy', 'decisions', 'command-path'];

/** The value of every factor, as text (what reports show). */
export type FactorValues = Readonly<Record<StudyFactor, string>>;

export const ORIGINAL_VALUES: FactorValues = Object.freeze({
  'pool-min': '20',
  'gin-fastupdate': 'off',
  autovacuum: 'postgres-default',
  memory: 'primary-7GB/replica-3GB',
  'append-strategy': 'baseline',
  decisions: 'full',
  'command-path': 'study',
});
export const TUNED_VALUES: FactorValues = Object.freeze({
  ...ORIGINAL_VALUES,
  'pool-min': '2',
  'gin-fastupdate': 'on',
  autovacuum: 'seed-003',
  memory: 'primary-4GB/replica-6GB',
});
export const ESBENCH_VALUES: FactorValues = Object.freeze({ ...TUNED_VALUES, 'append-strategy': 'safe', decisions: 'snapshot', 'command-path': 'esbench' });

/** pgxpool MaxConns of both pools, in every configuration (the study never changed it). */
export const STUDY_POOL_MAX = 60;
export const GIN_INDEXES = ['idx_events_payload_gin', 'idx_events_metadata_gin'] as const;

/**
 * The autovacuum profiles are read from esbench's own tuning/autovacuum/*.json (not the
 * configurable tuning directory: the study reproduces seed 003, whatever a user's profiles say), so
 * seed 003's values have one definition: tuning/autovacuum/seed-003.json (checked against the seed
 * by test/unit/study-plan.test.ts). Read when a plan is built, not at import.
 */
const PACKAGE_TUNING_DIR = fileURLToPath(new URL('../../tuning/', import.meta.url));

interface AutovacuumProfiles {
  /** PostgreSQL 17's autovacuum defaults (postgres-defaults.json), every key seed 003 changes. */
  defaults: Readonly<Record<string, string>>;
  /** Seed 003, primary: PostgreSQL's defaults with seed 003's changes over them (vacuum rarely, analyze often). */
  seed003Primary: Readonly<Record<string, string>>;
  /** Seed 003, replica. Autovacuum does not run on a standby; set anyway so a promoted replica behaves as the study meant. */
  seed003Replica: Readonly<Record<string, string>>;
  /** PostgreSQL's defaults for the keys seed 003 sets on the replica. */
  defaultReplica: Readonly<Record<string, string>>;
  /** The per-table settings the study later put on events. */
  seed003Events: Readonly<Record<string, string>>;
}

let profiles: AutovacuumProfiles | undefined;

function autovacuumProfiles(): AutovacuumProfiles {
  if (profiles) return profiles;
  const defaults = loadProfile('postgres-defaults', PACKAGE_TUNING_DIR).primary ?? {};
  const seed003 = loadProfile('seed-003', PACKAGE_TUNING_DIR);
  const seed003Replica = seed003.replica ?? {};
  profiles = Object.freeze({
    defaults: Object.freeze({ ...defaults }),
    seed003Primary: Object.freeze({ ...defaults, ...seed003.primary }),
    seed003Replica: Object.freeze({ ...seed003Replica }),
    defaultReplica: Object.freeze(Object.fromEntries(Object.keys(seed003Replica).map((k) => [k, defaults[k] ?? '']))),
    seed003Events: Object.freeze({ ...seed003.tables?.events }),
  });
  return profiles;
}

/**
 * The same keys on events with the values PostgreSQL uses when they are not set: the server-wide
 * defaults above (cost limit -1 means vacuum_cost_limit, 200; a table's own cost limit cannot be -1)
 * and fillfactor 100. A plan can only SET storage parameters, so "not set" is written as "set to
 * what not setting it gives".
 */
export const DEFAULT_EVENTS_TABLE: Readonly<Record<string, string>> = Object.freeze({
  autovacuum_analyze_threshold: '50',
  autovacuum_analyze_scale_factor: '0.1',
  autovacuum_vacuum_threshold: '50',
  autovacuum_vacuum_scale_factor: '0.2',
  autovacuum_vacuum_cost_delay: '2',
  autovacuum_vacuum_cost_limit: '200',
  fillfactor: '100',
});

/** The study's memory per node, GB, before and after seed 003 swapped it. */
export const STUDY_MEMORY_GB = Object.freeze({
  before: Object.freeze({ primary: 7, replica: 3 }),
  after: Object.freeze({ primary: 4, replica: 6 }),
});
const STUDY_TOTAL_GB = 10;

export interface NodeMemory {
  /** This machine's share for the node (bytes): study GB / 10 GB × machine RAM. */
  ramBytes: number;
  settings: Readonly<Record<string, string>>;
}

/** Seed 002's rules on the node's share of this machine's RAM. */
export function nodeMemory(machineRamBytes: number, studyGb: number): NodeMemory {
  const ramBytes = Math.floor((machineRamBytes * studyGb) / STUDY_TOTAL_GB);
  const m = sizeMemory(ramBytes);
  return {
    ramBytes,
    settings: {
      shared_buffers: formatPgSize(m.sharedBuffersBytes),
      effective_cache_size: formatPgSize(m.effectiveCacheSizeBytes),
      work_mem: formatPgSize(m.workMemBytes),
      maintenance_work_mem: formatPgSize(m.maintenanceWorkMemBytes),
    },
  };
}

export interface StudyLevel {
  /** Unique, file-name safe: `original`, `original+pool-min`, `tuned`, `esbench`, ... */
  key: string;
  /** The factor this level changes from its baseline ('configuration' for original/tuned/esbench). */
  factor: StudyFactor | 'configuration';
  /** The changed factor's value (or the configuration's name). */
  value: string;
  /** The level this one is compared with. */
  baseline: string | null;
  values: FactorValues;
  /** Pools + service patch, handed to the trial's service whole. */
  config: ConfigInput;
  settings: StudySettingsPlan;
  /** True when a setting needs a server restart (shared_buffers). */
  needsRestart: boolean;
  description: string;
}

/** The service and pool part of a level. */
function configOf(values: FactorValues): ConfigInput {
  const min = Number(values['pool-min']);
  return {
    pools: { primary: { max: STUDY_POOL_MAX, min }, replica: { max: STUDY_POOL_MAX, min } },
    service: {
      appendStrategy: values['append-strategy'] === 'safe' ? 'safe' : 'baseline',
      decisions: values.decisions === 'snapshot' ? 'snapshot' : 'full',
      // 'study': a checked append, reads through the GIN indexes only, every statement unnamed (the
      // study's path); 'esbench': the levers issue 15 measured (README "Cost per command").
      ...(values['command-path'] === 'esbench'
        ? { locking: 'held', boundaryIndex: 'btree', preparedStatements: true }
        : { locking: 'check', boundaryIndex: 'gin', preparedStatements: false }),
    },
  };
}

/** The database part of a level: every factor that lives in PostgreSQL, spelled out. */
function settingsOf(values: FactorValues, machineRamBytes: number): StudySettingsPlan {
  const seed003 = values.autovacuum === 'seed-003';
  const split = values.memory === TUNED_VALUES.memory ? STUDY_MEMORY_GB.after : STUDY_MEMORY_GB.before;
  const fastupdate = values['gin-fastupdate'] === 'on' ? 'on' : 'off';
  const p = autovacuumProfiles();
  return {
    primary: { ...(seed003 ? p.seed003Primary : p.defaults), ...nodeMemory(machineRamBytes, split.primary).settings },
    replica: { ...(seed003 ? p.seed003Replica : p.defaultReplica), ...nodeMemory(machineRamBytes, split.replica).settings },
    tables: { events: seed003 ? p.seed003Events : DEFAULT_EVENTS_TABLE },
    indexes: Object.fromEntries(GIN_INDEXES.map((i) => [i, { fastupdate }])),
  };
}

function level(key: string, factor: StudyLevel['factor'], value: string, baseline: string | null, values: FactorValues, ram: number, description: string): StudyLevel {
  return { key, factor, value, baseline, values, config: configOf(values), settings: settingsOf(values, ram), needsRestart: true, description };
}

const FACTOR_TEXT: Readonly<Record<StudyFactor, string>> = {
  'pool-min': 'MinConns',
  'gin-fastupdate': 'GIN fastupdate',
  autovacuum: 'autovacuum',
  memory: 'memory split',
  'append-strategy': 'append',
  decisions: 'decisions',
  'command-path': 'command path',
};

export function describeFactor(factor: StudyFactor, from: string, to: string): string {
  return `${FACTOR_TEXT[factor]} ${from} → ${to}`;
}

/** The three configurations. */
export function configurations(machineRamBytes: number): Record<ConfigurationName, StudyLevel> {
  return {
    original: level('original', 'configuration', 'original', null, ORIGINAL_VALUES, machineRamBytes, 'the study before seed 003'),
    tuned: level('tuned', 'configuration', 'tuned', 'original', TUNED_VALUES, machineRamBytes, 'where seed 003 ended'),
    esbench: level('esbench', 'configuration', 'esbench', 'tuned', ESBENCH_VALUES, machineRamBytes, "tuned + esbench's safe append, snapshot decisions and command path"),
  };
}

/**
 * The ablation: original with each of seed 003's factors changed alone, tuned with each of
 * esbench's changed alone, and the three configurations. Comparisons: each level vs its baseline.
 */
export function ablationLevels(machineRamBytes: number): StudyLevel[] {
  const c = configurations(machineRamBytes);
  const levels: StudyLevel[] = [c.original];
  for (const f of STUDY_FACTORS) {
    levels.push(
      level(`original+${f}`, f, TUNED_VALUES[f], 'original', { ...ORIGINAL_VALUES, [f]: TUNED_VALUES[f] }, machineRamBytes, `original, ${describeFactor(f, ORIGINAL_VALUES[f], TUNED_VALUES[f])}`),
    );
  }
  levels.push(c.tuned);
  for (const f of ESBENCH_FACTORS) {
    levels.push(
      level(`tuned+${f}`, f, ESBENCH_VALUES[f], 'tuned', { ...TUNED_VALUES, [f]: ESBENCH_VALUES[f] }, machineRamBytes, `tuned, ${describeFactor(f, TUNED_VALUES[f], ESBENCH_VALUES[f])}`),
    );
  }
  levels.push(c.esbench);
  return levels;
}

/** Only shared_buffers needs a restart; the rest reloads. Same for every level, so stated once. */
export const RESTART_SETTINGS: readonly string[] = ['shared_buffers'];

// --- size of the run -------------------------------------------------------------------------

export type StudyMode = 'quick' | 'full';

export interface StudySize {
  mode: StudyMode;
  /** History seeded before the study (COPY), the study's ~450K in --full. */
  events: number;
  warmupMs: number;
  /** Measured window of an ablation trial. */
  durationMs: number;
  /** Measured window of a configuration trial at the rate pair (long enough to show periodic spikes in --full). */
  pairDurationMs: number;
  /** Repetitions of each ablation level. */
  repeats: number;
  /** Repetitions of each configuration at each rate of the pair. */
  pairRepeats: number;
  /** Capacity search (src/tuner/capacity.ts): window per trial, trials expected (for the estimate), bisection steps and their repetitions. */
  capacityStepMs: number;
  capacitySteps: number;
  capacityBisections: number;
  capacityRepeats: number;
  /** Configurations run at the study's 300 req/s (and tuned at 250 too, when `studyLowRate`). */
  studyPairLevels: readonly string[];
  studyLowRate: boolean;
  /** Configurations run at the high rate of the pair scaled to the machine. */
  scaledPairLevels: readonly string[];
}

export const STUDY_RATES = Object.freeze({ low: 250, high: 300 });

export const STUDY_SIZES: Readonly<Record<StudyMode, StudySize>> = Object.freeze({
  // ~12 minutes here: a trial costs ~9 s beyond its windows (service start, library state, reset).
  quick: Object.freeze({
    mode: 'quick',
    events: 50_000,
    warmupMs: 3_000,
    durationMs: 10_000,
    pairDurationMs: 10_000,
    repeats: 2,
    pairRepeats: 1,
    capacityStepMs: 8_000,
    capacitySteps: 5,
    capacityBisections: 2,
    capacityRepeats: 1,
    studyPairLevels: Object.freeze(['tuned', 'esbench']),
    studyLowRate: false,
    scaledPairLevels: Object.freeze(['tuned']),
  }),
  full: Object.freeze({
    mode: 'full',
    events: 450_000,
    warmupMs: 15_000,
    durationMs: 60_000,
    // 5 minutes: at least two periods of "every couple of minutes" (seed 003), so a period can show.
    pairDurationMs: 300_000,
    repeats: 4,
    pairRepeats: 1,
    capacityStepMs: 30_000,
    capacitySteps: 11,
    capacityBisections: 4,
    capacityRepeats: 2,
    studyPairLevels: Object.freeze(['tuned', 'esbench', 'original']),
    studyLowRate: true,
    scaledPairLevels: Object.freeze(['tuned', 'esbench', 'original']),
  }),
});

/** Test-only overrides (hidden flags): a tiny study that finishes in a minute or two. */
export interface StudySizeOverrides {
  events?: number;
  trialSeconds?: number;
  repeats?: number;
}

export function studySize(mode: StudyMode, overrides: StudySizeOverrides = {}): StudySize {
  const base = STUDY_SIZES[mode];
  const ms = overrides.trialSeconds === undefined ? undefined : overrides.trialSeconds * 1000;
  return {
    ...base,
    ...(overrides.events !== undefined ? { events: overrides.events } : {}),
    ...(ms !== undefined ? { durationMs: ms, pairDurationMs: ms, capacityStepMs: ms, warmupMs: Math.min(base.warmupMs, Math.max(1000, Math.round(ms / 3))) } : {}),
    ...(overrides.repeats !== undefined ? { repeats: overrides.repeats } : {}),
  };
}

/** What a trial costs beyond its windows: service start, library state, drain, settings, reset (measured ~9 s here). */
export const TRIAL_OVERHEAD_MS = 9_000;
/** A restart of both nodes (shared_buffers) when the memory split changes. */
export const RESTART_MS = 8_000;

/** Trials at the rate pairs: the study's (evidence) and, when scaled, the machine's. */
export function pairTrialCount(size: StudySize, scaled: boolean): number {
  const study = size.studyPairLevels.length + (scaled && size.studyLowRate ? 1 : 0);
  return (scaled ? study + size.scaledPairLevels.length : study) * size.pairRepeats;
}

/** Worst-case duration printed up front: capacity + pairs (scaled) + ablation + restarts + seeding. */
export function estimateDurationMs(size: StudySize, levelCount: number): number {
  const trial = (window: number) => size.warmupMs + window + TRIAL_OVERHEAD_MS;
  const capacity = size.capacitySteps * trial(size.capacityStepMs);
  const pairs = pairTrialCount(size, true) * trial(size.pairDurationMs);
  const ablation = levelCount * size.repeats * trial(size.durationMs);
  // Seeding by COPY + VACUUM ANALYZE: ~5,000 events per second here.
  const seeding = (size.events / 5_000) * 1000;
  return capacity + pairs + ablation + 6 * RESTART_MS + seeding;
}
