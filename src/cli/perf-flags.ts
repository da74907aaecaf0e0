/**
 * The command path's cost levers (issue 15), as flags of `serve`, `start` and `run`: kept apart
 * from the pool flags so either list can grow without touching the other. `run` hands them to the
 * service process it starts.
 */
import type { Command } from 'commander';
import type { ConfigInput } from '../core/config.ts';
import { EsbenchError } from '../core/errors.ts';

export interface PerfFlags {
  locking?: string;
  boundaryIndex?: string;
  preparedStatements?: string;
}

export function addPerfFlags(cmd: Command): Command {
  return cmd
    .option('--locking <mode>', "'held' (one transaction holds the boundary's locks from read to append) or 'check' (read, then a checked append)")
    .option('--boundary-index <name>', "'gin' (the study's indexes) or 'btree' (adds (key, sequence_number) indexes: sql/boundary-btree.sql)")
    .option('--prepared-statements <on|off>', 'named prepared statements for statements whose plan does not hinge on values');
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new EsbenchError('BAD_FLAG', `${flag} must be one of ${allowed.join(', ')} (got '${value}')`);
}

export function perfInput(flags: PerfFlags): ConfigInput {
  const locking = oneOf(flags.locking, ['check', 'held'] as const, '--locking');
  const boundaryIndex = oneOf(flags.boundaryIndex, ['gin', 'btree'] as const, '--boundary-index');
  const prepared = oneOf(flags.preparedStatements, ['on', 'off'] as const, '--prepared-statements');
  return {
    service: {
      ...(locking ? { locking } : {}),
      ...(boundaryIndex ? { boundaryIndex } : {}),
      ...(prepared ? { preparedStatements: prepared === 'on' } : {}),
    },
  };
}
