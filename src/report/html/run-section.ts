/**
 * The sections of one run (run.json = TrialResult): what ran, the per-second timeline with its
 * spikes and their causes, the latency split per endpoint as a waterfall, the database as the
 * observer saw it, and CPU per process. Read field by field (see loose.ts): an older or newer
 * run.json loses a figure, not the report.
 */
import { APPLICATION_NAMES } from '../../core/application-names.ts';
import { renderChart } from '../charts/chart-renderer.ts';
import { timelineSpec, type TimelineBand, type TimelineDb, type TimelineSecond } from '../charts/timeline-chart.ts';
import { waterfallSpec, type WaterfallStep } from '../charts/waterfall-chart.ts';
import { arr, num, pickNum, rec, str, type Json } from './loose.ts';
import { figure, fmt, join, list, note, para, table, type Cell, type Rendered, type Section } from './markup.ts';

/** Where each split component was measured, in the waterfall's colour legend. */
const WHERE: Record<string, string> = {
  dbExecution: 'database (pg_stat_statements)',
  dbPlanning: 'database (pg_stat_statements)',
  wire: 'service (calibration probe)',
  decode: 'service (Server-Timing)',
  dbUnexplained: 'derived (a difference)',
  dbRoundTrip: 'service (Server-Timing)',
  poolWait: 'service (Server-Timing)',
  networkProtocol: 'derived (a difference)',
  appOverhead: 'derived (a difference)',
  clientTransport: 'derived (a difference)',
  client: 'client (load generator)',
};

// networkProtocol: runs saved before the round trip was split into planning, wire, decode and the rest.
const PART_ORDER = ['dbExecution', 'dbPlanning', 'wire', 'decode', 'dbUnexplained', 'dbRoundTrip', 'networkProtocol', 'poolWait', 'appOverhead', 'clientTransport'];

function counters(x: Json) {
  const c = rec(x);
  return {
    sent: num(c?.sent) ?? 0,
    completed: num(c?.completed) ?? 0,
    ok: num(c?.ok) ?? 0,
    http4xx: num(c?.http4xx) ?? 0,
    http5xx: num(c?.http5xx) ?? 0,
    transportErrors: num(c?.transportErrors) ?? 0,
    timeouts: num(c?.timeouts) ?? 0,
    dropped: num(c?.dropped) ?? 0,
  };
}

export function timelineSeconds(run: Record<string, Json>): TimelineSecond[] {
  return arr(rec(run.load)?.seconds)
    .map(rec)
    .filter((s): s is Record<string, Json> => s !== undefined && (str(s.phase) ?? 'measure') === 'measure')
    // The drain's empty tail is not part of the window (as in the spike detection).
    .filter((s) => {
      const c = counters(s.counters);
      return c.sent + c.completed + c.timeouts > 0;
    })
    .map((s) => {
      const c = counters(s.counters);
      const lat = rec(s.latency);
      return {
        second: num(s.index) ?? 0,
        p50: num(lat?.p50),
        p99: num(lat?.p99),
        sent: c.sent,
        completed: c.completed,
        timeouts: c.timeouts,
        errors: c.http5xx + c.transportErrors,
        dropped: c.dropped,
      };
    });
}


