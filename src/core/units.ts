import { EsbenchError } from './errors.ts';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
  tb: 1024 ** 4,
  t: 1024 ** 4,
};

/** '250ms', '10s', '2min', '1h', or a bare number of milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = (m?.[2] ?? '').toLowerCase() || 'ms';
  const factor = DURATION_UNITS[unit];
  if (!m || factor === undefined) {
    throw new EsbenchError('BAD_FLAG', `${what} '${text}' is not a duration (examples: 250ms, 10s, 2min)`);
  }
  return Math.round(Number(m[1]) * factor);
}

/** '32GB', '512MB', '4g', or bytes. PostgreSQL's convention: 1 kB = 1024 B. */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = (m?.[2] ?? '').toLowerCase() || 'b';
  const factor = SIZE_UNITS[unit];
  if (!m || factor === undefined || Number(m[1]) <= 0) {
    throw new EsbenchError('BAD_FLAG', `${what} '${text}' is not a positive size (examples: 512MB, 32GB)`);
  }
  return Math.round(Number(m[1]) * factor);
}

export function parsePositiveInt(text: string, what: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new EsbenchError('BAD_FLAG', `${what} '${text}' is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new EsbenchError('BAD_FLAG', `${what} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function parsePositiveNumber(text: string, what: string): number {
  const n = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || !(n > 0)) throw new EsbenchError('BAD_FLAG', `${what} '${text}' is not a positive number`);
  return n;
}

/** Formats bytes as PostgreSQL accepts them in a config file ('4GB', '64MB', '512kB'). */
export function formatPgSize(bytes: number): string {
  const units: Array<[string, number]> = [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['kB', 1024],
  ];
  for (const [name, size] of units) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${name}`;
  }
  return `${Math.max(1, Math.round(bytes / 1024))}kB`;
}

/** Moved to format.ts (one set of formatters); re-exported for the callers that import it here. */
export { formatMs } from './format.ts';
