/**
 * A realistic, rule-consistent library history for seeding: every reader signs a contract, every
 * copy enters circulation, then the study's mix (20% circulation add/remove 50/50, 80% lending
 * lend/return 50/50) runs, each operation drawn so that it succeeds under the business rules.
 * Deterministic for a given seed.
 */
import { PickSet } from '../core/pick-set.ts';
import { createRng } from '../core/prng.ts';
import { EVENT, READER_BOOK_LIMIT, bookId, readerId, type LibraryEventType } from './library-events.ts';

export interface HistoryOptions {
  events: number;
  books: number;
  readers: number;
  seed?: number;
  /** Time of the last event; earlier ones are spaced `spacingMs` apart before it. */
  endAt?: Date;
  spacingMs?: number;
}

export interface HistoryEvent {
  occurredAt: Date;
  type: LibraryEventType;
  payload: { BookID?: string; ReaderID?: string };
}

export { bookId, readerId } from './library-events.ts';

export function* libraryHistory(options: HistoryOptions): Generator<HistoryEvent> {
  const { events, books, readers } = options;
  const rnd = createRng(options.seed ?? 1);
  const spacing = options.spacingMs ?? 50;
  const end = (options.endAt ?? new Date()).getTime();
  let emitted = 0;
  const at = () => new Date(end - (events - emitted) * spacing);
  const emit = (type: LibraryEventType, payload: HistoryEvent['payload']): HistoryEvent => {
    const e = { occurredAt: at(), type, payload };
    emitted++;
    return e;
  };

  const available = new PickSet<number>(); // in circulation, not lent
  const outOfCirculation = new PickSet<number>();
  const lent = new PickSet<number>();
  const lentTo = new Map<number, number>();
  const held = new Map<number, number>(); // reader -> count
  const canBorrow = new PickSet<number>();

  for (let r = 1; r <= readers && emitted < events; r++) {
    yield emit(EVENT.signed, { ReaderID: readerId(r) });
    held.set(r, 0);
    canBorrow.add(r);
  }
  for (let b = 1; b <= books; b++) {
    if (emitted < events) {
      yield emit(EVENT.added, { BookID: bookId(b) });
      available.add(b);
    } else outOfCirculation.add(b);
  }
  while (emitted < events) {
    const lending = rnd() < 0.8;
    const firstHalf = rnd() < 0.5;
    // Preferred operation first; if it cannot succeed now, its counterpart, then the other family
    // (e.g. with every copy lent, only a return is possible).
    const lendingOps = firstHalf ? ['lend', 'return'] : ['return', 'lend'];
    const circulationOps = firstHalf ? ['add', 'remove'] : ['remove', 'add'];
    const order = lending ? [...lendingOps, ...circulationOps] : [...circulationOps, ...lendingOps];
    let done = false;
    for (const op of order) {
      if (op === 'lend') {
        const b = available.pick(rnd);
        const r = canBorrow.pick(rnd);
        if (b === undefined || r === undefined) continue;
        available.delete(b);
        lent.add(b);
        lentTo.set(b, r);
        const n = (held.get(r) ?? 0) + 1;
        held.set(r, n);
        if (n >= READER_BOOK_LIMIT) canBorrow.delete(r);
        yield emit(EVENT.lent, { BookID: bookId(b), ReaderID: readerId(r) });
      } else if (op === 'return') {
        const b = lent.pick(rnd);
        if (b === undefined) continue;
        const r = lentTo.get(b)!;
        lent.delete(b);
        lentTo.delete(b);
        available.add(b);
        held.set(r, (held.get(r) ?? 1) - 1);
        canBorrow.add(r);
        yield emit(EVENT.returned, { BookID: bookId(b), ReaderID: readerId(r) });
      } else if (op === 'add') {
        const b = outOfCirculation.pick(rnd);
        if (b === undefined) continue;
        outOfCirculation.delete(b);
        available.add(b);
        yield emit(EVENT.added, { BookID: bookId(b) });
      } else {
        const b = available.pick(rnd);
        if (b === undefined) continue;
        available.delete(b);
        outOfCirculation.add(b);
        yield emit(EVENT.removed, { BookID: bookId(b) });
      }
      done = true;
      break;
    }
    if (!done) throw new Error('library history: no operation possible (needs at least one book and one reader)');
  }
}
