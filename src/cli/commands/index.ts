/** Every CLI command module, in the order `esbench --help` lists them. */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { register as cluster } from './cluster.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const COMMANDS: readonly RegisterCommand[] = [cluster];
