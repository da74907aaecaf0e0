/**
 * `--only generator-workers`: how far the paced engine goes with one and with two generator
 * processes (`--workers`), against a no-op HTTP server (test/helpers/delay-server.ts: its own
 * worker thread in the bench process, no delay). Achieved/target and schedule lag are measured by
 * the engine itself (client side); on a small machine the no-op server and the generator share the
 * cores, so a missed rate can be the server's or the machine's as much as the generator's (the
 * table gives the generators' CPU next to it).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { LatencyHistogram } from '../src/load/histogram.ts';
import { runPaced, type PacedRunResult } from '../src/load/paced-engine.ts';
import { runPacedWorkers } from '../src/load/paced-workers.ts';
import { createWorkload, WORKLOAD_PRESETS } from '../src/load/workload.ts';
import { startDelayServer } from '../test/helpers/delay-server.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

export async function generatorWorkers(ctx: BenchContext): Promise<BenchResult> {
  const server = await startDelayServer({});
  const spec = WORKLOAD_PRESETS['raw-query'];
  const durationMs = ctx.quick ? 3000 : 6000;
  const rows = [];
  try {
    for (const rate of [1000, 5000, 20_000]) {
      for (const workers of [1, 2]) {
        ctx.progress(`generator-workers: ${rate} req/s, ${workers} worker(s)`);
        const common = { url: server.url, rate, durationMs, warmupMs: 1000, seed: 1, keepSeconds: true };
        const r: PacedRunResult =
          workers === 1 ? await runPaced({ ...common, workload: createWorkload(spec) }) : await runPacedWorkers({ ...common, workers, spec });
        rows.push({
          rate,
          workers,
          achieved: r.achievedRate,
          ratio: (r.achievedRate ?? 0) / rate,
          scheduleLagP99Ms: r.scheduleLag.p99,
          scheduleLagMaxMs: r.scheduleLag.max,
          latencyP99Ms: r.latency.p99,
          sent: r.counters.sent,
          dropped: r.counters.dropped,
          timeouts: r.counters.timeouts,
          generatorCpuMean: r.client.cpuMean,
          warnings: r.warnings.map((w) => w.message),
        });
      }
    }
  } finally {
    await server.close();
  }
  const f = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? '-' : n.toFixed(d));
  return {
    name: 'generator-workers',
    measured: `client side: the paced engine (${durationMs / 1000} s window, 1 s warm-up, even arrivals) against a local no-op HTTP server in a worker thread of the bench process; CPU = the generator processes' cores (sum over workers)`,
    data: rows,
    table: [
      'target/s | workers | achieved/s | achieved/target | schedule lag p99 / max ms | latency p99 ms | dropped | timeouts | generator CPU (cores) | warnings',
      '--- | --- | --- | --- | --- | --- | --- | --- | --- | ---',
      ...rows.map(
        (r) =>
          `${r.rate} | ${r.workers} | ${f(r.achieved, 1)} | ${f(r.ratio, 4)} | ${f(r.scheduleLagP99Ms)} / ${f(r.scheduleLagMaxMs)} | ${f(r.latencyP99Ms)} | ${r.dropped} | ${r.timeouts} | ${f(r.generatorCpuMean)} | ${r.warnings.length}`,
      ),
    ].join('\n'),
  };
}

/**
 * A no-op HTTP server in its own process (so this process's CPU is the generator's alone), answering
 * every request at once with what the service sends besides its work: a small JSON body and a
 * Server-Timing header of the service's shape (pool, db with statement calls, decode, probe, app,
 * total), which the generator parses on every response.
 */
