/**
 * `npm run soak [-- --minutes 10 --rate 300 --warmup 60 --events 126000 --gin-fastupdate off --pool-max 60 --pool-min 20 --results results]`
 * (issue 5, "Load held"; not part of `npm test`).
 *
 * The study workload held at a fixed rate for a long time on a private embedded cluster (a
 * temporary directory, removed afterwards) seeded like the study's fresh database (~126K events,
 * with snapshots). One long trial, exactly as `esbench run` does it (service in its own process,
 * paced engine, observer), plus the resident memory of both processes every 5 s:
 *  - the service: `esbench_process_resident_memory_bytes` scraped from its /metrics (prom-client,
 *    portable), falling back to VmRSS in /proc/<pid>/status on Linux if a scrape fails;
 *  - the generator (this process): process.memoryUsage().rss.
 *
 * CPU over the measured window comes from the trial (observe/cpu-meter.ts): the service, this
 * process, and each PostgreSQL node's whole process tree (/proc), per request, with the rate at
 * which they would fill every CPU. The machine's load average is recorded too: on a shared 2-core
 * box a failed soak is usually a starved one, and the figures say so.
 *
 * Pass criteria (measured window = after the warm-up):
 *  - 0 errors: 5xx + transport errors + timeouts + other statuses + requests the generator dropped.
 *    4xx are business rejections of the workload (lend an already lent copy, ...): reported, not errors.
 *  - achieved rate within 1% of the target;
 *  - RSS growth < 10% for each process: median of the first minute of the window vs median of the
 *    last minute (windows of half the measured window each when it is shorter than 2 minutes).
 * The results JSON is saved before the summary is printed. Exit 0 pass, 1 a criterion failed,
 * 130 interrupted (Ctrl-C / SIGTERM: the run stops cleanly and what was measured is saved, marked partial).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import * as ss from 'simple-statistics';
import { request } from 'undici';
import { EmbeddedCluster, urlFor } from '../src/cluster/embedded-cluster.ts';
import { seedLibrary } from '../src/domain/seed.ts';
import type { SecondRecord } from '../src/load/latency-recorder.ts';
import { printCpuWindow } from '../src/report/cpu-printer.ts';
import { createRunDir, openResultsRoot, writeJson } from '../src/report/results-dir.ts';
import { applySchema } from '../src/store/schema.ts';
import { runTrial, trialConfig, type TrialResult } from '../src/tuner/trial.ts';

const RSS_INTERVAL_MS = 5000;
const PROGRESS_EVERY_S = 10;
const RSS_GROWTH_LIMIT = 0.1;
const RATE_TOLERANCE = 0.01;
const RSS_COMPARE_MS = 60_000;
/**
 * The observer keeps every sample in this process for the results file; at the usual 250 ms a
 * 10-minute soak would hold ~5,000 samples and that retained data would show up as generator RSS
 * growth. One per second still dates checkpoints and vacuums, which is all the soak reports.
 */
const OBSERVER_INTERVAL_MS = 1000;

// ---- flags
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '60' },
    events: { type: 'string', default: '126000' },
    results: { type: 'string', default: 'results' },
    /**
     * Off by default, because it measured cheaper here (100 req/s, 126K events): with it on, the GIN
     * pending list grew to 4,000 entries in 40 s (autovacuum_naptime 2 min), every boundary query
     * scans all of them (3.5 ms vs 1.3 ms), and the primary spent 6.8 instead of 5.1 ms of CPU per
     * command. `off` is the study's starting point, not its fix: seed 003's "CRITICAL FIX" removed
     * `fastupdate=off` (back to PostgreSQL's default `on`); `esbench study` tests that claim.
     */
    'gin-fastupdate': { type: 'string', default: 'off' },
    /**
     * The service's pools (both). max: the study's MaxConns 60. min: 20 (the study's MinConns
     * before its change; esbench's service default is the study's 2), because that is what held
     * here: with 2 the pool shrinks after every quiet half-minute and regrows in bursts, and a
     * request then waits for a new backend (the soak's 'pool exhaustion' episodes had the pool
     * never full); the 10-minute soak at 300 req/s had 2,827 timeouts with min 2 (2,361 of them in
     * its first 10 s, the tail of a cold start that the 60 s warm-up did not absorb) and 0 with
     * min 20 (one run each, README "The soak").
     */
    'pool-max': { type: 'string', default: '60' },
    'pool-min': { type: 'string', default: '20' },
  },
});
function positive(flag: string, raw: string | undefined, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    console.error(`soak: --${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number (got '${raw}')`);
    process.exit(2);
  }
  return n;
}
const minutes = positive('minutes', values.minutes);
const rate = positive('rate', values.rate);
const warmupS = positive('warmup', values.warmup, true);
const events = Math.round(positive('events', values.events));
const resultsRoot = values.results ?? 'results';
const ginFastupdateFlag = values['gin-fastupdate'];
if (ginFastupdateFlag !== 'on' && ginFastupdateFlag !== 'off') {
  console.error(`soak: --gin-fastupdate must be on or off (got '${ginFastupdateFlag}')`);
  process.exit(2);
}
const ginFastupdate = ginFastupdateFlag === 'on';
const poolMax = Math.round(positive('pool-max', values['pool-max']));
const poolMin = Math.round(positive('pool-min', values['pool-min'], true));

