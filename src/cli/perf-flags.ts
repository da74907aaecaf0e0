/**
 * The command path's cost levers (issue 15), as flags of `serve`, `start` and `run`: kept apart
 * from the pool flags so either list can grow without touching the other. `run` hands them to the
 * service process it starts.
 */
import type { Command } from 'commander';
import type { ConfigInput } from '../core/config.ts';
import { choiceOption } from './choice-option.ts';

const LOCKING = ['held', 'check'] as const;
const BOUNDARY_INDEX = ['btree', 'gin'] as const;
const ON_OFF = ['on', 'off'] as const;

/** Values as commander's choices() let them through (checked when parsed). */
export interface PerfFlags {
  locking?: (typeof LOCKING)[number];
  boundaryIndex?: (typeof BOUNDARY_INDEX)[number];
  preparedStatements?: (typeof ON_OFF)[number];
}

export function addPerfFlags(cmd: Command): Command {
  return cmd
    .addOption(
      choiceOption('--locking <mode>', "'held' (one transaction holds the boundary's locks from read to append) or 'check' (read, then a checked append)", LOCKING),
    )
    .addOption(
      choiceOption('--boundary-index <name>', "'gin' (the study's indexes) or 'btree' (adds (key, sequence_number) indexes: sql/boundary-btree.sql)", BOUNDARY_INDEX),
    )
    .addOption(choiceOption('--prepared-statements <on|off>', 'named prepared statements for statements whose plan does not hinge on values', ON_OFF));
}

export function perfInput(flags: PerfFlags): ConfigInput {
  const { locking, boundaryIndex, preparedStatements: prepared } = flags;
  return {
    service: {
      ...(locking ? { locking } : {}),
      ...(boundaryIndex ? { boundaryIndex } : {}),
      ...(prepared ? { preparedStatements: prepared === 'on' } : {}),
    },
  };
}
