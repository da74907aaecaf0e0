/**
 * The one typed configuration of esbench. Defaults are merged and validated here, at the edge
 * (CLI flags and environment), and the result is deep-frozen before anything below uses it.
 * No other module reads process.env.
 */
import path from 'node:path';
import { EsbenchError } from './errors.ts';
import { deepFreeze, type DeepPartial } from './freeze.ts';

export interface PoolConfig {
  /** Upper bound of connections (pgxpool MaxConns). */
  max: number;
  /** Connections opened at start and kept open (pgxpool MinConns), not pg-pool's idle-eviction floor. */
  min: number;
  idleTimeoutMs: number;
  /** Connections older than this are closed on release (pgxpool MaxConnLifetime); 0 = never. */
  maxLifetimeMs: number;
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
}

export type AppendStrategyName = 'safe' | 'baseline';
export type DecisionMode = 'full' | 'snapshot';
/**
 * 'check': a command reads its boundary (BEGIN, shared locks, query, COMMIT), then appends in a
 * second transaction that takes the locks again and checks nothing matching is newer. 'held': one
 * transaction holds the boundary's locks (exclusive) from the read to the append; the append needs
 * no check. Both only with the safe append strategy.
 */
export type LockingMode = 'check' | 'held';
/** How boundary reads find their events: the study's GIN indexes, or btree (key, sequence_number) indexes too. */
export type BoundaryIndexName = 'gin' | 'btree';

export interface ClusterConfig {
  /** Where embedded data directories, logs and state live. */
  dataDir: string;
  /** Unprivileged OS user that runs postgres when esbench runs as root. */
  runAs: string | undefined;
  /** External mode: when set, nothing is started and these URLs are used. */
  primaryUrl: string | undefined;
  replicaUrl: string | undefined;
  /** Directory of primary.conf / replica.conf. */
  tuningDir: string;
  /** Explicit PostgreSQL bin directory (else: npm package, PATH, pg_config). */
  pgBinDir: string | undefined;
  /** GIN fastupdate of the payload/metadata indexes when the schema is first created. */
  ginFastupdate: boolean;
}

export interface ServiceConfig {
  host: string;
  port: number;
  bodyLimitBytes: number;
  /** Where read models query: the replica (eventual) or the primary. */
  readModelsFrom: 'replica' | 'primary';
  /** When the replica is down: fall back to the primary, or fail fast with REPLICA_UNAVAILABLE. */
  replicaFallback: boolean;
  appendStrategy: AppendStrategyName;
  /** 'snapshot': decisions start from per-entity snapshots; 'full': re-fold the whole boundary (the study). */
  decisions: DecisionMode;
  /** Write a snapshot after a decision or read model that folded more than this many events. */
  snapshotThreshold: number;
  retry: { tries: number; baseMs: number; jitter: number };
  locking: LockingMode;
  boundaryIndex: BoundaryIndexName;
  /** Named prepared statements for statements whose plan does not hinge on values. */
  preparedStatements: boolean;
  logLevel: 'silent' | 'error' | 'warn' | 'info' | 'debug';
}

export interface Config {
  cluster: ClusterConfig;
  pools: { primary: PoolConfig; replica: PoolConfig };
  service: ServiceConfig;
}

export type ConfigInput = DeepPartial<Config>;

/** The study's pgxpool settings after its change (MaxConns 60, MinConns 2). */
export const DEFAULT_POOL: Readonly<PoolConfig> = Object.freeze({
  max: 60,
  min: 2,
  idleTimeoutMs: 30_000,
  maxLifetimeMs: 3_600_000,
  acquireTimeoutMs: 1_000,
  statementTimeoutMs: 5_000,
});

