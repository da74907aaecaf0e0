import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.ts';
import { parseDuration, parseSize } from '../../src/core/units.ts';
import { redactUrl } from '../../src/core/redact.ts';

describe('config', () => {
  it('merges defaults, env and input; the result is frozen; the input is untouched', () => {
    const input = { pools: { primary: { min: 5 } } };
    const snapshot = structuredClone(input);
    const c = resolveConfig(input, { ESBENCH_PRIMARY_URL: 'postgres://u:p@h:5432/db' }, '/x');
    expect(c.pools.primary).toMatchObject({ min: 5, max: 60 });
    expect(c.pools.replica.min).toBe(2);
    expect(c.cluster.primaryUrl).toBe('postgres://u:p@h:5432/db');
    expect(c.cluster.dataDir).toBe('/x/.esbench');
    expect(Object.isFrozen(c.pools.primary)).toBe(true);
    expect(() => {
      (c.pools.primary as { min: number }).min = 1;
    }).toThrow();
    expect(input).toEqual(snapshot);
  });

  it('rejects invalid values with BAD_CONFIG', () => {
    expect(() => resolveConfig({ pools: { primary: { min: 10, max: 5 } } })).toThrow(/must not exceed/);
    expect(() => resolveConfig({ cluster: { primaryUrl: 'http://x' } })).toThrow(/postgres/);
    expect(() => resolveConfig({ service: { appendStrategy: 'yolo' as 'safe' } })).toThrow(/strategy/);
  });

  it('parses durations and sizes, and rejects nonsense', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2min')).toBe(120_000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    expect(parseSize('32GB')).toBe(32 * 1024 ** 3);
    expect(() => parseSize('-4GB')).toThrow();
    expect(() => parseSize('0')).toThrow();
  });

  it('redacts passwords from URLs', () => {
    expect(redactUrl('postgres://u:secret@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
  });
});
