/**
 * Append strategies under contention, on a 450K-event library: the study's baseline (READ
 * COMMITTED, no lock), SERIALIZABLE (query + checked insert in one serializable transaction,
 * retried on 40001), and esbench's `safe` (advisory locks keyed by boundary). 32 clients lend and
 * return copies among a hot set (10 readers x 100 books) through the real command handler.
 * Measured: commands/s (client side, this process), conflicts and serialization failures, and the
 * invariants checked on the event log afterwards (double lends, readers above 10 books).
 */
import { CommandHandler } from '../src/domain/command-handler.ts';
import { boundaryOf, decide, foldBoundary, type LibraryCommand } from '../src/domain/library-commands.ts';
import { EVENT, READER_BOOK_LIMIT } from '../src/domain/library-events.ts';
import { DEFAULT_POOL } from '../src/core/config.ts';
import { ConcurrencyConflict, EsbenchError } from '../src/core/errors.ts';
import { DbPool } from '../src/store/db-pool.ts';
import { EventStore, SQL } from '../src/store/event-store.ts';
import { compileFilter } from '../src/store/filter.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

const CLIENTS = 32;
const HOT_READERS = 10;
const HOT_BOOKS = 100;

type Strategy = 'safe' | 'serializable' | 'baseline';

interface Tally {
  ok: number;
  rejected: number;
  conflicts: number;
  serializationFailures: number;
  exhausted: number;
}

/** The SERIALIZABLE alternative, kept in the bench only: it is what `safe` was chosen over. */
async function serializableCommand(pool: DbPool, cmd: LibraryCommand, tally: Tally): Promise<void> {
  const filter = boundaryOf(cmd);
  for (let attempt = 1; attempt <= 6; attempt++) {
    try {
      await pool.transaction(
        async (s) => {
          const q = compileFilter(filter);
          const rows = (await s.query<{ sequence_number: string; event_type: string; payload: Record<string, string> }>('query', SQL.query(q.where), q.params)).rows;
          const events = rows.map((r) => ({ sequenceNumber: Number(r.sequence_number), occurredAt: '', type: r.event_type, payload: r.payload, metadata: {} }));
          const version = events.at(-1)?.sequenceNumber ?? 0;
          const newEvents = decide(cmd, foldBoundary(cmd, events));
          const a = compileFilter(filter, 5);
          const r = await s.query<{ newer: string | null }>('append', SQL.appendChecked(a.where), [
            newEvents.map((e) => e.type),
            newEvents.map((e) => JSON.stringify(e.payload)),
            newEvents.map(() => '{}'),
            version,
            ...a.params,
          ]);
          if (r.rows[0]?.newer !== null) throw new ConcurrencyConflict(version, Number(r.rows[0]?.newer));
        },
        { begin: 'BEGIN ISOLATION LEVEL SERIALIZABLE' },
      );
      tally.ok++;
      return;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      if (cause?.code === '40001') tally.serializationFailures++;
      else if (e instanceof ConcurrencyConflict) tally.conflicts++;
      else if (e instanceof EsbenchError && e.code !== 'INTERNAL') {
        tally.rejected++;
        return;
      } else throw e;
      await new Promise((r) => setTimeout(r, 10 * 2 ** (attempt - 1) * (0.7 + 0.6 * Math.random())));
    }
  }
  tally.exhausted++;
}

async function runStrategy(ctx: BenchContext, strategy: Strategy, seconds: number) {
  const pool = new DbPool('primary', ctx.primaryUrl, { ...DEFAULT_POOL, max: CLIENTS + 4, min: CLIENTS });
  await pool.start();
  const tally: Tally = { ok: 0, rejected: 0, conflicts: 0, serializationFailures: 0, exhausted: 0 };
  const store = new EventStore(pool, strategy === 'baseline' ? 'baseline' : 'safe');
  const handler = new CommandHandler(store, { tries: 6, baseMs: 10, jitter: 0.3 }, { conflict: () => tally.conflicts++ });
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      let n = client;
      while (performance.now() < deadline) {
        n++;
        const bookId = `book-${1 + ((n * 7919 + client * 104729) % HOT_BOOKS)}`;
        const readerId = `reader-${1 + ((n * 31 + client) % HOT_READERS)}`;
        for (const kind of ['lend-book-copy', 'return-book-copy'] as const) {
          const cmd: LibraryCommand = { kind, bookId, readerId };
          if (strategy === 'serializable') await serializableCommand(pool, cmd, tally);
          else {
            try {
              await handler.handle(cmd);
              tally.ok++;
            } catch (e) {
              if (e instanceof EsbenchError && e.code === 'RETRIES_EXHAUSTED') tally.exhausted++;
              else if (e instanceof EsbenchError && e.httpStatus === 422) tally.rejected++;
              else throw e;
            }
          }
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const violations = await checkInvariants(pool);
  await pool.close();
  return { strategy, seconds: elapsed, commandsPerSecond: (tally.ok + tally.rejected) / elapsed, ...tally, ...violations };
}

/** Replays every lend/return in the log (the seeded history obeys the rules) and counts broken rules. */
async function checkInvariants(pool: DbPool) {
  const rows = (
    await pool.query<{ event_type: string; payload: { BookID: string; ReaderID: string } }>(
      'invariants',
      'SELECT event_type, payload FROM events WHERE event_type = ANY($1) ORDER BY sequence_number',
      [[EVENT.lent, EVENT.returned]],
    )
  ).rows;
  let doubleLends = 0;
  let readerOverLimit = 0;
  const lentTo = new Map<string, string>();
  const held = new Map<string, number>();
  for (const r of rows) {
    const { BookID: b, ReaderID: rd } = r.payload;
    if (r.event_type === EVENT.lent) {
      if (lentTo.has(b)) doubleLends++;
      lentTo.set(b, rd);
      held.set(rd, (held.get(rd) ?? 0) + 1);
      if ((held.get(rd) ?? 0) > READER_BOOK_LIMIT) readerOverLimit++;
    } else {
      if (lentTo.get(b) === rd) lentTo.delete(b);
      held.set(rd, Math.max(0, (held.get(rd) ?? 0) - 1));
    }
  }
  return { doubleLends, readerOverLimit, lendingEventsChecked: rows.length };
}

export async function appendRace(ctx: BenchContext): Promise<BenchResult> {
  const seconds = ctx.quick ? 5 : 15;
  const results = [];
  // At 10K the append path dominates; at 450K the boundary query does (see issue 7).
  for (const events of ctx.quick ? [10_000] : [10_000, 450_000]) {
    for (const strategy of ['safe', 'serializable', 'baseline'] as const) {
      await ctx.reseed(events);
      ctx.progress(`append-race: ${strategy} at ${events} events for ${seconds}s with ${CLIENTS} clients`);
      results.push({ events, ...(await runStrategy(ctx, strategy, seconds)) });
    }
  }
  const rows = results.map((r) =>
    [r.events, r.strategy, r.commandsPerSecond.toFixed(0), r.conflicts, r.serializationFailures, r.exhausted, r.doubleLends, r.readerOverLimit].join(' | '),
  );
  return {
    name: 'append-race',
    measured: `client side (bench process, in-process command handler, no HTTP), ${CLIENTS} clients, hot set ${HOT_READERS} readers x ${HOT_BOOKS} books, lend+return commands`,
    data: results,
    table: ['events | strategy | commands/s | conflicts | serialization failures | retries exhausted | double lends | readers over 10', '--- | --- | --- | --- | --- | --- | --- | ---', ...rows].join('\n'),
  };
}
