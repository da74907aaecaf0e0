/**
 * Reading result JSON whose shape may drift: sweep.json, capacity.json and study.json are written by
 * other parts of esbench (and older runs stay on disk), so the report reads them field by field and
 * a missing or differently shaped part costs one figure or one section, never the page.
 */

export type Json = unknown;

export function rec(x: Json): Record<string, Json> | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, Json>) : undefined;
}

export function arr(x: Json): Json[] {
  return Array.isArray(x) ? x : [];
}

export function num(x: Json): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

export function str(x: Json): string | null {
  return typeof x === 'string' ? x : typeof x === 'number' && Number.isFinite(x) ? String(x) : null;
}

export function bool(x: Json): boolean | null {
  return typeof x === 'boolean' ? x : null;
}

/** The first of `keys` that `o` holds as a finite number. */
export function pickNum(o: Record<string, Json> | undefined, ...keys: string[]): number | null {
  if (!o) return null;
  for (const k of keys) {
    const v = num(o[k]);
    if (v !== null) return v;
  }
  return null;
}

export function pickStr(o: Record<string, Json> | undefined, ...keys: string[]): string | null {
  if (!o) return null;
  for (const k of keys) {
    const v = str(o[k]);
    if (v !== null) return v;
  }
  return null;
}

/** An estimate with its interval, as the tuner writes it: `{estimate, lo, hi}`, `[lo, hi]`, or a bare number. */
export interface Estimate {
  estimate: number | null;
  lo: number | null;
  hi: number | null;
  level: number | null;
}

export function estimateOf(x: Json): Estimate | null {
  const n = num(x);
  if (n !== null) return { estimate: n, lo: null, hi: null, level: null };
  if (Array.isArray(x) && x.length === 2) return { estimate: null, lo: num(x[0]), hi: num(x[1]), level: null };
  const o = rec(x);
  if (!o) return null;
  const ci = o.ci;
  const fromCi = Array.isArray(ci) ? { lo: num(ci[0]), hi: num(ci[1]) } : rec(ci) ? { lo: num(rec(ci)!.lo), hi: num(rec(ci)!.hi) } : null;
  const e: Estimate = {
    estimate: pickNum(o, 'estimate', 'mean', 'value', 'median'),
    lo: fromCi?.lo ?? pickNum(o, 'lo', 'low', 'lower'),
    hi: fromCi?.hi ?? pickNum(o, 'hi', 'high', 'upper'),
    level: pickNum(o, 'level') ?? (rec(ci) ? num(rec(ci)!.level) : null),
  };
  return e.estimate === null && e.lo === null && e.hi === null ? null : e;
}