function soakTrialConfig() {
  const c = trialConfig({ rate, durationMs, warmupMs: Math.round(warmupS * 1000), sampleIntervalMs: OBSERVER_INTERVAL_MS });
  const pool = (p: (typeof c.pools)['primary']) => ({ ...p, max: poolMax, min: poolMin });
  const pools = { primary: pool(c.pools.primary), replica: pool(c.pools.replica) };
  for (const p of [pools.primary, pools.replica]) {
    if (p.min > p.max) {
      console.error(`soak: --pool-min (${p.min}) must not exceed --pool-max (${p.max})`);
      process.exit(2);
    }
  }
  return { ...c, pools };
}
const durationMs = Math.round(minutes * 60_000);
if (durationMs < 10_000) {
  console.error('soak: --minutes must give a measured window of at least 10 s');
  process.exit(2);
}
// Refuse a bad results directory now, not after ten minutes of load.
openResultsRoot(resultsRoot);

// ---- memory sampling
interface RssSample {
  /** Epoch ms. */
  at: number;
  generatorRss: number;
  /** V8 heap in use in this process (process.memoryUsage().heapUsed): tells retained data from RSS the allocator keeps. */
  generatorHeapUsed: number;
  serviceRss: number | null;
  serviceSource: 'metrics' | 'proc' | null;
}

const RSS_METRIC = /^esbench_process_resident_memory_bytes\s+([0-9.eE+]+)\s*$/m;

async function serviceRss(service: { url: string; pid: number }): Promise<{ bytes: number; source: 'metrics' | 'proc' } | null> {
  try {
    const r = await request(`${service.url}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await r.body.text();
    const m = r.statusCode === 200 ? RSS_METRIC.exec(text) : null;
    if (m) return { bytes: Number(m[1]), source: 'metrics' };
  } catch {
    /* fall through to /proc */
  }
  if (process.platform !== 'linux') return null;
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${service.pid}/status`, 'utf8'));
    return kb ? { bytes: Number(kb[1]) * 1024, source: 'proc' } : null;
  } catch {
    return null;
  }
}

function startRssSampler(service: { url: string; pid: number }, samples: RssSample[]): () => Promise<void> {
  let pending: Promise<void> | undefined;
  const take = (): void => {
    // A scrape still running (the service is very slow) is not stacked on.
    if (pending) return;
    const at = Date.now();
    const mem = process.memoryUsage();
    const generatorRss = mem.rss;
    const generatorHeapUsed = mem.heapUsed;
    pending = serviceRss(service)
      .then(
        (s) =>
          void samples.push({
            at,
            generatorRss,
            generatorHeapUsed,
            serviceRss: s?.bytes ?? null,
            serviceSource: s?.source ?? null,
          }),
      )
      .finally(() => (pending = undefined));
  };
  take();
  const timer = setInterval(take, RSS_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    await pending;
  };
}

const median = (xs: number[]): number | null => (xs.length > 0 ? ss.median(xs) : null);
const mb = (b: number | null | undefined): string => (b === null || b === undefined ? '-' : `${(b / 2 ** 20).toFixed(1)} MB`);
const clock = (s: number): string => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

