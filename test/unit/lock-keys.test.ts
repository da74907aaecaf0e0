/**
 * Soundness of the advisory-lock keys: whenever an event can match a filter, appending it and
 * reading (or appending under) that filter must take at least one common key in conflicting modes.
 */
import { describe, expect, it } from 'vitest';
import { appendLocks, readLocks, type LockSet, type NewEvent } from '../../src/store/lock-keys.ts';
import type { Filter, FilterItem, JsonObject, JsonValue } from '../../src/store/filter.ts';
import { createRng } from '../../src/core/prng.ts';

/** jsonb @> semantics (for objects and arrays below the top level). */
function contains(a: JsonValue, b: JsonValue): boolean {
  if (Array.isArray(b)) return Array.isArray(a) && b.every((x) => a.some((y) => contains(y, x)));
  if (b !== null && typeof b === 'object') {
    return a !== null && typeof a === 'object' && !Array.isArray(a) && Object.entries(b).every(([k, v]) => k in a && contains(a[k]!, v));
  }
  return a === b;
}

function matches(e: NewEvent, item: FilterItem): boolean {
  if (!item.types.includes(e.type)) return false;
  const p = item.payload;
  if (p?.anyOf) return p.anyOf.some((o) => contains(e.payload, o));
  if (p?.allOf) return p.allOf.every((o) => contains(e.payload, o));
  return true;
}

function conflict(a: LockSet, b: LockSet): boolean {
  return a.keys.some((k, i) => {
    const j = b.keys.indexOf(k);
    return j >= 0 && (a.exclusive[i] || b.exclusive[j]);
  });
}

const rnd = createRng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const TYPES = ['A', 'B', 'C'];
const KEYS = ['BookID', 'ReaderID', 'tags'];
const VALUES: JsonValue[] = ['x', 'y', 1, true, null];

function randomValue(depth = 0): JsonValue {
  const r = rnd();
  if (r < 0.6 || depth > 1) return pick(VALUES);
  if (r < 0.8) return [pick(VALUES), pick(VALUES)];
  return { [pick(KEYS)]: randomValue(depth + 1) };
}
function randomObject(max = 3): JsonObject {
  const o: JsonObject = {};
  for (let i = 0; i < 1 + Math.floor(rnd() * max); i++) o[pick(KEYS)] = randomValue();
  return o;
}
function randomItem(): FilterItem {
  const types = [pick(TYPES), pick(TYPES)];
  const r = rnd();
  if (r < 0.15) return { types };
  const list = Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => (rnd() < 0.1 ? {} : randomObject(2)));
  return r < 0.6 ? { types, payload: { anyOf: list } } : { types, payload: { allOf: list } };
}

describe('lock keys', () => {
  it('are sorted ascending and unique (deadlock freedom relies on order)', () => {
    const l = appendLocks({ items: [randomItem(), randomItem()] }, [{ type: 'A', payload: randomObject() }]);
    const sorted = [...l.keys].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    expect(l.keys).toEqual(sorted);
    expect(new Set(l.keys).size).toBe(l.keys.length);
  });

  it('every event that can match a filter conflicts with its readers and its guarded appenders (20,000 random cases)', () => {
    let matched = 0;
    for (let n = 0; n < 20_000; n++) {
      const filter: Filter = { items: [randomItem(), ...(rnd() < 0.3 ? [randomItem()] : [])] };
      const e: NewEvent = { type: pick(TYPES), payload: randomObject() };
      if (!filter.items.some((i) => matches(e, i))) continue;
      matched++;
      const writer = appendLocks({ items: [randomItem()] }, [e]);
      expect(conflict(writer, readLocks(filter)), JSON.stringify({ filter, e })).toBe(true);
      expect(conflict(writer, appendLocks(filter, [{ type: 'Z', payload: {} }]))).toBe(true);
    }
    expect(matched).toBeGreaterThan(2000);
  });

  it('unrelated boundaries do not share keys (no needless waiting)', () => {
    const lendA = appendLocks({ items: [{ types: ['Lent'], payload: { anyOf: [{ BookID: 'a' }] } }] }, [{ type: 'Lent', payload: { BookID: 'a', ReaderID: 'r1' } }]);
    const lendB = appendLocks({ items: [{ types: ['Lent'], payload: { anyOf: [{ BookID: 'b' }] } }] }, [{ type: 'Lent', payload: { BookID: 'b', ReaderID: 'r2' } }]);
    expect(conflict(lendA, lendB)).toBe(false);
  });
});
