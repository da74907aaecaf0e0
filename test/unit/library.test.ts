import { describe, expect, it } from 'vitest';
import type { DomainRejection } from '../../src/core/errors.ts';
import { decide, foldBoundary, type LibraryCommand } from '../../src/domain/library-commands.ts';
import { EVENT, READER_BOOK_LIMIT } from '../../src/domain/library-events.ts';
import { libraryHistory } from '../../src/domain/library-history.ts';
import type { StoredEvent } from '../../src/store/event-store.ts';

let seq = 0;
const stored = (type: string, payload: Record<string, string>): StoredEvent => ({
  sequenceNumber: ++seq,
  occurredAt: new Date().toISOString(),
  type,
  payload,
  metadata: {},
});

function code(cmd: LibraryCommand, events: StoredEvent[]): string {
  try {
    decide(cmd, foldBoundary(cmd, events));
    return 'ok';
  } catch (e) {
    return (e as DomainRejection).code;
  }
}

describe('library business rules', () => {
  const signed = stored(EVENT.signed, { ReaderID: 'r' });
  const added = stored(EVENT.added, { BookID: 'b' });
  const lend: LibraryCommand = { kind: 'lend-book-copy', bookId: 'b', readerId: 'r' };

  it('lends only a copy in circulation, not lent, to a registered reader under the limit', () => {
    expect(code(lend, [signed, added])).toBe('ok');
    expect(code(lend, [signed])).toBe('BOOK_NOT_IN_CIRCULATION');
    expect(code(lend, [added])).toBe('READER_NOT_REGISTERED');
    expect(code(lend, [signed, added, stored(EVENT.lent, { BookID: 'b', ReaderID: 'other' })])).toBe('BOOK_ALREADY_LENT');
    const ten = Array.from({ length: READER_BOOK_LIMIT }, (_, i) => stored(EVENT.lent, { BookID: `x${i}`, ReaderID: 'r' }));
    expect(code(lend, [signed, added, ...ten])).toBe('READER_LIMIT_REACHED');
    expect(code(lend, [signed, added, ...ten, stored(EVENT.returned, { BookID: 'x3', ReaderID: 'r' })])).toBe('ok');
  });

  it('returns, removes, registers and cancels by the rules', () => {
    const lent = stored(EVENT.lent, { BookID: 'b', ReaderID: 'r' });
    expect(code({ kind: 'return-book-copy', bookId: 'b', readerId: 'r' }, [signed, added, lent])).toBe('ok');
    expect(code({ kind: 'return-book-copy', bookId: 'b', readerId: 'q' }, [signed, added, lent])).toBe('BOOK_NOT_LENT_TO_READER');
    expect(code({ kind: 'remove-book-copy', bookId: 'b' }, [added, lent])).toBe('BOOK_ALREADY_LENT');
    expect(code({ kind: 'remove-book-copy', bookId: 'b' }, [])).toBe('BOOK_NOT_IN_CIRCULATION');
    expect(code({ kind: 'add-book-copy', bookId: 'b' }, [added])).toBe('BOOK_ALREADY_IN_CIRCULATION');
    expect(code({ kind: 'register-reader', readerId: 'r' }, [signed])).toBe('READER_ALREADY_REGISTERED');
    expect(code({ kind: 'cancel-reader', readerId: 'r' }, [signed, lent])).toBe('READER_HAS_BOOKS');
    expect(code({ kind: 'cancel-reader', readerId: 'r' }, [signed])).toBe('ok');
  });
});

describe('seed history', () => {
  it('is deterministic and every event is allowed by the rules when it happens', () => {
    const opts = { events: 20_000, books: 50, readers: 10, seed: 3, endAt: new Date('2026-01-01T00:00:00Z') };
    const history = [...libraryHistory(opts)];
    expect(history).toHaveLength(20_000);
    expect([...libraryHistory(opts)].slice(-5)).toEqual(history.slice(-5));
    const inCirculation = new Set<string>();
    const lentTo = new Map<string, string>();
    const held = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const e of history) {
      counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
      const b = e.payload.BookID!;
      const r = e.payload.ReaderID!;
      if (e.type === EVENT.added) {
        expect(inCirculation.has(b)).toBe(false);
        inCirculation.add(b);
      } else if (e.type === EVENT.removed) {
        expect(inCirculation.has(b) && !lentTo.has(b)).toBe(true);
        inCirculation.delete(b);
      } else if (e.type === EVENT.lent) {
        expect(inCirculation.has(b) && !lentTo.has(b)).toBe(true);
        expect(held.get(r) ?? 0).toBeLessThan(READER_BOOK_LIMIT);
        lentTo.set(b, r);
        held.set(r, (held.get(r) ?? 0) + 1);
      } else if (e.type === EVENT.returned) {
        expect(lentTo.get(b)).toBe(r);
        lentTo.delete(b);
        held.set(r, held.get(r)! - 1);
      }
    }
    // Roughly the study's mix after the initial registrations and additions.
    const lending = (counts.get(EVENT.lent) ?? 0) + (counts.get(EVENT.returned) ?? 0);
    expect(lending / 20_000).toBeGreaterThan(0.7);
    expect(history.at(-1)!.occurredAt.getTime()).toBeLessThanOrEqual(Date.parse('2026-01-01T00:00:00Z'));
    expect(history[0]!.occurredAt.getTime()).toBeLessThan(history.at(-1)!.occurredAt.getTime());
  });
});
