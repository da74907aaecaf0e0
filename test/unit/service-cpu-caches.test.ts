/**
 * The per-entity caches of the command path (README, "Service CPU per request"): a cached value
 * must equal what is computed from a fresh, unfrozen copy, and a cached object cannot be changed
 * under its key.
 */
import { describe, expect, it } from 'vitest';
import { snapshotKeyOf } from '../../src/domain/command-handler.ts';
import { boundaryOf, entitiesOf, type LibraryCommand } from '../../src/domain/library-commands.ts';
import { filterHash, type Filter } from '../../src/store/filter.ts';
import { appendLocks, heldLocks, readLocks } from '../../src/store/lock-keys.ts';

const lend: LibraryCommand = { kind: 'lend-book-copy', bookId: 'book-7', readerId: 'reader-3' };
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('command path caches', () => {
  it('reuses one frozen entity view per ID, and it cannot be changed', () => {
    const [a] = entitiesOf(lend);
    const [b] = entitiesOf({ kind: 'remove-book-copy', bookId: 'book-7' });
    expect(a!.view).toBe(b!.view);
    expect(Object.isFrozen(a!.view.item)).toBe(true);
    expect(() => {
      (a!.view.item.types as string[]).push('Other');
    }).toThrow(TypeError);
    expect(a!.view.item.types).not.toContain('Other');
  });

  it('snapshot keys of cached views equal those of fresh copies', () => {
    for (const e of entitiesOf(lend)) {
      expect(snapshotKeyOf(e.view)).toEqual({ projection: e.view.projection.name, filterHash: filterHash({ items: [copy(e.view.item)] }) });
      expect(snapshotKeyOf(e.view)).toBe(snapshotKeyOf(e.view));
    }
  });

  it('lock sets of frozen (cached) items equal those of unfrozen copies', () => {
    const commands: LibraryCommand[] = [
      lend,
      { kind: 'return-book-copy', bookId: 'book-1', readerId: 'reader-1' },
      { kind: 'add-book-copy', bookId: 'book-2' },
      { kind: 'cancel-reader', readerId: 'reader-9' },
    ];
    for (const cmd of commands) {
      const cached = boundaryOf(cmd);
      const fresh: Filter = copy(cached);
      const events = [{ type: 'BookCopyLentToReader', payload: { BookID: 'book-7', ReaderID: 'reader-3' } }];
      // Twice: the second call answers from the cache.
      for (let i = 0; i < 2; i++) {
        expect(heldLocks(cached)).toEqual(heldLocks(fresh));
        expect(readLocks(cached)).toEqual(readLocks(fresh));
        expect(appendLocks(cached, events)).toEqual(appendLocks(fresh, events));
      }
    }
  });

  it('an unfrozen item is not cached: changing it changes its lock set', () => {
    const filter: Filter = { items: [{ types: ['BookCopyAddedToCirculation'], payload: { anyOf: [{ BookID: 'x-1' }] } }] };
    const before = heldLocks(filter);
    filter.items[0]!.payload = { anyOf: [{ BookID: 'x-2' }] };
    expect(heldLocks(filter)).not.toEqual(before);
  });

  it('lock keys are sorted numerically as signed 64-bit integers', () => {
    const { keys } = heldLocks(boundaryOf(lend));
    const big = keys.map((k) => BigInt(k));
    expect([...big].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(big);
  });
});
