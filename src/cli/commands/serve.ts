import type { Command } from 'commander';
import { EsbenchError } from '../../core/errors.ts';
import { parsePositiveInt } from '../../core/units.ts';
import { redactUrl } from '../../core/redact.ts';
import { startServer, type RunningServer } from '../../service/server.ts';
import { addClusterFlags, clusterInput, configFor, type CliContext, type GlobalFlags } from '../context.ts';
import { addPoolFlags, poolInput, type PoolFlags } from '../pool-flags.ts';
import { addPerfFlags, perfInput, type PerfFlags } from '../perf-flags.ts';
import { mergeDeep } from '../../core/config.ts';
import { prepareCluster } from '../prepare.ts';

interface ServeFlags extends GlobalFlags, PoolFlags, PerfFlags {
  host: string;
  port: string;
  readyJson?: boolean;
  log?: boolean;
}

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
    .action(async (flags: ServeFlags) => {
      const config = serviceConfig(ctx, flags);
      const handle = await prepareCluster(ctx, config, { start: true });
      // A signal while the cluster was starting: nothing was served, so this is an interruption (130),
      // not the normal end of a service (0).
      if (ctx.signal.aborted) throw new EsbenchError('INTERRUPTED', 'stopped before the service was listening');
      const server = await startServer(config, handle.primaryUrl, handle.replicaUrl, Boolean(flags.log));
      ctx.stdout(
        flags.readyJson
          ? `${JSON.stringify({ event: 'listening', url: server.url, pid: process.pid })}\n`
          : `esbench service listening on ${server.url}\n  primary ${redactUrl(handle.primaryUrl)}\n  replica ${redactUrl(handle.replicaUrl)}\n`,
      );
      await untilStopped(ctx.signal);
      await stopService(server);
      if (flags.readyJson) ctx.stdout(`${JSON.stringify({ event: 'closed' })}\n`);
    });
}
