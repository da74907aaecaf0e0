import fs from 'node:fs';
import type { Command } from 'commander';
import { EsbenchError } from '../../core/errors.ts';
import { parsePositiveInt } from '../../core/units.ts';
import { redactConfig, redactUrl } from '../../core/redact.ts';
import { startServer, type RunningServer } from '../../service/server.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { addPoolFlags, poolInput, type PoolFlags } from '../pool-flags.ts';
import { defaultConfig, mergeDeep, resolveConfig, type Config, type ConfigInput } from '../../core/config.ts';
import { addPerfFlags, perfInput, type PerfFlags } from '../perf-flags.ts';
import { prepareCluster } from '../prepare.ts';

interface ServeFlags extends GlobalFlags, PoolFlags, PerfFlags {
  host: string;
  port: string;
  readyJson?: boolean;
  log?: boolean;
  config?: string;
  printConfig?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keys of `input` that Config does not have (a typo in a config file must not be silently ignored). */
export function unknownConfigKeys(input: unknown, shape: unknown = defaultConfig(), prefix = ''): string[] {
  if (!isPlainObject(input) || !isPlainObject(shape)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(input)) {
    if (!(k in shape)) out.push(`${prefix}${k}`);
    else out.push(...unknownConfigKeys(v, shape[k], `${prefix}${k}.`));
  }
  return out;
}

/**
 * `--config <file|->`: the whole config as JSON (what a trial hands its service), validated by the same
 * resolveConfig as flags are. The environment does not apply: the file is the config.
 */
export function readConfigFile(file: string, cwd: string): Readonly<Config> {
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EsbenchError('BAD_FLAG', `--config ${file}: ${(e as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    throw new EsbenchError('BAD_CONFIG', `--config ${file}: not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(input)) throw new EsbenchError('BAD_CONFIG', `--config ${file}: expected a JSON object`);
  const unknown = unknownConfigKeys(input);
  if (unknown.length > 0) throw new EsbenchError('BAD_CONFIG', `--config ${file}: unknown key(s) ${unknown.join(', ')}`);
  return resolveConfig(input as ConfigInput, {}, cwd);
}

/** Flags that --config replaces; giving one of them too is ambiguous, so it is refused. */
const CONFIG_FLAGS = [
  'host', 'port', 'dataDir', 'primaryUrl', 'replicaUrl', 'runAs', 'pgBin', 'tuningDir', 'poolMax', 'poolMin', 'poolIdleTimeout',
  'poolMaxLifetime', 'poolAcquireTimeout', 'statementTimeout', 'replicaPoolMax', 'replicaPoolMin', 'appendStrategy', 'readFrom',
  'replicaFallback', 'decisions', 'snapshotThreshold', 'ginFastupdate', 'locking', 'boundaryIndex', 'preparedStatements',
] as const;

export function serviceFlags(cmd: Command): Command {
  return addPerfFlags(addPoolFlags(addClusterFlags(cmd)))
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--port <port>', 'listen port (0 = any free port)', '8080');
}

export function serviceConfig(ctx: CliContext, flags: ServeFlags) {
  const port = parsePositiveInt(flags.port, '--port', { min: 0, max: 65535 });
  return configFor(ctx, mergeDeep(mergeDeep(mergeDeep(clusterInput(flags), poolInput(flags)), perfInput(flags)), { service: { host: flags.host, port } }));
}

/**
 * Stops the service: no new requests (503 while closing), in-flight ones finish, pools close.
 * Node closes the idle keep-alive connections when the close starts, but a connection whose
 * request was still in flight stays open after its response until the keep-alive timeout (72 s in
 * Fastify): one load-generator connection would delay the exit that long. So close connections
 * as they become idle, until the server is closed.
 */
export async function stopService(server: RunningServer): Promise<void> {
  const sweep = setInterval(() => server.app.server.closeIdleConnections(), 50);
  try {
    await server.close();
  } finally {
    clearInterval(sweep);
  }
}

/** Waits until SIGINT/SIGTERM (the context's signal). */
export function untilStopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

export function register(program: Command, ctx: CliContext): void {
  serviceFlags(program.command('serve').description('run the event-store service (Fastify) on the cluster; SIGTERM stops it cleanly'))
    .option('--ready-json', 'print one JSON line {"event":"listening","url"} when ready (for the load runner)')
    .option('--log', 'log requests (JSON lines on stdout)')
    .option('--config <file>', "the whole config as JSON ('-' = stdin), as a trial hands it to its service; replaces every other config flag")
    .option('--print-config', 'print the resolved config as JSON and exit (nothing is started)')
    .action(async (flags: ServeFlags, cmd: Command) => {
      let config: Readonly<Config>;
      if (flags.config !== undefined) {
        const clash = CONFIG_FLAGS.filter((f) => cmd.getOptionValueSource(f) === 'cli');
        if (clash.length > 0) throw new EsbenchError('BAD_FLAG', `--config carries the whole config; drop ${clash.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
        config = readConfigFile(flags.config, ctx.cwd);
      } else {
        config = serviceConfig(ctx, flags);
      }
      if (flags.printConfig) {
        // Passwords redacted: this is for a person to read.
        ctx.stdout(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
        return;
      }
      const handle = await prepareCluster(ctx, config, { start: true });
      // A signal while the cluster was starting: nothing was served, so this is an interruption (130),
      // not the normal end of a service (0).
      if (ctx.signal.aborted) throw new EsbenchError('INTERRUPTED', 'stopped before the service was listening');
      const server = await startServer(config, handle.primaryUrl, handle.replicaUrl, Boolean(flags.log));
      ctx.stdout(
        flags.readyJson
          ? // The echo lets the parent check what the child resolved; stdout is logged, so no passwords.
            `${JSON.stringify({ event: 'listening', url: server.url, pid: process.pid, config: redactConfig(config) })}\n`
          : `esbench service listening on ${server.url}\n  primary ${redactUrl(handle.primaryUrl)}\n  replica ${redactUrl(handle.replicaUrl)}\n`,
      );
      await untilStopped(ctx.signal);
      await stopService(server);
      if (flags.readyJson) ctx.stdout(`${JSON.stringify({ event: 'closed' })}\n`);
    });
}
