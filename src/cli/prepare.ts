/** Brings up (or reaches) the cluster and makes sure the schema exists: the first step of most commands. */
import type pg from 'pg';
import { APPLICATION_NAMES } from '../core/application-names.ts';
import type { Config } from '../core/config.ts';
import { EsbenchError } from '../core/errors.ts';
import { connectClient } from '../core/pg-client.ts';
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

export async function withPrimary<T>(handle: ClusterHandle, fn: (c: pg.Client) => Promise<T>, applicationName: string = APPLICATION_NAMES.cli): Promise<T> {
  let client: pg.Client;
  try {
    client = await connectClient(handle.primaryUrl, { applicationName });
  } catch (e) {
    throw new EsbenchError('DB_UNAVAILABLE', `cannot reach the primary at ${redactUrl(handle.primaryUrl)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