// ---- criteria
interface Criterion {
  name: string;
  ok: boolean;
  text: string;
}

interface RssGrowth {
  process: 'service' | 'generator';
  firstWindow: [number, number];
  lastWindow: [number, number];
  firstSamples: number;
  lastSamples: number;
  firstMedian: number | null;
  lastMedian: number | null;
  growth: number | null;
}

function rssGrowth(samples: RssSample[], which: 'service' | 'generator', from: number, to: number): RssGrowth {
  const w = Math.min(RSS_COMPARE_MS, (to - from) / 2);
  const value = (s: RssSample): number | null => (which === 'service' ? s.serviceRss : s.generatorRss);
  const pick = (a: number, b: number): number[] =>
    samples.filter((s) => s.at >= a && s.at <= b).map(value).filter((v): v is number => v !== null);
  const first = pick(from, from + w);
  const last = pick(to - w, to);
  const firstMedian = median(first);
  const lastMedian = median(last);
  return {
    process: which,
    firstWindow: [from, from + w],
    lastWindow: [to - w, to],
    firstSamples: first.length,
    lastSamples: last.length,
    firstMedian,
    lastMedian,
    growth: firstMedian !== null && lastMedian !== null && first.length >= 2 && last.length >= 2 ? (lastMedian - firstMedian) / firstMedian : null,
  };
}

function evaluate(trial: TrialResult, rss: RssSample[]): { criteria: Criterion[]; growth: RssGrowth[]; errors: Record<string, number> } {
  const load = trial.load;
  const c = load.counters;
  const errors = { http5xx: c.http5xx, transportErrors: c.transportErrors, timeouts: c.timeouts, httpOther: c.httpOther, dropped: c.dropped };
  const errorTotal = Object.values(errors).reduce((a, b) => a + b, 0);
  const achieved = load.engine === 'paced' ? load.achievedRate : null;
  const from = load.engine === 'paced' ? load.measureStartedAt : null;
  const to = load.engine === 'paced' ? load.measureEndedAt : null;
  const growth = from !== null && to !== null ? (['service', 'generator'] as const).map((p) => rssGrowth(rss, p, from, to)) : [];
  const criteria: Criterion[] = [
    {
      name: 'errors',
      ok: errorTotal === 0,
      text: `${errorTotal} errors (5xx ${errors.http5xx}, transport ${errors.transportErrors}, timeouts ${errors.timeouts}, other ${errors.httpOther}, dropped ${errors.dropped}); 4xx rejections ${c.http4xx} (not errors)`,
    },
    {
      name: 'rate',
      ok: achieved !== null && Math.abs(achieved - rate) / rate <= RATE_TOLERANCE,
      text: `achieved ${achieved === null ? '-' : achieved.toFixed(2)} req/s vs target ${rate} (${achieved === null ? '-' : `${(((achieved - rate) / rate) * 100).toFixed(2)}%`}, limit ±${RATE_TOLERANCE * 100}%)`,
    },
    ...(growth.length > 0
      ? growth.map((g) => ({
          name: `rss-${g.process}`,
          ok: g.growth !== null && g.growth < RSS_GROWTH_LIMIT,
          text: `${g.process} RSS ${mb(g.firstMedian)} -> ${mb(g.lastMedian)} (${g.growth === null ? 'not enough samples' : `${g.growth >= 0 ? '+' : ''}${(g.growth * 100).toFixed(1)}%`}, limit +${RSS_GROWTH_LIMIT * 100}%; median of the first ${Math.round((g.firstWindow[1] - g.firstWindow[0]) / 1000)} s after warm-up [${g.firstSamples} samples] vs the last ${Math.round((g.lastWindow[1] - g.lastWindow[0]) / 1000)} s [${g.lastSamples} samples])`,
        }))
      : [{ name: 'rss', ok: false, text: 'RSS not evaluated: the measured window never started' }]),
  ];
  return { criteria, growth, errors };
}

