/** The one step that starts a fold from a snapshot and counts the hit or miss (commands and read models). */
import { describe, expect, it } from 'vitest';
import { readerItem } from '../../src/domain/library-events.ts';
import { readerProjection } from '../../src/domain/reader-state.ts';
import { resumeFromSnapshot } from '../../src/domain/snapshot-resume.ts';

const view = { projection: readerProjection, item: readerItem('r1') };

function counter() {
  const seen: string[] = [];
  return {
    seen,
    observer: { snapshot: (projection: string, outcome: string) => seen.push(`${projection}:${outcome}`) },
  };
}

describe('resumeFromSnapshot', () => {
  it('starts from a snapshot that parses, and counts a hit', () => {
    const c = counter();
    const r = resumeFromSnapshot(view, { state: { registered: true, books: ['b1'] }, sequenceNumber: 42 }, c.observer);
    expect(r).toEqual({ state: { registered: true, books: ['b1'] }, sequenceNumber: 42 });
    expect(c.seen).toEqual(['reader-lending@1:hit']);
  });

  it('counts a miss when there is no snapshot or it does not parse, and starts from the beginning', () => {
    const c = counter();
    expect(resumeFromSnapshot(view, undefined, c.observer)).toBeUndefined();
    expect(resumeFromSnapshot(view, { state: { books: 'not a list' }, sequenceNumber: 7 }, c.observer)).toBeUndefined();
    expect(c.seen).toEqual(['reader-lending@1:miss', 'reader-lending@1:miss']);
  });

  it('works without an observer', () => {
    expect(resumeFromSnapshot(view, undefined, undefined)).toBeUndefined();
  });
});
