import { describe, expect, it } from 'vitest';
import { compileFilter, filterHash, validateFilter, type Filter } from '../../src/store/filter.ts';

describe('filter compilation', () => {
  it('binds every value as a parameter; the SQL text holds none of them', () => {
    const hostile = "'; DROP TABLE events; --";
    const f: Filter = {
      items: [
        { types: [hostile], payload: { anyOf: [{ BookID: hostile }, { ReaderID: 'r' }] }, occurredFrom: '2025-01-01T00:00:00Z', after: 5 },
        { types: ['T'], payload: { allOf: [{ a: 1 }, { b: [2] }] }, occurredTo: '2026-01-01T00:00:00Z' },
      ],
    };
    const { where, params } = compileFilter(f, 3);
    expect(where).not.toContain('DROP');
    expect(where).not.toContain('BookID');
    expect(params).toEqual([[hostile], '{"BookID":"'.concat(hostile.replaceAll('"', '\\"'), '"}'), '{"ReaderID":"r"}', '2025-01-01T00:00:00Z', 5, ['T'], '{"a":1}', '{"b":[2]}', '2026-01-01T00:00:00Z']);
    expect(where).toBe(
      '((event_type = ANY($3::text[]) AND (payload @> $4::jsonb OR payload @> $5::jsonb) AND occurred_at >= $6::timestamptz AND sequence_number > $7::bigint) OR ' +
        '(event_type = ANY($8::text[]) AND payload @> $9::jsonb AND payload @> $10::jsonb AND occurred_at < $11::timestamptz))',
    );
  });

  it('rejects structurally invalid filters', () => {
    expect(() => validateFilter({ items: [] })).toThrow(/at least one item/);
    expect(() => validateFilter({ items: [{ types: [] }] })).toThrow(/event type/);
    expect(() => validateFilter({ items: [{ types: ['T'], payload: {} }] })).toThrow(/anyOf or allOf/);
    expect(() => validateFilter({ items: [{ types: ['T'], occurredFrom: 'yesterday' }] })).toThrow(/timestamp/);
    expect(() => validateFilter({ items: [{ types: ['T'], payload: { anyOf: [{ a: 1 }] } }] })).not.toThrow();
  });

  it('hashes canonically: key order does not matter, values do', () => {
    const a: Filter = { items: [{ types: ['T'], payload: { anyOf: [{ x: 1, y: 2 }] } }] };
    const b: Filter = { items: [{ payload: { anyOf: [{ y: 2, x: 1 }] }, types: ['T'] }] };
    const c: Filter = { items: [{ types: ['T'], payload: { anyOf: [{ x: 1, y: 3 }] } }] };
    expect(filterHash(a)).toBe(filterHash(b));
    expect(filterHash(a)).not.toBe(filterHash(c));
  });
});
