/**
 * Pure parts of the command path's cost levers (issue 15): the held lock set, what it leaves
 * uncovered, the btree predicates, and the config/flags that switch them.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.ts';
import { createRng } from '../../src/core/prng.ts';
import { boundaryOf, decide, type LibraryCommand } from '../../src/domain/library-commands.ts';
import { initialBookState } from '../../src/domain/book-state.ts';
import { initialReaderState } from '../../src/domain/reader-state.ts';
import { Command } from 'commander';
import { addPerfFlags, perfInput } from '../../src/cli/perf-flags.ts';
import { compileFilter } from '../../src/store/filter.ts';
import { appendLocks, heldLocks, readLocks, uncovered, type LockSet } from '../../src/store/lock-keys.ts';

function conflict(a: LockSet, b: LockSet): boolean {
  return a.keys.some((k, i) => {
    const j = b.keys.indexOf(k);
    return j >= 0 && (a.exclusive[i] || b.exclusive[j]);
  });
}

const rnd = createRng(9);
const id = (p: string, n: number) => `${p}-${1 + Math.floor(rnd() * n)}`;
const KINDS = ['add-book-copy', 'remove-book-copy', 'lend-book-copy', 'return-book-copy', 'register-reader', 'cancel-reader'] as const;
const randomCommand = (): LibraryCommand => ({ kind: KINDS[Math.floor(rnd() * KINDS.length)]!, bookId: id('b', 3), readerId: id('r', 3) }) as LibraryCommand;

/** Every event a command can write (decide from states where it succeeds). */
function written(cmd: LibraryCommand) {
  const book = { ...initialBookState(), inCirculation: cmd.kind !== 'add-book-copy', lentTo: cmd.kind === 'return-book-copy' && 'readerId' in cmd ? cmd.readerId : null };
  const reader = { ...initialReaderState(), registered: cmd.kind !== 'register-reader' };
  return decide(cmd, { book, reader });
}

describe('held locks', () => {
  it("cover every library command's own append: one lock round per command", () => {
    for (let i = 0; i < 300; i++) {
      const cmd = randomCommand();
      const f = boundaryOf(cmd);
      expect(uncovered(heldLocks(f), appendLocks(f, written(cmd))).keys, cmd.kind).toEqual([]);
    }
  });

  it('block every other writer of the boundary and every other held or consistent read of it (random commands)', () => {
    for (let i = 0; i < 500; i++) {
      const [a, b] = [randomCommand(), randomCommand()];
      const held = heldLocks(boundaryOf(a));
      const events = written(b);
      const touches = events.some((e) => boundaryOf(a).items.some((it) => it.types.includes(e.type) && Object.entries(it.payload?.anyOf?.[0] ?? {}).every(([k, v]) => e.payload[k] === v)));
      if (touches) {
        expect(conflict(held, appendLocks(boundaryOf(b), events)), `${a.kind} vs ${b.kind}`).toBe(true);
        expect(conflict(held, heldLocks(boundaryOf(b)))).toBe(true);
      }
      // A consistent read of the same boundary waits for the held transaction.
      expect(conflict(held, readLocks(boundaryOf(a)))).toBe(true);
    }
  });

  it('leave uncovered what the boundary does not read, in the mode it is wanted', () => {
    const f = boundaryOf({ kind: 'add-book-copy', bookId: 'b-1' });
    const extra = uncovered(heldLocks(f), appendLocks(f, [{ type: 'BookCopyLentToReader', payload: { BookID: 'b-1', ReaderID: 'r-9' } }]));
    // the reader's pair key, exclusive (the lend type key is held already: a book's boundary reads lends)
    expect(extra.exclusive).toEqual([true]);
    const other = uncovered(heldLocks(f), appendLocks(f, [{ type: 'Unrelated', payload: { BookID: 'b-1' } }]));
    expect(other.exclusive).toEqual([false]); // the unrelated type's key, shared
  });
});

describe('btree predicates', () => {
  it('use the indexed expression for BookID/ReaderID strings only, with an exact check, values bound', () => {
    const { where, params } = compileFilter(
      { items: [{ types: ['T'], payload: { anyOf: [{ BookID: "b'1" }, { BookID: 5 }, { Other: 'x' }, { ReaderID: 'r', Extra: 1 }] }, after: 7 }] },
      1,
      { index: 'btree' },
    );
    expect(where).toBe(
      "(event_type = ANY($1::text[]) AND (((payload->>'BookID') = $2::text AND (payload->'BookID') = $3::jsonb) OR payload @> $4::jsonb OR payload @> $5::jsonb OR " +
        "((payload->>'ReaderID') = $6::text AND payload @> $7::jsonb)) AND sequence_number > $8::bigint)",
    );
    expect(params).toEqual([['T'], "b'1", '"b\'1"', '{"BookID":5}', '{"Other":"x"}', 'r', '{"ReaderID":"r","Extra":1}', 7]);
  });

  it('take an SQL lower bound per item instead of `after`', () => {
    const { where } = compileFilter({ items: [{ types: ['T'], after: 3 }, { types: ['U'] }] }, 1, { afterSql: ['(SELECT 1)', undefined] });
    expect(where).toBe('((event_type = ANY($1::text[]) AND sequence_number > (SELECT 1)) OR (event_type = ANY($2::text[])))');
  });
});

describe('lever config and flags', () => {
  it('defaults, validation, and flags that a run hands to its service', () => {
    const d = resolveConfig({}).service;
    expect([d.locking, d.boundaryIndex, d.preparedStatements]).toEqual(['held', 'btree', true]);
    expect(() => resolveConfig({ service: { locking: 'loose' as 'held' } })).toThrow(/locking/);
    expect(() => resolveConfig({ service: { boundaryIndex: 'hash' as 'gin' } })).toThrow(/boundary index/);
    const input = perfInput({ locking: 'held', boundaryIndex: 'btree', preparedStatements: 'on' });
    const s = resolveConfig(input).service;
    expect([s.locking, s.boundaryIndex, s.preparedStatements]).toEqual(['held', 'btree', true]);
    // The flag's own parser refuses a value outside its choices, with the catalogue's BAD_FLAG.
    const cmd = addPerfFlags(new Command().exitOverride());
    expect(() => cmd.parse(['--locking', 'x'], { from: 'user' })).toThrow(/--locking must be one of held, check/);
    expect(cmd.parse(['--boundary-index', 'gin'], { from: 'user' }).opts()).toMatchObject({ boundaryIndex: 'gin' });
  });
});