// ---- the run
const controller = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals): void => {
  signals += 1;
  if (signals === 1) {
    console.error(`\nsoak: ${sig}: stopping; in-flight requests drain and what was measured is saved (again to abort now)`);
    controller.abort();
  } else {
    console.error('soak: second signal: removing the cluster and exiting');
    void cleanup().finally(() => process.exit(130));
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'esbench-soak-'));
// mkdtemp makes it 0700; postgres runs as an unprivileged user when we are root and must traverse it.
fs.chmodSync(tmp, 0o755);
const cluster = new EmbeddedCluster({ dataDir: path.join(tmp, 'cluster'), tuningDir: path.resolve('tuning'), onProgress: (l) => console.error(`cluster: ${l}`) });
let cleaned: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaned ??= cluster.destroy().finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
  return cleaned;
}

const startedAt = new Date().toISOString();
const loadAverageAtStart = os.loadavg();
const trialCfg = soakTrialConfig();
const soakConfig = { minutes, rate, warmupSeconds: warmupS, events, ginFastupdate, workload: 'study', rssIntervalMs: RSS_INTERVAL_MS, observerIntervalMs: OBSERVER_INTERVAL_MS, pools: trialCfg.pools };
const rss: RssSample[] = [];
let exitCode = 0;
try {
  const state = await cluster.up();
  const primaryUrl = urlFor(state.ports.primary);
  const replicaUrl = urlFor(state.ports.replica);

  // The study's fresh database: ~126K events with snapshots (as bench's server-overhead).
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    await applySchema(client, { ginFastupdate });
    let lastPrint = 0;
    const r = await seedLibrary(client, {
      events,
      books: 1000,
      readers: 100,
      seed: 1,
      reset: true,
      snapshots: true,
      signal: controller.signal,
      onProgress: (done, total) => {
        if (Date.now() - lastPrint >= PROGRESS_EVERY_S * 1000 || done === total) {
          lastPrint = Date.now();
          console.error(`seed: ${done}/${total} events`);
        }
      },
    });
    console.error(`seeded ${r.events} events (with snapshots) in ${r.copySeconds.toFixed(1)} s`);
  } finally {
    await client.end();
  }

  let stopRss: (() => Promise<void>) | undefined;
  // Progress: one line per PROGRESS_EVERY_S seconds of load, summed over those seconds.
  let acc = { seconds: 0, sent: 0, ok: 0, http4xx: 0, errors: 0, timeouts: 0, dropped: 0, worstP99: 0 };
  const onSecond = (s: SecondRecord): void => {
    const c = s.counters;
    acc.seconds += 1;
    acc.sent += c.sent;
    acc.ok += c.ok;
    acc.http4xx += c.http4xx;
    acc.errors += c.http5xx + c.transportErrors + c.httpOther;
    acc.timeouts += c.timeouts;
    acc.dropped += c.dropped;
    acc.worstP99 = Math.max(acc.worstP99, s.latency.p99 ?? 0);
    if (acc.seconds < PROGRESS_EVERY_S) return;
    const last = rss.at(-1);
    const when = s.phase === 'warmup' ? `warm-up ${clock(warmupS + s.index + 1)}/${clock(warmupS)}` : `${clock(s.index + 1)}/${clock(durationMs / 1000)}`;
    console.error(
      `soak ${when.padStart(16)} | sent ${acc.sent} (${(acc.sent / acc.seconds).toFixed(1)}/s) ok ${acc.ok} 4xx ${acc.http4xx} err ${acc.errors} timeout ${acc.timeouts} drop ${acc.dropped}` +
        ` | worst 1-s p99 ${acc.worstP99.toFixed(1)} ms | RSS service ${mb(last?.serviceRss)} generator ${mb(last?.generatorRss)}`,
    );
    acc = { seconds: 0, sent: 0, ok: 0, http4xx: 0, errors: 0, timeouts: 0, dropped: 0, worstP99: 0 };
  };

  let trial: TrialResult;
  try {
    trial = await runTrial(
      { primaryUrl, replicaUrl, embedded: cluster },
      trialCfg,
      process.env,
      {
        signal: controller.signal,
        onServiceStarted: (service) => {
          console.error(`soak: service pid ${service.pid} at ${service.url}; sampling RSS every ${RSS_INTERVAL_MS / 1000} s`);
          stopRss = startRssSampler(service, rss);
        },
        onSecond,
        onWarning: (w) => console.error(`warning: ${w.message}`),
        onStatus: (line) => console.error(`soak: ${line}`),
      },
    );
  } finally {
    await stopRss?.();
  }

  const { criteria, growth, errors } = evaluate(trial, rss);
  const loadAverageAtEnd = os.loadavg();
  const load = trial.load;
  const warmupCounters = load.seconds.filter((s) => s.phase === 'warmup').reduce(
    (a, s) => ({ http5xx: a.http5xx + s.counters.http5xx, transportErrors: a.transportErrors + s.counters.transportErrors, timeouts: a.timeouts + s.counters.timeouts }),
    { http5xx: 0, transportErrors: 0, timeouts: 0 },
  );
  const run = createRunDir(resultsRoot, 'soak');
  const file = path.join(run.dir, 'soak.json');
  // Saved before it is summarised.
  writeJson(file, {
    id: run.id,
    kind: 'soak',
    partial: trial.partial,
    startedAt,
    finishedAt: new Date().toISOString(),
    config: soakConfig,
    pass: criteria.every((c) => c.ok),
    criteria,
    errors,
    warmupErrors: warmupCounters,
    rss: { intervalMs: RSS_INTERVAL_MS, growth, samples: rss },
    cpu: trial.cpu,
    machineLoadAverage: { start: loadAverageAtStart, end: loadAverageAtEnd },
    trial,
  });

  const lat = load.latency;
  const out = [
    '',
    `soak: study workload, ${rate} req/s target, ${clock(durationMs / 1000)} measured after ${warmupS} s of warm-up${trial.partial ? ' (PARTIAL: interrupted)' : ''}`,
    `  machine: ${trial.machine.cpus} cpus, ${trial.machine.memGiB} GiB, node ${trial.machine.node}; store seeded with ${events} events + snapshots; GIN fastupdate ${ginFastupdate ? 'on' : 'off'}; service pools max ${poolMax} min ${poolMin}`,
    `  requests (window): sent ${load.counters.sent}, ok ${load.counters.ok}, 4xx ${load.counters.http4xx}, 5xx ${load.counters.http5xx}, transport ${load.counters.transportErrors}, timeouts ${load.counters.timeouts}, dropped ${load.counters.dropped}`,
    `  warm-up (not judged): 5xx ${warmupCounters.http5xx}, transport ${warmupCounters.transportErrors}, timeouts ${warmupCounters.timeouts}`,
    `  client latency (from the intended send): p50 ${lat.p50?.toFixed(2) ?? '-'} ms, p99 ${lat.p99?.toFixed(2) ?? '-'} ms, max ${lat.max?.toFixed(2) ?? '-'} ms`,
    `  RSS samples: ${rss.length} every ${RSS_INTERVAL_MS / 1000} s (service via ${[...new Set(rss.map((s) => s.serviceSource ?? 'none'))].join('/')})`,
    ...printCpuWindow(trial.cpu).slice(1),
    `  machine load average (1 min): ${loadAverageAtStart[0]!.toFixed(2)} at start, ${loadAverageAtEnd[0]!.toFixed(2)} at the end, on ${trial.machine.cpus} cpus (it counts every process on the machine)`,
    '',
    ...criteria.map((c) => `  ${c.ok ? 'PASS' : 'FAIL'}  ${c.name.padEnd(14)} ${c.text}`),
    '',
    `saved: ${file}`,
  ];
  console.log(out.join('\n'));
  exitCode = trial.partial ? 130 : criteria.every((c) => c.ok) ? 0 : 1;
} catch (e) {
  if (controller.signal.aborted) {
    // Interrupted before any load was measured (cluster start or seeding): record that much.
    const run = createRunDir(resultsRoot, 'soak');
    const file = path.join(run.dir, 'soak.json');
    writeJson(file, { id: run.id, kind: 'soak', partial: true, startedAt, finishedAt: new Date().toISOString(), config: soakConfig, stoppedBefore: 'load', reason: (e as Error).message, rss: { intervalMs: RSS_INTERVAL_MS, samples: rss } });
    console.error(`soak: interrupted before the load (${(e as Error).message}); saved: ${file}`);
    exitCode = 130;
  } else {
    console.error(`soak: ${(e as Error).stack ?? String(e)}`);
    exitCode = 1;
  }
} finally {
  await cleanup();
}
process.exit(exitCode);
