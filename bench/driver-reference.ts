/**
 * `--only driver-reference`: one statement — the lend boundary query (a book's and a reader's
 * events) — timed by four independent instruments on the same server, to check what the split
 * calls "decode" and "wire":
 *  - pgbench (C, libpq, extended protocol; the values written into the SQL), client-side latency;
 *  - a bare node-postgres client (pg.Client, bound parameters), statement send → result;
 *  - esbench's own pool (DbPool with a Timing, as the service uses it): round trip and decode
 *    (first result message → result), rows and bytes received;
 *  - pg_stat_statements: execution + planning of the same statement (database side).
 * All at ~30 statements/s, one client, so queueing does not enter.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import * as ss from 'simple-statistics';
import { resolveConfig } from '../src/core/config.ts';
import { boundaryOf } from '../src/domain/library-commands.ts';
import { DbPool, Timing } from '../src/store/db-pool.ts';
import { SQL } from '../src/store/event-store.ts';
import { compileFilter } from '../src/store/filter.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The statement with its values as SQL literals (pgbench has no text parameters in scripts). */
function literal(text: string, params: unknown[]): string {
  const quote = (v: unknown): string => {
    if (Array.isArray(v)) return `ARRAY[${v.map(quote).join(', ')}]`;
    if (typeof v === 'number') return String(v);
    const t = String(v).replace(/'/g, "''");
    // pgbench reads `:name` as one of its variables, also inside a literal: write colons as \x3a.
    return t.includes(':') ? `E'${t.replace(/\\/g, '\\\\').replace(/:/g, '\\x3a')}'` : `'${t}'`;
  };
  return text.replace(/\$(\d+)/g, (_, n: string) => quote(params[Number(n) - 1]));
}

export async function driverReference(ctx: BenchContext): Promise<BenchResult> {
  if (!ctx.skipSeed) await ctx.reseed(ctx.quick ? 20_000 : 126_000);
  const n = ctx.quick ? 150 : 300;
  const { where, params } = compileFilter(boundaryOf({ kind: 'lend-book-copy', bookId: 'book-17', readerId: 'reader-42' }));
  const text = SQL.query(where);
  const admin = new pg.Client({ connectionString: ctx.primaryUrl });
  await admin.connect();
  // The three send the same SQL: one queryid (comments do not count), so each phase is read on
  // its own, between resets.
  const execOf = async (): Promise<{ calls: number; execMs: number; planMs: number }> => {
    const r = await admin.query<{ calls: string; exec: number; plan: number }>(
      `SELECT sum(calls) AS calls, sum(total_exec_time) / sum(calls) AS exec, sum(total_plan_time) / sum(calls) AS plan
         FROM pg_stat_statements WHERE query LIKE '%FROM events WHERE%' AND calls >= $1`,
      [n / 2],
    );
    return { calls: Number(r.rows[0]?.calls ?? 0), execMs: r.rows[0]?.exec ?? NaN, planMs: r.rows[0]?.plan ?? NaN };
  };
  const db: Record<string, { calls: number; execMs: number; planMs: number }> = {};
  const rows: Array<Record<string, unknown>> = [];
  try {
    await admin.query('SELECT pg_stat_statements_reset()');
    // 1. A bare node-postgres client.
    ctx.progress('driver-reference: bare node-postgres client');
    const bare = new pg.Client({ connectionString: ctx.primaryUrl });
    await bare.connect();
    const bareMs: number[] = [];
    let bareRows = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const r = await bare.query(`${text} /* ref-bare */`, params);
      bareMs.push(performance.now() - t0);
      bareRows = r.rowCount ?? 0;
      await sleep(33);
    }
    await bare.end();
    db.bare = await execOf();
    await admin.query('SELECT pg_stat_statements_reset()');
    // 2. esbench's pool, instrumented as in the service.
    ctx.progress('driver-reference: esbench DbPool');
    const pool = new DbPool('primary', ctx.primaryUrl, { ...resolveConfig({}).pools.primary, min: 1, max: 1 });
    await pool.start();
    const poolMs: number[] = [];
    const decodeMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const t = new Timing();
      await pool.query('refpool', text, params, t);
      poolMs.push(t.dbMs);
      decodeMs.push(t.decodeMs);
      bytes = t.bytes;
      await sleep(33);
    }
    await pool.close();
    db.pool = await execOf();
    await admin.query('SELECT pg_stat_statements_reset()');
    // 3. pgbench, the same statement, extended protocol, ~30/s.
    ctx.progress('driver-reference: pgbench');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-pgbench-'));
    const script = path.join(dir, 'query.sql');
    fs.writeFileSync(script, `${literal(text, params).replace(/\s+/g, ' ')} /* ref-pgbench */;\n`);
    let pgbenchMs: number | null = null;
    let pgbenchNote = '';
    try {
      const u = new URL(ctx.primaryUrl);
      const out = await run(
        'pgbench',
        ['-n', '-M', 'extended', '-c', '1', '-R', '30', '-t', String(n), '-f', script, '-h', u.hostname, '-p', u.port, '-U', decodeURIComponent(u.username), u.pathname.slice(1)],
        { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
      );
      const m = /latency average = ([\d.]+) ms/.exec(out.stdout);
      pgbenchMs = m ? Number(m[1]) : null;
      const lag = /schedule lag: avg ([\d.]+)/.exec(out.stdout);
      // With -R, pgbench's latency includes its own schedule lag: take it out.
      if (pgbenchMs !== null && lag) pgbenchMs -= Number(lag[1]);
    } catch (e) {
      const err = e as Error & { stderr?: string };
      pgbenchNote = `pgbench failed: ${(err.stderr || err.message).trim().split('\n').at(-1)}`;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    db.pgbench = await execOf();
    const none = { calls: 0, execMs: NaN, planMs: NaN };
    const mean = (xs: number[]) => ss.mean(xs);
    rows.push(
      { instrument: 'pgbench (libpq, C)', roundTripMs: pgbenchMs, decodeMs: null, dbMs: (db.pgbench ?? none).execMs + (db.pgbench ?? none).planMs, calls: (db.pgbench ?? none).calls, note: pgbenchNote },
      { instrument: 'bare node-postgres client', roundTripMs: mean(bareMs), decodeMs: null, dbMs: (db.bare ?? none).execMs + (db.bare ?? none).planMs, calls: (db.bare ?? none).calls, note: '' },
      { instrument: 'esbench DbPool (as in the service)', roundTripMs: mean(poolMs), decodeMs: mean(decodeMs), dbMs: (db.pool ?? none).execMs + (db.pool ?? none).planMs, calls: (db.pool ?? none).calls, note: '' },
    );
    const f = (v: unknown, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
    return {
      name: 'driver-reference',
      measured: `one statement (the lend boundary of book-17 + reader-42: ${bareRows} rows, ${(bytes / 1024).toFixed(1)} KiB), one client, ~30/s, ${n} calls each; round trip = client side (each instrument's own clock); DB = pg_stat_statements exec + plan of that instrument's calls`,
      data: rows,
      table: [
        'instrument | round trip mean ms | of which DB (exec + plan) ms | decode ms (esbench) | round trip − DB ms',
        '--- | --- | --- | --- | ---',
        ...rows.map((r) => `${r.instrument as string} | ${f(r.roundTripMs)} | ${f(r.dbMs)} | ${f(r.decodeMs)} | ${f((r.roundTripMs as number) - (r.dbMs as number))}${r.note ? ` (${r.note as string})` : ''}`),
      ].join('\n'),
    };
  } finally {
    await admin.end();
  }
}
