/** Pool and service flags shared by `serve`, `start` and `run`, turned into config input. */
import type { Command } from 'commander';
import type { ConfigInput, PoolConfig } from '../core/config.ts';
import { parseDuration, parsePositiveInt } from '../core/units.ts';
import { choiceOption } from './choice-option.ts';

/** `true`/`false` are accepted as well: scripts written for earlier versions pass them. */
const ON_OFF = ['on', 'off', 'true', 'false'] as const;

export interface PoolFlags {
  poolMax?: string;
  poolMin?: string;
  poolIdleTimeout?: string;
  poolMaxLifetime?: string;
  poolAcquireTimeout?: string;
  statementTimeout?: string;
  replicaPoolMax?: string;
  replicaPoolMin?: string;
  appendStrategy?: string;
  readFrom?: string;
  replicaFallback?: boolean;
  ginFastupdate?: (typeof ON_OFF)[number];
  decisions?: string;
  snapshotThreshold?: string;
}

export function addPoolFlags(cmd: Command): Command {
  return cmd
    .option('--pool-max <n>', 'max connections per pool (pgxpool MaxConns)', undefined)
    .option('--pool-min <n>', 'connections opened at start and kept open, per pool (pgxpool MinConns)')
    .option('--pool-idle-timeout <duration>', 'close idle connections above min after this long')
    .option('--pool-max-lifetime <duration>', 'close connections older than this (0 = never)')
    .option('--pool-acquire-timeout <duration>', 'fail a request that waited this long for a connection')
    .option('--statement-timeout <duration>', 'PostgreSQL statement_timeout of pooled connections')
    .option('--replica-pool-max <n>', 'override --pool-max for the replica pool')
    .option('--replica-pool-min <n>', 'override --pool-min for the replica pool')
    .option('--append-strategy <name>', "'safe' (advisory locks) or 'baseline' (the study's unlocked statement)")
    .option('--read-from <node>', "where read models query: 'replica' or 'primary'")
    .option('--no-replica-fallback', 'fail read models fast with REPLICA_UNAVAILABLE instead of reading the primary')
    .option('--decisions <mode>', "'snapshot' (start from per-entity snapshots) or 'full' (re-fold the whole boundary, as the study did)")
    .option('--snapshot-threshold <n>', 'write snapshots after a decision that folded more than n events')
    .addOption(choiceOption('--gin-fastupdate <on|off>', 'GIN fastupdate of the payload/metadata indexes when the schema is created', ON_OFF));
}

function poolPart(flags: PoolFlags, max?: string, min?: string): Partial<PoolConfig> {
  const out: Partial<PoolConfig> = {};
  if (max !== undefined) out.max = parsePositiveInt(max, '--pool-max', { min: 1, max: 10_000 });
  if (min !== undefined) out.min = parsePositiveInt(min, '--pool-min', { min: 0, max: 10_000 });
  if (flags.poolIdleTimeout !== undefined) out.idleTimeoutMs = parseDuration(flags.poolIdleTimeout, '--pool-idle-timeout');
  if (flags.poolMaxLifetime !== undefined) out.maxLifetimeMs = parseDuration(flags.poolMaxLifetime, '--pool-max-lifetime');
  if (flags.poolAcquireTimeout !== undefined) out.acquireTimeoutMs = parseDuration(flags.poolAcquireTimeout, '--pool-acquire-timeout');
  if (flags.statementTimeout !== undefined) out.statementTimeoutMs = parseDuration(flags.statementTimeout, '--statement-timeout');
  return out;
}

export function poolInput(flags: PoolFlags): ConfigInput {
  const primary = poolPart(flags, flags.poolMax, flags.poolMin);
  const replica = { ...primary, ...poolPart({}, flags.replicaPoolMax ?? flags.poolMax, flags.replicaPoolMin ?? flags.poolMin) };
  const fastupdate = flags.ginFastupdate === undefined ? undefined : flags.ginFastupdate === 'on' || flags.ginFastupdate === 'true';
  return {
    pools: { primary, replica },
    service: {
      ...(flags.appendStrategy !== undefined ? { appendStrategy: flags.appendStrategy as 'safe' } : {}),
      ...(flags.readFrom !== undefined ? { readModelsFrom: flags.readFrom as 'replica' } : {}),
      ...(flags.replicaFallback === false ? { replicaFallback: false } : {}),
      ...(flags.decisions !== undefined ? { decisions: flags.decisions as 'snapshot' } : {}),
      ...(flags.snapshotThreshold !== undefined
        ? { snapshotThreshold: parsePositiveInt(flags.snapshotThreshold, '--snapshot-threshold', { min: 0, max: 1_000_000 }) }
        : {}),
    },
    cluster: fastupdate === undefined ? {} : { ginFastupdate: fastupdate },
  };
}