/** The primary's samples on the timeline's seconds: GIN pending lists and the service's backends. */
export function timelineDb(run: Record<string, Json>, node = 'primary'): TimelineDb | null {
  const load = rec(run.load);
  const firstSecond = rec(arr(load?.seconds).map(rec).find((s) => str(s?.phase) === 'measure'));
  const origin = pickNum(load, 'measureStartedAt') ?? num(firstSecond?.startedAt);
  const sampler = arr(rec(run.observation)?.samplers).map(rec).find((s) => str(s?.node) === node);
  const samples = arr(sampler?.samples).map(rec).filter((s): s is Record<string, Json> => s !== undefined && num(s.at) !== null);
  if (origin === null || samples.length === 0) return null;
  const end = pickNum(load, 'measureEndedAt');
  const inWindow = samples.filter((s) => num(s.at)! >= origin && (end === null || num(s.at)! <= end + 1000));
  const gin: TimelineDb['gin'] = [];
  const backends: TimelineDb['backends'] = [];
  for (const s of inWindow) {
    const second = (num(s.at)! - origin) / 1000;
    for (const g of arr(s.gin).map(rec)) {
      const tuples = num(g?.pendingTuples);
      if (g && tuples !== null) gin.push({ second, index: str(g.index) ?? '?', tuples });
    }
    let active = 0;
    let waiting = 0;
    for (const b of arr(s.backends).map(rec)) {
      const app = str(b?.application) ?? '';
      if (!b || app === APPLICATION_NAMES.observer || !app.startsWith('esbench_')) continue;
      const n = num(b.count) ?? 0;
      if (str(b.waitEventType) === 'Lock') waiting += n;
      else if (str(b.state) === 'active') active += n;
    }
    backends.push(
      { second, series: 'active (service)', count: active },
      { second, series: 'waiting on a lock (service)', count: waiting },
      { second, series: 'autovacuum / analyze workers', count: arr(s.maintenance).length },
    );
  }
  return gin.length + backends.length > 0 ? { node, gin, backends } : null;
}

interface SpikeView {
  n: number;
  first: number;
  last: number;
  worstP99: number | null;
  timeouts: number;
  errors: number;
  causes: string[];
}

function spikesOf(run: Record<string, Json>): SpikeView[] {
  return arr(rec(run.spikes)?.spikes)
    .map(rec)
    .filter((s): s is Record<string, Json> => s !== undefined)
    .map((s, i) => ({
      n: i + 1,
      first: pickNum(s, 'firstSecond', 'from') ?? 0,
      last: pickNum(s, 'lastSecond', 'to') ?? 0,
      worstP99: pickNum(s, 'worstP99Ms', 'p99Ms'),
      timeouts: num(s.timeouts) ?? 0,
      errors: num(s.errors) ?? 0,
      causes: arr(s.causes).map((c) => {
        const o = rec(c);
        if (!o) return str(c) ?? '?';
        const kind = str(o.kind) ?? 'cause';
        const node = str(o.node);
        const evidence = str(o.evidence) ?? str(o.figure) ?? '';
        return `${kind}${node ? ` (${node})` : ''}${evidence ? `: ${evidence}` : ''}`;
      }),
    }));
}

function summary(run: Record<string, Json>, runLabel: string): Rendered {
  const load = rec(run.load);
  const config = rec(run.config);
  const c = counters(load?.counters);
  const lat = rec(load?.latency);
  const pools = rec(config?.pools);
  const poolText = (p: Json) => {
    const o = rec(p);
    return o ? `max ${fmt(num(o.max), 0)} / min ${fmt(num(o.min), 0)}` : '–';
  };
  const machine = rec(run.machine);
  const facts = [
    `${runLabel}: ${str(load?.engine) ?? '?'} engine, target ${fmt(pickNum(load ?? {}, 'targetRate') ?? num(config?.rate), 0)} req/s for ${fmt((num(config?.durationMs) ?? 0) / 1000, 0)} s after ${fmt((num(config?.warmupMs) ?? 0) / 1000, 0)} s of warm-up; workload ${str(rec(config?.workload)?.name) ?? str(rec(load?.config)?.workload) ?? '?'}`,
    `pools: primary ${poolText(pools?.primary)}, replica ${poolText(pools?.replica)}; service flags: ${arr(config?.serviceArgs).map((a) => str(a) ?? '').join(' ') || '–'}`,
    `machine: ${fmt(num(machine?.cpus), 0)} CPUs (${str(machine?.cpuModel) ?? '?'}), ${fmt(num(machine?.memGiB), 0)} GiB, Node ${str(machine?.node) ?? '?'}; started ${str(run.startedAt) ?? '?'}`,
  ];
  const rows: Cell[][] = [
    ['sent', fmt(c.sent, 0), 'load generator'],
    ['achieved rate (req/s)', fmt(pickNum(load, 'achievedRate', 'completedRate'), 1), 'load generator: sent in the window / window length'],
    ['client p50 / p99 / max (ms)', `${fmt(num(lat?.p50), 2)} / ${fmt(num(lat?.p99), 2)} / ${fmt(num(lat?.max), 2)}`, str(load?.label) ?? 'load generator'],
    ['2xx / 4xx / 5xx', `${fmt(c.ok, 0)} / ${fmt(c.http4xx, 0)} / ${fmt(c.http5xx, 0)}`, 'load generator (4xx = business rejections)'],
    ['timeouts / transport errors / dropped', `${fmt(c.timeouts, 0)} / ${fmt(c.transportErrors, 0)} / ${fmt(c.dropped, 0)}`, 'load generator (client timeout; dropped at the concurrency cap)'],
    ['CPU per request (ms, all processes)', fmt(num(rec(run.cpu)?.totalMsPerRequest), 2), '/proc, measured window'],
  ];
  const warnings = arr(load?.warnings).map((w) => str(rec(w)?.message) ?? str(w) ?? '').filter((w) => w !== '');
  return join([
    list(facts),
    table(['figure', 'value', 'measured at'], rows),
    ...(run.partial === true ? [note('This run was interrupted: the figures cover what was measured before it stopped (partial).')] : []),
    ...(warnings.length > 0 ? [note(`Warnings from the load generator: ${warnings.join('; ')}`)] : []),
  ]);
}