async function startNoopServerProcess(): Promise<{ url: string; close: () => Promise<void> }> {
  const script = `
const http = require('node:http');
const timing = 'pool;dur=0.041, db;dur=1.234;desc="primary.query@lend-book-copy:1 primary.append@lend-book-copy:1", decode;dur=0.112;desc="rt=2 rows=3 bytes=912", probe;dur=0.201;desc="seq=7", app;dur=0.301, total;dur=1.576';
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'server-timing': timing });
    res.end('{"position":"12345"}');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`no-op server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

export interface GeneratorCostRow {
  rate: number;
  /** 'esbench paced' or the reference: a bare undici Pool on a setTimeout chain, nothing recorded. */
  instrument: string;
  workload: string;
  sent: number;
  achieved: number | null;
  /** CPU of this (the generator's) process over the measured window, ms per request sent in it. */
  cpuMsPerRequest: number;
  cpuCores: number;
  scheduleLagP99Ms: number | null;
  timeouts: number;
}

/**
 * The reference: what sending at the rate costs with nothing but undici (the same Pool settings,
 * the same server, a POST with a JSON body like a lend, one setTimeout per arrival, the body
 * dumped, nothing parsed or recorded). The engine's cost above it is the engine's own.
 */
async function bareReference(url: string, rate: number, durationMs: number): Promise<GeneratorCostRow> {
  const pool = new Pool(url, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const body = '{"bookId":"book-1","readerId":"reader-1"}';
  const headers = { 'content-type': 'application/json' };
  const interval = 1000 / rate;
  const origin = performance.now();
  const measureAt = origin + 1000;
  const endAt = measureAt + durationMs;
  let i = 0;
  let sent = 0;
  let timeouts = 0;
  let mark: NodeJS.CpuUsage | undefined;
  let cpuMs = 0;
  const lag = new LatencyHistogram();
  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = performance.now();
      if (!mark && now >= measureAt) mark = process.cpuUsage();
      for (let due = origin + i * interval; due <= now && due < endAt; due = origin + ++i * interval) {
        if (due >= measureAt) {
          sent += 1;
          lag.record(now - due);
        }
        pool
          .request({ path: '/library/lend-book-copy', method: 'POST', headers, body, headersTimeout: 1000, bodyTimeout: 1000 })
          .then((res) => res.body.dump())
          .catch(() => (timeouts += 1));
      }
      if (now >= endAt) {
        const d = process.cpuUsage(mark);
        cpuMs = (d.user + d.system) / 1000;
        done();
        return;
      }
      setTimeout(tick, Math.max(0, origin + i * interval - performance.now()));
    };
    tick();
  });
  await pool.close();
  return {
    rate,
    instrument: 'reference: bare undici Pool',
    workload: 'one POST',
    sent,
    achieved: sent / (durationMs / 1000),
    cpuMsPerRequest: cpuMs / Math.max(1, sent),
    cpuCores: cpuMs / durationMs,
    scheduleLagP99Ms: lag.percentile(99),
    timeouts,
  };
}

/** CPU per request of the paced engine alone, in this process, against a no-op server process. */
export async function measureGeneratorCost(options: { rates: readonly number[]; durationMs: number; workload?: string; progress?: (l: string) => void }): Promise<GeneratorCostRow[]> {
  const server = await startNoopServerProcess();
  const name = (options.workload ?? 'study') as keyof typeof WORKLOAD_PRESETS;
  const rows: GeneratorCostRow[] = [];
  try {
    for (const rate of options.rates) {
      options.progress?.(`generator-cost: ${rate} req/s, workload ${name}, ${options.durationMs / 1000} s`);
      let mark: { cpu: NodeJS.CpuUsage; at: number } | undefined;
      let used: { cpuMs: number; wallMs: number } | undefined;
      const r = await runPaced({
        url: server.url,
        workload: createWorkload(WORKLOAD_PRESETS[name]),
        rate,
        durationMs: options.durationMs,
        warmupMs: 1000,
        seed: 1,
        onPhase: (phase) => {
          if (phase === 'measure') mark = { cpu: process.cpuUsage(), at: performance.now() };
          else if (mark) {
            const d = process.cpuUsage(mark.cpu);
            used = { cpuMs: (d.user + d.system) / 1000, wallMs: performance.now() - mark.at };
          }
        },
      });
      const sent = r.counters.sent;
      rows.push({
        rate,
        instrument: 'esbench paced',
        workload: name,
        sent,
        achieved: r.achievedRate,
        cpuMsPerRequest: used && sent > 0 ? used.cpuMs / sent : Number.NaN,
        cpuCores: used ? used.cpuMs / used.wallMs : Number.NaN,
        scheduleLagP99Ms: r.scheduleLag.p99,
        timeouts: r.counters.timeouts,
      });
      options.progress?.(`generator-cost: ${rate} req/s, reference (bare undici Pool), ${options.durationMs / 1000} s`);
      rows.push(await bareReference(server.url, rate, options.durationMs));
    }
  } finally {
    await server.close();
  }
  return rows;
}

/** `--only generator-cost`: the generator's CPU per request at 300 and 1,000 req/s (issue 15's budget: generator + observer ≤ 0.4 ms). */
export async function generatorCost(ctx: BenchContext): Promise<BenchResult> {
  const durationMs = ctx.quick ? 5000 : 10_000;
  const rows = await measureGeneratorCost({ rates: [300, 1000], durationMs, progress: ctx.progress });
  const f = (n: number | null | undefined, d = 3) => (n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
  return {
    name: 'generator-cost',
    measured: `client side: CPU of the generator's process (process.cpuUsage, all its threads) over the measured window (${durationMs / 1000} s, 1 s warm-up, study workload, even arrivals) / requests sent in it, against a no-op HTTP server in another process answering with a service-shaped Server-Timing header; the reference row: a bare undici Pool sending one POST per arrival against the same server, nothing recorded`,
    data: rows,
    table: [
      'target/s | instrument | sent | achieved/s | generator CPU ms/request | generator cores | schedule lag p99 ms | timeouts',
      '--- | --- | --- | --- | --- | --- | --- | ---',
      ...rows.map((r) => `${r.rate} | ${r.instrument} | ${r.sent} | ${f(r.achieved, 1)} | ${f(r.cpuMsPerRequest)} | ${f(r.cpuCores, 2)} | ${f(r.scheduleLagP99Ms, 2)} | ${r.timeouts}`),
    ].join('\n'),
  };
}