export function defaultConfig(cwd: string = process.cwd()): Config {
  return {
    cluster: {
      dataDir: path.resolve(cwd, '.esbench'),
      runAs: undefined,
      primaryUrl: undefined,
      replicaUrl: undefined,
      tuningDir: path.resolve(cwd, 'tuning'),
      pgBinDir: undefined,
      ginFastupdate: true,
    },
    pools: { primary: { ...DEFAULT_POOL }, replica: { ...DEFAULT_POOL } },
    service: {
      host: '127.0.0.1',
      port: 0,
      bodyLimitBytes: 256 * 1024,
      readModelsFrom: 'replica',
      replicaFallback: true,
      appendStrategy: 'safe',
      decisions: 'snapshot',
      snapshotThreshold: 50,
      retry: { tries: 6, baseMs: 10, jitter: 0.3 },
      // Measured (README, "Cost per command"): PostgreSQL CPU per study command 6.5 → 2.6 ms.
      // The study's behaviour: locking 'check', boundaryIndex 'gin', preparedStatements false.
      locking: 'held',
      boundaryIndex: 'btree',
      preparedStatements: true,
      logLevel: 'warn',
    },
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Environment variables esbench understands; documented in the README. */
export function configFromEnv(env: Env): ConfigInput {
  const cluster: DeepPartial<ClusterConfig> = {};
  if (env.ESBENCH_PRIMARY_URL) cluster.primaryUrl = env.ESBENCH_PRIMARY_URL;
  if (env.ESBENCH_REPLICA_URL) cluster.replicaUrl = env.ESBENCH_REPLICA_URL;
  if (env.ESBENCH_DATA_DIR) cluster.dataDir = path.resolve(env.ESBENCH_DATA_DIR);
  if (env.ESBENCH_RUN_AS) cluster.runAs = env.ESBENCH_RUN_AS;
  if (env.ESBENCH_PG_BIN) cluster.pgBinDir = env.ESBENCH_PG_BIN;
  return { cluster };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Merges b over a without touching either (undefined in b keeps a's value). */
export function mergeDeep<T>(a: T, b: DeepPartial<T> | undefined): T {
  if (b === undefined) return structuredClone(a);
  const out: Record<string, unknown> = structuredClone(a) as Record<string, unknown>;
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : structuredClone(value);
  }
  return out as T;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new EsbenchError('BAD_CONFIG', message);
}

function validatePool(name: string, p: PoolConfig): void {
  const ints: Array<keyof PoolConfig> = ['max', 'min', 'idleTimeoutMs', 'maxLifetimeMs', 'acquireTimeoutMs', 'statementTimeoutMs'];
  for (const k of ints) check(Number.isInteger(p[k]) && p[k] >= 0, `pool ${name}.${k} must be a non-negative integer (got ${String(p[k])})`);
  check(p.max >= 1, `pool ${name}.max must be at least 1`);
  check(p.min <= p.max, `pool ${name}.min (${p.min}) must not exceed max (${p.max})`);
}

function validateUrl(name: string, url: string | undefined): void {
  if (url === undefined) return;
  try {
    const u = new URL(url);
    check(u.protocol === 'postgres:' || u.protocol === 'postgresql:', `${name} must be a postgres:// URL`);
  } catch (e) {
    if (e instanceof EsbenchError) throw e;
    throw new EsbenchError('BAD_CONFIG', `${name} is not a valid URL`);
  }
}

/** Merge defaults ← env ← explicit input, validate, freeze. The only place a Config is built. */
export function resolveConfig(input: ConfigInput = {}, env: Env = {}, cwd: string = process.cwd()): Readonly<Config> {
  const config = mergeDeep(mergeDeep(defaultConfig(cwd), configFromEnv(env)), input);
  validatePool('primary', config.pools.primary);
  validatePool('replica', config.pools.replica);
  validateUrl('primary URL', config.cluster.primaryUrl);
  validateUrl('replica URL', config.cluster.replicaUrl);
  check(
    (config.cluster.primaryUrl === undefined) === (config.cluster.replicaUrl === undefined) || config.cluster.replicaUrl === undefined,
    'a replica URL needs a primary URL',
  );
  const s = config.service;
  check(Number.isInteger(s.port) && s.port >= 0 && s.port <= 65535, `service port must be 0..65535 (got ${s.port})`);
  check(Number.isInteger(s.bodyLimitBytes) && s.bodyLimitBytes >= 1024, 'service body limit must be at least 1 kB');
  check(s.readModelsFrom === 'replica' || s.readModelsFrom === 'primary', `read models must come from 'replica' or 'primary'`);
  check(s.appendStrategy === 'safe' || s.appendStrategy === 'baseline', `append strategy must be 'safe' or 'baseline'`);
  check(s.decisions === 'full' || s.decisions === 'snapshot', `decisions must be 'full' or 'snapshot'`);
  check(s.locking === 'check' || s.locking === 'held', `locking must be 'check' or 'held'`);
  check(s.boundaryIndex === 'gin' || s.boundaryIndex === 'btree', `boundary index must be 'gin' or 'btree'`);
  check(typeof s.preparedStatements === 'boolean', 'preparedStatements must be true or false');
  check(Number.isInteger(s.snapshotThreshold) && s.snapshotThreshold >= 0, 'snapshot threshold must be a non-negative integer');
  check(Number.isInteger(s.retry.tries) && s.retry.tries >= 1 && s.retry.tries <= 100, 'retry tries must be 1..100');
  check(s.retry.baseMs >= 0 && s.retry.jitter >= 0 && s.retry.jitter <= 1, 'retry base must be >= 0 and jitter in [0,1]');
  return deepFreeze(config);
}

/** True when esbench should use an existing cluster instead of starting one. */
export function isExternal(cluster: ClusterConfig): boolean {
  return cluster.primaryUrl !== undefined;
}
