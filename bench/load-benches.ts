/**
 * Issue 3's benchmarks:
 *  - generator accuracy: the paced engine against a tiny local HTTP server (own worker thread,
 *    no delay) at 300, 1000, 3000 req/s: achieved/target, schedule lag, and the largest burst
 *    (most requests sent within any 10 ms), all measured by the engine itself (client side);
 *  - server overhead at 300 req/s of the study workload: the split's app overhead (service side:
 *    Server-Timing total − DB round trip − pool wait), p50/p99, and the rest of the split;
 *  - service append throughput vs pgbench running the same statements (BEGIN, esbench_lock_keys,
 *    the checked INSERT, COMMIT) with the same number of clients, closed loop, on the primary.
 */
import { printCpuWindow } from '../src/report/cpu-printer.ts';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runAutocannon } from '../src/load/autocannon-engine.ts';
import { runPaced } from '../src/load/paced-engine.ts';
import type { Workload } from '../src/load/workload.ts';
import { createWorkload, resolveWorkloadSpec, WORKLOAD_PRESETS } from '../src/load/workload.ts';
import { startServiceProcess } from '../src/load/service-process.ts';
import { compileFilter } from '../src/store/filter.ts';
import { SQL } from '../src/store/event-store.ts';
import { runTrial, trialConfig } from '../src/tuner/trial.ts';
import { startDelayServer } from '../test/helpers/delay-server.ts';
import type { BenchContext, BenchResult } from './bench-context.ts';

const run = promisify(execFile);

function getWorkload(): Workload {
  const spec = WORKLOAD_PRESETS.study;
  return {
    spec,
    next: () => ({ endpoint: 'get', method: 'GET', path: '/fast', body: undefined, pick: undefined }),
    complete: () => {},
    stats: () => ({ planned: {}, model: null }),
  };
}

export async function generatorAccuracy(ctx: BenchContext): Promise<BenchResult> {
  const server = await startDelayServer({ '/fast': 0 });
  const rows = [];
  try {
    for (const rate of [300, 1000, 3000]) {
      ctx.progress(`generator-accuracy: ${rate} req/s`);
      const r = await runPaced({ url: server.url, workload: getWorkload(), rate, durationMs: ctx.quick ? 3000 : 10_000, warmupMs: 1000, seed: 1 });
      const perSecond = r.sentPerSecond;
      rows.push({
        rate,
        achieved: r.achievedRate,
        ratio: (r.achievedRate ?? 0) / rate,
        sentPerSecondMin: perSecond?.min ?? null,
        sentPerSecondMax: perSecond?.max ?? null,
        scheduleLagP99Ms: r.scheduleLag.p99,
        scheduleLagMaxMs: r.scheduleLag.max,
        latencyP50Ms: r.latency.p50,
        latencyP99Ms: r.latency.p99,
        clientCpuMax: r.client.cpuMax,
        warnings: r.warnings.map((w) => w.message),
      });
    }
  } finally {
    await server.close();
  }
  const f = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? '-' : n.toFixed(d));
  return {
    name: 'generator-accuracy',
    measured: 'client side (the paced engine against a local no-delay HTTP server in a worker thread); burst = the most requests sent in one second vs the target',
    data: rows,
    table: [
      'target/s | achieved/s | achieved/target | sent per second min..max | schedule lag p99 / max ms | latency p50 / p99 ms | warnings',
      '--- | --- | --- | --- | --- | --- | ---',
      ...rows.map(
        (r) =>
          `${r.rate} | ${f(r.achieved, 1)} | ${f(r.ratio, 4)} | ${r.sentPerSecondMin ?? '-'}..${r.sentPerSecondMax ?? '-'} | ${f(r.scheduleLagP99Ms)} / ${f(r.scheduleLagMaxMs)} | ${f(r.latencyP50Ms)} / ${f(r.latencyP99Ms)} | ${r.warnings.length}`,
      ),
    ].join('\n'),
  };
}

