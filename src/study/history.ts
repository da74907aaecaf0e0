/**
 * The study's history: seeded once, then put back before every trial.
 *
 * Each trial appends thousands of events. Left in place, the history would grow through the study
 * and every later trial would fold longer boundaries than the earlier ones (with full re-folds,
 * the cost of a command grows with the history), so the order of the trials would decide the
 * comparison. Before each trial the events and snapshots written after the seeded base are
 * deleted and the tables vacuumed (which also empties the GIN pending lists), so every trial starts
 * from the same history.
 */
import type pg from 'pg';

export interface HistoryBase {
  /** Last sequence number of the seeded history. */
  lastSequence: number;
  events: number;
}

const BASE_SQL = 'SELECT coalesce(max(sequence_number), 0)::bigint AS last, count(*)::bigint AS n FROM events';
const DELETE_EVENTS_SQL = 'DELETE FROM events WHERE sequence_number > $1';
const DELETE_SNAPSHOTS_SQL = 'DELETE FROM snapshots WHERE sequence_number > $1';
const VACUUM_SQL = 'VACUUM (ANALYZE) events, snapshots';

export async function readHistoryBase(client: pg.ClientBase): Promise<HistoryBase> {
  const row = (await client.query<{ last: string; n: string }>(BASE_SQL)).rows[0];
  return { lastSequence: Number(row?.last ?? 0), events: Number(row?.n ?? 0) };
}

/** Deletes what trials appended after the base; returns the number of events removed. */
export async function resetHistory(client: pg.ClientBase, base: HistoryBase): Promise<number> {
  const removed = (await client.query(DELETE_EVENTS_SQL, [base.lastSequence])).rowCount ?? 0;
  await client.query(DELETE_SNAPSHOTS_SQL, [base.lastSequence]);
  await client.query(VACUUM_SQL);
  return removed;
}
