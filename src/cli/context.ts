/**
 * What every command receives: the environment (read once, here at the edge), output streams,
 * and a signal that aborts on SIGINT/SIGTERM. Commands build a result, then print it.
 */
import type { Command } from 'commander';
import { resolveConfig, type Config, type ConfigInput } from '../core/config.ts';

export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborted on the first SIGINT/SIGTERM; long commands stop cleanly and keep what they measured. */
  signal: AbortSignal;
  /** Set by a command to report a non-error exit status (e.g. 1 for a failed check). */
  exitCode: number;
}

export interface GlobalFlags {
  dataDir?: string;
  primaryUrl?: string;
  replicaUrl?: string;
  runAs?: string;
  pgBin?: string;
  tuningDir?: string;
}

/** The global flags every command shares (cluster location or external URLs). */
export function addClusterFlags(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'embedded cluster directory (env ESBENCH_DATA_DIR)', undefined)
    .option('--primary-url <url>', 'use an existing primary instead of the embedded cluster (env ESBENCH_PRIMARY_URL)')
    .option('--replica-url <url>', 'use an existing replica (env ESBENCH_REPLICA_URL)')
    .option('--run-as <user>', 'unprivileged OS user for postgres when running as root (env ESBENCH_RUN_AS)')
    .option('--pg-bin <dir>', 'PostgreSQL bin directory (env ESBENCH_PG_BIN)')
    .option('--tuning-dir <dir>', 'directory with primary.conf / replica.conf');
}

export function clusterInput(flags: GlobalFlags): ConfigInput {
  return {
    cluster: {
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      ...(flags.primaryUrl ? { primaryUrl: flags.primaryUrl } : {}),
      ...(flags.replicaUrl ? { replicaUrl: flags.replicaUrl } : {}),
      ...(flags.runAs ? { runAs: flags.runAs } : {}),
      ...(flags.pgBin ? { pgBinDir: flags.pgBin } : {}),
      ...(flags.tuningDir ? { tuningDir: flags.tuningDir } : {}),
    },
  };
}

export function configFor(ctx: CliContext, input: ConfigInput): Readonly<Config> {
  return resolveConfig(input, ctx.env, ctx.cwd);
}
