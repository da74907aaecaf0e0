/** Brings up (or reaches) the cluster and makes sure the schema exists: the first step of most commands. */
import pg from 'pg';
import type { Config } from '../core/config.ts';
import { EsbenchError } from '../core/errors.ts';
import { redactUrl } from '../core/redact.ts';
import { openCluster, requireRunning, type ClusterHandle } from '../cluster/cluster.ts';
import { applySchema } from '../store/schema.ts';
import type { CliContext } from './context.ts';

export async function prepareCluster(ctx: CliContext, config: Readonly<Config>, options: { start: boolean }): Promise<ClusterHandle> {
  const handle = await openCluster(config.cluster, { start: options.start, onProgress: (l) => ctx.stderr(`cluster: ${l}\n`) });
  requireRunning(handle);
  await withPrimary(handle, (c) => applySchema(c, { ginFastupdate: config.cluster.ginFastupdate, boundaryIndex: config.service.boundaryIndex }));
  return handle;
}

export async function withPrimary<T>(handle: ClusterHandle, fn: (c: pg.Client) => Promise<T>, applicationName = 'esbench_cli'): Promise<T> {
  const client = new pg.Client({ connectionString: handle.primaryUrl, application_name: applicationName, connectionTimeoutMillis: 5000 });
  // pg emits 'error' when the connection ends unexpectedly (primary killed, backend terminated),
  // besides failing the statement in flight; unheard, it would crash the CLI with a stack trace.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    throw new EsbenchError('DB_UNAVAILABLE', `cannot reach the primary at ${redactUrl(handle.primaryUrl)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
