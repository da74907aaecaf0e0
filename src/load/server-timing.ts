/**
 * Parses the `Server-Timing` response header (W3C Server Timing) that the service sends on every
 * response: `pool;dur=<ms>, db;dur=<ms>, app;dur=<ms>, total;dur=<ms>` (docs/service-api.md).
 */

export interface ServerTimingMetric {
  name: string;
  durationMs: number | undefined;
  description: string | undefined;
}

/** The service's four figures, in ms. `app` is what the service reports (total − pool − db). */
export interface ServiceTiming {
  totalMs: number;
  poolMs: number;
  dbMs: number;
  appMs: number;
  /** Statements the request ran, by `pool.statement[@endpoint]` (from db's desc), when the service said. */
  calls?: Record<string, number>;
  /** The driver's share of db: time from each result's first message to its end, and what it received. */
  driver?: { decodeMs: number; roundTrips: number; rows: number; bytes: number };
  /** The service's latest calibration probe (a trivial statement's round trip) and its sequence number. */
  probe?: { seq: number; ms: number };
}

/** `rt=2 rows=120 bytes=45210` → { rt: 2, rows: 120, bytes: 45210 }. */
function parseFields(desc: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (desc ?? '').split(/\s+/)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** `primary.query@lend-book-copy:2 primary.begin:1` → { 'primary.query@lend-book-copy': 2, 'primary.begin': 1 }. */
export function parseCalls(desc: string | undefined): Record<string, number> | undefined {
  if (!desc) return undefined;
  const out: Record<string, number> = {};
  for (const part of desc.split(/\s+/)) {
    const m = /^([a-z]+\.[a-z_]+(?:@[a-z0-9-]+)?):(\d+)$/.exec(part);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Splits on a delimiter outside double-quoted strings (desc="a, b" must not split). Runs on every
 * response the generator reads, so it slices instead of building strings a character at a time.
 */
function splitOutsideQuotes(text: string, delimiter: string): string[] {
  if (!text.includes('"')) return text.split(delimiter);
  const d = delimiter.charCodeAt(0);
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // 34 = '"', 92 = '\\' (an escaped quote does not toggle).
    if (c === 34 && text.charCodeAt(i - 1) !== 92) quoted = !quoted;
    else if (c === d && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.length < 2 || v.charCodeAt(0) !== 34 || v.charCodeAt(v.length - 1) !== 34) return v;
  const inner = v.slice(1, -1);
  return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
}

/** Every metric of one or more Server-Timing header values; malformed entries are skipped. */
export function parseServerTiming(header: string | readonly string[] | undefined): ServerTimingMetric[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(',');
  const metrics: ServerTimingMetric[] = [];
  for (const entry of splitOutsideQuotes(text, ',')) {
    const [rawName, ...params] = splitOutsideQuotes(entry, ';');
    const name = rawName?.trim() ?? '';
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) continue;
    let durationMs: number | undefined;
    let description: string | undefined;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const key = param.slice(0, eq).trim().toLowerCase();
      const value = unquote(param.slice(eq + 1));
      // The spec keeps the first occurrence of a parameter.
      if (key === 'dur' && durationMs === undefined) {
        const n = Number(value);
        if (value !== '' && Number.isFinite(n)) durationMs = n;
      } else if (key === 'desc' && description === undefined) {
        description = value;
      }
    }
    metrics.push({ name, durationMs, description });
  }
  return metrics;
}

/**
 * The service's timing, or undefined when `total` is missing (a response not produced by the
 * service, e.g. a proxy error). Missing pool/db count as 0 (a route that never touched a pool).
 */
export function serviceTiming(header: string | readonly string[] | undefined): ServiceTiming | undefined {
  const metrics = parseServerTiming(header);
  const dur = (name: string): number | undefined => metrics.find((m) => m.name === name)?.durationMs;
  const totalMs = dur('total');
  if (totalMs === undefined || totalMs < 0) return undefined;
  const poolMs = Math.max(0, dur('pool') ?? 0);
  const dbMs = Math.max(0, dur('db') ?? 0);
  const appMs = dur('app') ?? Math.max(0, totalMs - poolMs - dbMs);
  const calls = parseCalls(metrics.find((m) => m.name === 'db')?.description);
  const decode = metrics.find((m) => m.name === 'decode');
  const fields = parseFields(decode?.description);
  const driver =
    decode?.durationMs !== undefined && fields.rt !== undefined
      ? { decodeMs: Math.max(0, decode.durationMs), roundTrips: fields.rt, rows: fields.rows ?? 0, bytes: fields.bytes ?? 0 }
      : undefined;
  const probeMetric = metrics.find((m) => m.name === 'probe');
  const seq = parseFields(probeMetric?.description).seq;
  const probe = probeMetric?.durationMs !== undefined && seq !== undefined ? { seq, ms: probeMetric.durationMs } : undefined;
  return { totalMs, poolMs, dbMs, appMs, ...(calls ? { calls } : {}), ...(driver ? { driver } : {}), ...(probe ? { probe } : {}) };
}
