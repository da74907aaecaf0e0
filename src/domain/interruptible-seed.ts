/**
 * Seeding that a signal stops without waiting for the statement in progress: the seed's own check
 * stops feeding the COPY, and the backend's current statement is cancelled from a second session
 * (the COPY is one transaction, so nothing is written; a VACUUM that is cancelled leaves the
 * committed rows). Library code: `seed`, `start` and `run --seed-events` use it through the CLI.
 */
import type pg from 'pg';
import { APPLICATION_NAMES } from '../core/application-names.ts';
import { EsbenchError, isEsbenchError } from '../core/errors.ts';
import { seedLibrary, type SeedOptions, type SeedResult } from './seed.ts';

export type SeedOutcome = { kind: 'done'; result: SeedResult } | { kind: 'partial'; eventsWritten: number };

/** Opens a session on the primary, runs `fn` on it, and closes it. */
export type PrimarySession = <T>(fn: (c: pg.Client) => Promise<T>, applicationName: string) => Promise<T>;

/** query_canceled: what a statement cancelled by pg_cancel_backend fails with. */
const QUERY_CANCELED = '57014';

/**
 * Throws INTERRUPTED when the signal came before anything was written, and returns 'partial' when
 * the COPY had committed before the signal.
 */
export async function seedInterruptibly(
  session: PrimarySession,
  options: Omit<SeedOptions, 'onProgress' | 'signal'>,
  hooks: { signal: AbortSignal; onProgress?: SeedOptions['onProgress'] },
): Promise<SeedOutcome> {
  const { signal } = hooks;
  return session(async (c) => {
    const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const cancel = (): void => {
      // A second connection, because the first one is busy with the statement to cancel.
      void session((k) => k.query('SELECT pg_cancel_backend($1)', [pid]), APPLICATION_NAMES.cliCancel).catch(() => {});
    };
    if (signal.aborted)
      throw new EsbenchError('INTERRUPTED', 'seeding interrupted before it started; nothing was written');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return { kind: 'done', result: await seedLibrary(c, { ...options, onProgress: hooks.onProgress, signal }) };
    } catch (e) {
      // Stopped by us: the seed's own INTERRUPTED, or the cancelled statement.
      const stopped =
        (isEsbenchError(e) && e.code === 'INTERRUPTED') || (e as { code?: string }).code === QUERY_CANCELED;
      if (!signal.aborted || !stopped) throw e;
      // The table was empty (or truncated by --reset) before the COPY: any row is the COPY's.
      const rows = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n ?? 0);
      if (rows === 0)
        throw new EsbenchError('INTERRUPTED', 'seeding interrupted; nothing was written (COPY is one transaction)', {
          cause: e,
        });
      return { kind: 'partial', eventsWritten: rows };
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }, APPLICATION_NAMES.cli);
}
