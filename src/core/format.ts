/**
 * The one set of number formatters for what esbench prints (printers, progress lines, health
 * figures). In core, not report, because health checks and progress lines compose their figure
 * text below the report layer. Every formatter prints '-' for a missing or non-finite number.
 */

/** A number or null from whatever a driver returned (pg gives bigint and numeric as strings). */
export function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** `v` with a fixed number of decimals. */
export function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** A value already in percent (0..100): two decimals under 10 %, one above. */
export function percent(v: unknown): string {
  const n = toNumber(v);
  return n === null ? '-' : `${n.toFixed(n < 10 ? 2 : 1)}%`;
}

/** A fraction (0..1) as a percentage with `digits` decimals. */
export function fractionPercent(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(digits)}%`;
}

/** Milliseconds, in seconds from 1000 ms up. */
export function formatMs(ms: number | null | undefined, digits = 2): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(digits)} s` : `${ms.toFixed(digits)} ms`;
}

/** Milliseconds with two decimals under 10 ms, one above (latencies of single statements). */
export function shortMs(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v)
    ? '-'
    : v < 10
      ? `${v.toFixed(2)} ms`
      : `${v.toFixed(1)} ms`;
}

/** Bytes in the largest binary unit that fits, rounded to a whole number of it ('3MB', '512 B'). */
export function formatBytes(v: unknown): string {
  const n = toNumber(v) ?? 0;
  const units: Array<[string, number]> = [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['kB', 1024],
  ];
  for (const [name, size] of units) if (n >= size) return `${Math.round(n / size)}${name}`;
  return `${n} B`;
}

/** How long ago, from an age in seconds ('never' when there is none). */
export function ago(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}