async function timeline(run: Record<string, Json>, prefix: string): Promise<Rendered> {
  const seconds = timelineSeconds(run);
  if (seconds.length === 0) return note('No per-second records in this run (load.seconds is empty or missing).');
  const spikes = spikesOf(run);
  const bands: TimelineBand[] = spikes.map((s) => ({ label: `S${s.n}`, from: s.first, to: s.last + 1 }));
  const spikeReport = rec(run.spikes);
  const threshold = num(spikeReport?.thresholdMs);
  const db = timelineDb(run);
  const svg = await renderChart(timelineSpec(seconds, bands, { thresholdMs: threshold, db }));
  const parts: Rendered[] = [
    figure(
      svg,
      `Per-second timeline of the measured window. Measured at the client (load generator): latency p50/p99, requests sent and completed, and failed requests.${db ? ` Measured on the database (observer on the ${db.node}, every sample): GIN pending lists and the service's backends.` : ''} Shaded bands S1, S2… are the detected spikes; their causes (from the observer on the database nodes) are in the table below.`,
      `${prefix}timeline`,
    ),
  ];
  const baseline = num(spikeReport?.baselineP99Ms);
  parts.push(
    para(
      `Spike rule: ${str(spikeReport?.measuredAt) ?? 'client per-second p99 / timeouts / errors'}; median per-second p99 ${fmt(baseline, 1)} ms, threshold ${fmt(threshold, 1)} ms. ${spikes.length} spike(s).`,
    ),
  );
  if (spikes.length > 0) {
    parts.push(
      table(
        ['spike', 'seconds', 'worst p99 (ms, client)', 'timeouts', 'errors', 'causes (observer: database nodes; service codes)'],
        spikes.map((s) => [`S${s.n}`, s.first === s.last ? `${s.first}` : `${s.first}–${s.last}`, fmt(s.worstP99, 1), fmt(s.timeouts, 0), fmt(s.errors, 0), s.causes.join('; ') || '–']),
        { rowIds: spikes.map((s) => `${prefix}spike-${s.n}`) },
      ),
    );
  }
  const period = rec(spikeReport?.period);
  if (period) parts.push(para(`Period: ${fmt(num(period.spikes), 0)} spikes, one every ${fmt(num(period.meanSeconds), 0)} s (± ${fmt(num(period.stddevSeconds), 0)} s).`));
  const outages = arr(spikeReport?.outages).map(rec).filter((o): o is Record<string, Json> => o !== undefined);
  if (outages.length > 0) {
    parts.push(note(`Observer outages: ${outages.map((o) => `${str(o.node) ?? '?'} (${fmt(num(o.failedSamples), 0)} failed samples: ${str(o.firstError) ?? ''})`).join('; ')}`));
  }
  return join(parts);
}

