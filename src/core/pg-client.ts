/**
 * A one-shot pg.Client: connect, run `fn`, end, whatever happens. Set up here once so every such
 * client has an `error` listener (a node that goes away between queries emits 'error' on an idle
 * client; unlistened, that crashes the process) and is always ended.
 */
import pg from 'pg';
import { EsbenchError } from './errors.ts';
import { redactUrl } from './redact.ts';

export interface ClientOptions {
  applicationName?: string;
  connectionTimeoutMillis?: number;
  statementTimeoutMs?: number;
  /**
   * What the URL is to the user ("primary", "replica"): a failed connect then throws
   * DB_UNAVAILABLE naming it, with the URL's password redacted. Without it the driver's error is
   * thrown as it is (callers that map errors themselves).
   */
  what?: string;
}

/** A connected client with an error listener; the caller ends it. */
export async function connectClient(url: string, options: ClientOptions = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    statement_timeout: options.statementTimeoutMs,
  });
  // The query in flight fails with the error; an idle client has nothing to tell. Never crash.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    if (options.what === undefined) throw e;
    throw new EsbenchError('DB_UNAVAILABLE', `cannot reach the ${options.what} at ${redactUrl(url)}: ${(e as Error).message}`, { cause: e });
  }
  return client;
}

export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
  options: ClientOptions = {},
): Promise<T> {
  const client = await connectClient(url, options);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}
