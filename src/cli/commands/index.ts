/** Every CLI command module, in the order `esbench --help` lists them. */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { register as cluster } from './cluster.ts';
import { register as run } from './run.ts';
import { register as seed } from './seed.ts';
import { register as serve } from './serve.ts';
import { register as start } from './start.ts';
import { register as tuneConfig } from './tune-config.ts';
import { register as maintain } from './maintain.ts';
import { register as health } from './health.ts';
import { register as sweep } from './sweep.ts';
import { register as capacity } from './capacity.ts';
import { register as study } from './study.ts';
import { register as report } from './report.ts';
import { register as spikes } from './spikes.ts';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export const COMMANDS: readonly RegisterCommand[] = [start, cluster, seed, serve, run, tuneConfig, maintain, health, study, sweep, capacity, spikes, report];