export function waterfallSteps(run: Record<string, Json>): WaterfallStep[] {
  const steps: WaterfallStep[] = [];
  for (const e of arr(rec(run.split)?.endpoints).map(rec)) {
    if (!e) continue;
    const endpoint = str(e.endpoint) ?? '?';
    const rows = arr(e.rows).map(rec).filter((r): r is Record<string, Json> => r !== undefined);
    const parts = rows
      .filter((r) => r.part === true && num(r.mean) !== null)
      .sort((a, b) => PART_ORDER.indexOf(str(a.component) ?? '') - PART_ORDER.indexOf(str(b.component) ?? ''));
    let at = 0;
    parts.forEach((r, i) => {
      const ms = num(r.mean)!;
      const component = str(r.component) ?? '';
      steps.push({ endpoint, part: str(r.label) ?? component, where: WHERE[component] ?? 'derived (a difference)', start: at, end: at + ms, ms, order: i });
      at += ms;
    });
    const client = num(e.clientMeanMs) ?? num(rows.find((r) => r.component === 'client')?.mean);
    if (client !== null && parts.length > 0) {
      steps.push({ endpoint, part: 'client latency (total)', where: WHERE.client!, start: 0, end: client, ms: client, order: 100 });
    }
  }
  return steps;
}

async function split(run: Record<string, Json>, prefix: string): Promise<Rendered> {
  const endpoints = arr(rec(run.split)?.endpoints).map(rec).filter((e): e is Record<string, Json> => e !== undefined);
  if (endpoints.length === 0) return note('No latency split in this run (no endpoint carried Server-Timing, or split is missing).');
  const steps = waterfallSteps(run);
  const parts: Rendered[] = [];
  if (steps.length > 0) {
    parts.push(
      figure(
        await renderChart(waterfallSpec(steps)),
        'Where the mean client latency of each endpoint went: the disjoint parts, each starting where the previous one ended, then the client mean they add up to. Blue = database (pg_stat_statements), orange = service (Server-Timing), grey = derived as a difference, green = client (load generator). Means per request, ms.',
        `${prefix}split`,
      ),
    );
  }
  // One row per component (where it was measured said once), one column per endpoint.
  const components = new Map<string, { label: string; measuredAt: string }>();
  for (const e of endpoints) {
    for (const r of arr(e.rows).map(rec)) {
      const c = str(r?.component);
      if (r && c && !components.has(c)) components.set(c, { label: str(r.label) ?? c, measuredAt: str(r.measuredAt) ?? '–' });
    }
  }
  const rows: Cell[][] = [...components].map(([c, meta]) => [
    meta.label,
    ...endpoints.map((e) => {
      const r = arr(e.rows).map(rec).find((x) => str(x?.component) === c);
      return r ? `${fmt(num(r.mean), 2)} / ${fmt(num(r.p99), 2)}` : '–';
    }),
    meta.measuredAt,
  ]);
  parts.push(table(['component', ...endpoints.map((e) => `${str(e.endpoint) ?? '?'} (mean / p99 ms)`), 'measured at'], rows));
  const warnings = endpoints.flatMap((e) => arr(e.warnings).map((w) => `${str(e.endpoint) ?? '?'}: ${str(w) ?? ''}`));
  const notes = arr(rec(run.split)?.notes).map((n) => str(n) ?? '').filter((n) => n !== '');
  if (notes.length > 0 || warnings.length > 0) parts.push(list([...notes, ...warnings]));
  return join(parts);
}

