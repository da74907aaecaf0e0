import { describe, expect, it } from 'vitest';
import { parseServerTiming, serviceTiming } from '../../src/load/server-timing.ts';

describe('Server-Timing as the generator reads it on every response', () => {
  it("reads the service's header: the four figures, statement calls, decode and probe", () => {
    const header =
      'pool;dur=0.041, db;dur=1.234;desc="primary.query@lend-book-copy:2 primary.append@lend-book-copy:1", decode;dur=0.112;desc="rt=2 rows=3 bytes=912", probe;dur=0.201;desc="seq=7", app;dur=0.301, total;dur=1.576';
    expect(serviceTiming(header)).toEqual({
      totalMs: 1.576,
      poolMs: 0.041,
      dbMs: 1.234,
      appMs: 0.301,
      calls: { 'primary.query@lend-book-copy': 2, 'primary.append@lend-book-copy': 1 },
      driver: { decodeMs: 0.112, roundTrips: 2, rows: 3, bytes: 912 },
      probe: { seq: 7, ms: 0.201 },
    });
  });

  it('does not split inside quotes, unescapes, keeps the first dur, and skips malformed names', () => {
    expect(parseServerTiming(['a;desc="x, y; z";dur=1;dur=2', 'b;desc="say \\"hi\\""', 'bad name;dur=3', 'c'])).toEqual([
      { name: 'a', durationMs: 1, description: 'x, y; z' },
      { name: 'b', durationMs: undefined, description: 'say "hi"' },
      { name: 'c', durationMs: undefined, description: undefined },
    ]);
  });

  it('is undefined without total (not a response of the service)', () => {
    expect(serviceTiming('pool;dur=1')).toBeUndefined();
    expect(serviceTiming(undefined)).toBeUndefined();
  });
});