export async function serverOverhead(ctx: BenchContext): Promise<BenchResult> {
  await ctx.reseed(ctx.quick ? 20_000 : 126_000, { snapshots: true });
  ctx.progress('server-overhead: study workload at 300 req/s');
  const trial = await runTrial(ctx, trialConfig({ rate: 300, durationMs: ctx.quick ? 10_000 : 30_000 }), process.env);
  const rows = trial.split.endpoints.map((e) => {
    const get = (k: string) => e.rows.find((r) => r.component === k);
    return {
      endpoint: e.endpoint,
      n: e.requests,
      appP50: get('appOverhead')?.p50 ?? null,
      appP99: get('appOverhead')?.p99 ?? null,
      serverP50: get('server')?.p50 ?? null,
      serverP99: get('server')?.p99 ?? null,
      dbRoundTripMean: get('dbRoundTrip')?.mean ?? null,
      dbExecMean: get('dbExecution')?.mean ?? null,
      clientP99: get('client')?.p99 ?? null,
    };
  });
  const f = (n: number | null, d = 2) => (n === null ? '-' : n.toFixed(d));
  const load = trial.load;
  return {
    name: 'server-overhead',
    measured:
      'app overhead = service side, per request (Server-Timing total − db − pool); DB exec = pg_stat_statements; client = paced engine; study workload at 300 req/s on a 126K-event store with snapshots',
    data: { achievedRate: load.engine === 'paced' ? load.achievedRate : null, counters: load.counters, rows, cpu: trial.cpu },
    table: [
      `achieved ${load.engine === 'paced' ? f(load.achievedRate, 1) : '-'} req/s, ok ${load.counters.ok}, timeouts ${load.counters.timeouts}, 5xx ${load.counters.http5xx}`,
      '',
      'endpoint | n | app overhead p50 / p99 ms | server p50 / p99 ms | DB round trip mean ms | DB exec mean ms | client p99 ms',
      '--- | --- | --- | --- | --- | --- | ---',
      ...rows.map((r) => `${r.endpoint} | ${r.n} | ${f(r.appP50)} / ${f(r.appP99)} | ${f(r.serverP50)} / ${f(r.serverP99)} | ${f(r.dbRoundTripMean)} | ${f(r.dbExecMean, 3)} | ${f(r.clientP99)}`),
      ...printCpuWindow(trial.cpu),
    ].join('\n'),
  };
}

/**
 * The safe append's statements as a pgbench script. Run with `-M simple`, so pgbench substitutes
 * the variables as literals and PostgreSQL plans each statement with its values, as it does for
 * the service's unnamed parameterized statements (custom plans). An expression such as
 * jsonb_build_object(...) instead would hide the value from the planner and change the plan.
 */
function pgbenchScript(): string {
  const filter = { items: [{ types: ['BenchmarkEventAppended'], payload: { anyOf: [{ BenchID: 'x' }] } }] };
  const { where } = compileFilter(filter, 5);
  const sql = SQL.appendChecked(where)
    .replace('$1::text[]', "ARRAY['BenchmarkEventAppended']::text[]")
    .replace('$2::jsonb[]', `ARRAY['{"BenchID":"pgb-:id"}'::jsonb]`)
    .replace('$3::jsonb[]', "ARRAY['{}'::jsonb]")
    .replace('$4::bigint', '0::bigint')
    .replace('$5::text[]', "ARRAY['BenchmarkEventAppended']::text[]")
    .replace('$6::jsonb', `'{"BenchID":"pgb-:id"}'::jsonb`)
    .replace(/\s+/g, ' ');
  return [
    '\\set id random(1, 2000000000)',
    '\\set k1 random(1, 9000000000000000000)',
    '\\set k2 random(1, 9000000000000000000)',
    'BEGIN;',
    'SELECT esbench_lock_keys(ARRAY[:k1, :k2]::bigint[], ARRAY[false, true]);',
    `${sql};`,
    'COMMIT;',
    '',
  ].join('\n');
}