function database(run: Record<string, Json>): Rendered {
  const samplers = arr(rec(run.observation)?.samplers).map(rec).filter((s): s is Record<string, Json> => s !== undefined);
  if (samplers.length === 0) return note(`No observer figures in this run${str(run.observerError) ? `: ${str(run.observerError)}` : ''}.`);
  const rows: Cell[][] = samplers.map((s) => {
    const sum = rec(s.summary);
    const lag = rec(sum?.replicationLagMs);
    const conns = Object.entries(rec(sum?.connections) ?? {})
      .map(([pool, c]) => `${pool}: mean ${fmt(num(rec(c)?.mean), 1)}, max ${fmt(num(rec(c)?.max), 0)} (active max ${fmt(num(rec(c)?.activeMax), 0)})`)
      .join('; ');
    const gin = Object.entries(rec(sum?.ginPendingPagesMax) ?? {})
      .map(([i, p]) => `${i} ${fmt(num(p), 0)}`)
      .join(', ');
    const hit = num(sum?.cacheHitRatio);
    return [
      str(s.node) ?? '?',
      hit === null ? '–' : `${fmt(hit * 100, 2)} %`,
      `${fmt(num(lag?.p99), 1)} / ${fmt(num(lag?.max), 1)}`,
      fmt(num(sum?.autovacuumRuns), 0),
      fmt(num(sum?.checkpoints), 0),
      gin || '–',
      conns || '–',
    ];
  });
  return join([
    table(['node', 'cache hit', 'replication lag p99 / max (ms)', 'autovacuum/analyze runs', 'checkpoints', 'GIN pending pages, max', 'connections by pool'], rows, {
      caption: 'Measured on the database nodes by the observer (pg_stat_* views, sampled during the measured window)',
    }),
  ]);
}

function cpu(run: Record<string, Json>): Rendered {
  const c = rec(run.cpu);
  if (!c) return note('CPU per process was not measured in this run.');
  const rows: Cell[][] = arr(c.processes)
    .map(rec)
    .filter((p): p is Record<string, Json> => p !== undefined)
    .map((p) => [str(p.label) ?? str(p.process) ?? '?', fmt(num(p.cores), 2), fmt(num(p.msPerRequest), 2)]);
  const estimate = num(c.cpuBoundRateEstimate);
  return join([
    table(['process', 'cores', 'CPU ms per request'], rows, { caption: `${str(c.measuredAt) ?? 'from /proc'}; ${fmt(num(c.windowSeconds), 0)} s window, ${fmt(num(c.requests), 0)} requests` }),
    para(
      `Total ${fmt(num(c.totalMsPerRequest), 2)} ms of CPU per request.${estimate === null ? '' : ` Estimate, not a measurement: at that cost the ${fmt(num(c.cpus), 0)} CPUs are all busy at ~${fmt(estimate, 0)} req/s.`}`,
    ),
  ]);
}

/** Every section of one run. `prefix` keeps anchors unique when several runs share a page. */
export async function runSections(run: Record<string, Json>, options: { prefix: string; label: string }): Promise<Section[]> {
  const p = options.prefix;
  const guard = async (f: () => Rendered | Promise<Rendered>): Promise<Rendered> => {
    try {
      return await f();
    } catch (e) {
      return note(`This part could not be drawn: ${(e as Error).message}`);
    }
  };
  return [
    { id: `${p}summary`, title: 'The run', body: await guard(() => summary(run, options.label)) },
    { id: `${p}timeline-section`, title: 'Timeline and spikes', body: await guard(() => timeline(run, p)) },
    { id: `${p}split-section`, title: 'Latency split per endpoint', body: await guard(() => split(run, p)) },
    { id: `${p}database`, title: 'The database during the run', body: await guard(() => database(run)) },
    { id: `${p}cpu`, title: 'CPU per process', body: await guard(() => cpu(run)) },
  ];
}

/** The figures of a run in one row of an evidence table. */
export function runFigures(run: Record<string, Json>): { p50: number | null; p99: number | null; timeouts: number; achievedRate: number | null; spikes: number; partial: boolean } {
  const load = rec(run.load);
  const lat = rec(load?.latency);
  return {
    p50: num(lat?.p50),
    p99: num(lat?.p99),
    timeouts: counters(load?.counters).timeouts,
    achievedRate: pickNum(load, 'achievedRate', 'completedRate'),
    spikes: arr(rec(run.spikes)?.spikes).length,
    partial: run.partial === true,
  };
}