export async function appendThroughput(ctx: BenchContext): Promise<BenchResult> {
  await ctx.reseed(ctx.quick ? 20_000 : 126_000);
  const clients = 16;
  const seconds = ctx.quick ? 5 : 15;
  const service = await startServiceProcess({
    primaryUrl: ctx.primaryUrl,
    replicaUrl: ctx.replicaUrl,
    args: ['--pool-max', String(clients), '--pool-min', String(clients)],
    env: process.env,
  });
  let serviceRate: number;
  try {
    ctx.progress(`append-throughput: service /events/append, autocannon ${clients} connections, ${seconds}s`);
    const r = await runAutocannon({ url: service.url, workload: createWorkload(resolveWorkloadSpec({ preset: 'raw-append' })), connections: clients, durationMs: seconds * 1000 });
    serviceRate = r.counters.ok / (seconds || 1);
  } finally {
    await service.stop();
  }
  let pgbenchTps: number | null = null;
  let pgbenchNote = '';
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'esb-pgbench-')), 'append.sql');
  fs.writeFileSync(script, pgbenchScript());
  try {
    ctx.progress(`append-throughput: pgbench, same statements, ${clients} clients, ${seconds}s`);
    const { stdout } = await run('pgbench', ['-n', '-M', 'simple', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', script, ctx.primaryUrl], {
      maxBuffer: 1 << 20,
    });
    pgbenchTps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  } catch (e) {
    pgbenchNote = `pgbench not run: ${(e as Error).message.split('\n')[0]}`;
  }
  const ratio = pgbenchTps ? serviceRate / pgbenchTps : null;
  return {
    name: 'append-throughput',
    measured: `closed loop, ${clients} clients, ${seconds}s, on the primary: service = autocannon against POST /events/append (service in its own process), pgbench = the same BEGIN/lock/append/COMMIT statements straight to PostgreSQL`,
    data: { clients, seconds, serviceAppendsPerSecond: serviceRate, pgbenchTps, ratio, note: pgbenchNote },
    table: [
      'service appends/s | pgbench tps (same SQL) | service / pgbench',
      '--- | --- | ---',
      `${serviceRate.toFixed(0)} | ${pgbenchTps === null ? '-' : pgbenchTps.toFixed(0)} | ${ratio === null ? '-' : ratio.toFixed(2)}`,
      ...(pgbenchNote ? ['', pgbenchNote] : []),
    ].join('\n'),
  };
}

/** Append latency vs table size: raw appends at a fixed 100 req/s on 10K and 450K events. */
export async function appendLatency(ctx: BenchContext): Promise<BenchResult> {
  const rows = [];
  for (const events of [10_000, 450_000]) {
    await ctx.reseed(events);
    ctx.progress(`append-latency: raw appends at 100 req/s on ${events} events`);
    const trial = await runTrial(
      ctx,
      trialConfig({ rate: 100, durationMs: ctx.quick ? 5000 : 20_000, warmupMs: 2000, workload: resolveWorkloadSpec({ preset: 'raw-append' }) }),
      process.env,
    );
    const e = trial.split.endpoints.find((x) => x.endpoint === 'events-append');
    const get = (k: string) => e?.rows.find((r) => r.component === k);
    const stmt = trial.observation?.statements.find((w) => w.node === 'primary')?.byName.append;
    rows.push({ events, serverP50: get('server')?.p50 ?? null, serverP99: get('server')?.p99 ?? null, appendExecMeanMs: stmt?.meanExecMs ?? null, calls: stmt?.calls ?? 0 });
  }
  const f = (n: number | null, d = 2) => (n === null ? '-' : n.toFixed(d));
  return {
    name: 'append-latency',
    measured: 'server = Server-Timing total of POST /events/append (service side); append exec = pg_stat_statements mean of the checked INSERT (primary); 100 req/s, fresh boundary per append',
    data: rows,
    table: ['events | server p50 ms | server p99 ms | append statement exec mean ms (calls)', '--- | --- | --- | ---', ...rows.map((r) => `${r.events} | ${f(r.serverP50)} | ${f(r.serverP99)} | ${f(r.appendExecMeanMs, 3)} (${r.calls})`)].join('\n'),
  };
}
