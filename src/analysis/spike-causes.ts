/**
 * What an episode of high latency is attributed to, from the evidence a run holds, each cause
 * with its figure and a score (0..1) that orders them:
 *
 * - outage (the observer could not sample a node, or the service answered DB_UNAVAILABLE ...): 1;
 * - GIN pending list (gin-pending.ts): growth, latency tracking its size, the flush that ended it;
 * - lock waits by type, and I/O waits (a commit waiting for the WAL flush, page reads): the share of the episode's samples in which pool backends waited on that
 *   lock, minus the share outside any episode (a wait that is always there explains nothing);
 * - pool exhaustion: POOL_TIMEOUT answers; the per-second pool acquire wait (Server-Timing `pool`)
 *   where the run recorded it per second; every connection of a pool active in the samples;
 * - generator delay: the load generator's own event-loop delay and CPU per second, and its
 *   schedule lag (latency counts from the intended send, so a late send is latency);
 * - replication lag; autovacuum / autoanalyze / vacuum / analyze and checkpoints in the same
 *   seconds (coincident unless they span the episode or ended a primary cause);
 * - CPU: whole window only (the CPU meter reads /proc at the start and end of the window).
 *
 * A DB-side primary cause (GIN, lock wait, outage) makes pool exhaustion and generator queueing
 * contributing: they are what a slower database looks like from the pool and the client.
 */
import type { SecondRecord } from '../load/latency-recorder.ts';
import type { CpuWindow } from '../observe/cpu-meter.ts';
import type { Sample } from '../observe/sample.ts';
import { ginCauses, type GinSeries, type LatencySecond } from './gin-pending.ts';
import type { GinFlush, SpikeCause, SpikeCauseKind } from './spike-types.ts';
import { overlaps, type NodeTimeline } from './spike-timeline.ts';

const OBSERVER_APP = 'esbench_observer';
const OUTAGE_CODES = new Set(['DB_UNAVAILABLE', 'REPLICA_UNAVAILABLE', 'NODE_CRASHED']);
const TIMEOUT_CODES = new Set(['STATEMENT_TIMEOUT', 'LOCK_TIMEOUT']);
const POOL_APPS: Readonly<Record<string, 'primary' | 'replica'>> = { esbench_primary_pool: 'primary', esbench_replica_pool: 'replica' };

export interface EpisodeWindow {
  from: number;
  to: number;
  firstSecond: number;
  lastSecond: number;
}

export interface CauseContext {
  timelines: readonly NodeTimeline[];
  gin: readonly GinSeries[];
  flushes: readonly GinFlush[];
  /** Every measured second, in order (for correlations). */
  latency: readonly LatencySecond[];
  secondOf: (at: number) => number;
  baselineP99Ms: number;
  /** All episodes of the run (to tell a wait that is always there from one that comes with spikes). */
  episodes: readonly EpisodeWindow[];
  pools?: { primary?: { max: number } | undefined; replica?: { max: number } | undefined } | undefined;
  cpu?: CpuWindow | null | undefined;
  minPendingTuples?: number | undefined;
  /** The client timeout (ms): a second with timeouts was at least this slow. */
  timeoutMs?: number | undefined;
}

/** The worst client latency of these seconds, a second with timeouts counting as the client timeout. */
function worstOf(seconds: readonly SecondRecord[], ctx: CauseContext): number {
  return Math.max(0, ...seconds.map((s) => Math.max(s.latency.p99 ?? 0, s.counters.timeouts > 0 ? (ctx.timeoutMs ?? 1000) : 0)));
}

const LOCK_NAMES: Readonly<Record<string, string>> = {
  'Lock:extend': 'Lock:extend (relation extension: backends adding pages to a table or index)',
  'Lock:relation': 'Lock:relation (a table lock)',
  'Lock:transactionid': 'Lock:transactionid (a row another transaction changed)',
  'Lock:tuple': 'Lock:tuple (a row lock)',
};

/** Heavyweight locks by type, and I/O waits (WAL flush / write, data file reads) by event. */
function isIoWait(type: string | null, event: string | null): boolean {
  return type === 'IO' || (type === 'LWLock' && (event === 'WALWrite' || event === 'WALInsert' || event === 'WALBufMapping'));
}

/** One backend flushes the WAL (IO:WalSync / WalWrite) while the others committing wait for it (LWLock:WALWrite): one phenomenon. */
const WAL_FLUSH = new Set(['IO:WalSync', 'IO:WalWrite', 'LWLock:WALWrite']);

function lockWaitsOf(sample: Sample): Map<string, number> {
  const out = new Map<string, number>();
  for (const b of sample.backends ?? []) {
    if (b.application === OBSERVER_APP || b.state !== 'active') continue;
    if (b.waitEventType !== 'Lock' && !isIoWait(b.waitEventType, b.waitEvent)) continue;
    const raw = `${b.waitEventType}:${b.waitEvent ?? '?'}`;
    const name = WAL_FLUSH.has(raw) ? 'WAL flush' : raw;
    out.set(name, (out.get(name) ?? 0) + b.count);
  }
  return out;
}

const IO_NAMES: Readonly<Record<string, string>> = {
  'WAL flush': 'WAL flush (IO:WalSync / WalWrite, LWLock:WALWrite: commits waiting for the WAL to reach disk)',
  'IO:DataFileRead': 'IO:DataFileRead (a page read from disk: not in shared buffers)',
};

function inAnyEpisode(at: number, episodes: readonly EpisodeWindow[]): boolean {
  return episodes.some((e) => at >= e.from - 1000 && at <= e.to);
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

function lockCauses(w: EpisodeWindow, ctx: CauseContext): SpikeCause[] {
  const out: SpikeCause[] = [];
  for (const tl of ctx.timelines) {
    const inside = tl.samples.filter((s) => s.at >= w.from - 1000 && s.at <= w.to);
    if (inside.length === 0) continue;
    const outside = tl.samples.filter((s) => !inAnyEpisode(s.at, ctx.episodes));
    const types = new Set<string>();
    for (const s of inside) for (const k of lockWaitsOf(s).keys()) types.add(k);
    for (const type of types) {
      const counts = inside.map((s) => lockWaitsOf(s).get(type) ?? 0);
      const shareIn = counts.filter((n) => n > 0).length / inside.length;
      const shareOut = outside.length === 0 ? 0 : outside.filter((s) => (lockWaitsOf(s).get(type) ?? 0) > 0).length / outside.length;
      const max = Math.max(...counts);
      const meanWaiting = counts.reduce((a, b) => a + b, 0) / counts.length;
      // Without quiet samples to compare with (the episode is most of the run), the share inside
      // counts alone, capped, and a single waiting backend now and then says nothing.
      const noContrast = outside.length < 0.2 * tl.samples.length;
      if (noContrast && max < 2) continue;
      const score = noContrast
        ? Math.min(0.6, shareIn + (meanWaiting >= 3 ? 0.2 : 0))
        : Math.max(0, Math.min(1, shareIn - shareOut + (meanWaiting >= 3 ? 0.2 : 0)));
      const advisory = type === 'Lock:advisory';
      const io = !type.startsWith('Lock:');
      out.push({
        kind: advisory ? 'advisory lock wait' : io ? 'IO wait' : 'lock wait',
        node: tl.node,
        evidence: `${advisory ? 'boundary locks (overlapping appends), Lock:advisory' : (LOCK_NAMES[type] ?? IO_NAMES[type] ?? type)}: up to ${max} backend(s) waiting, in ${pct(shareIn)} of the episode's samples (${noContrast ? 'no quiet seconds to compare with' : `${pct(shareOut)} outside spikes`})`,
        score,
        figures: { [io ? 'wait' : 'lock']: type, maxWaiting: max, meanWaiting: Number(meanWaiting.toFixed(2)), shareOfSamples: Number(shareIn.toFixed(3)), shareOutsideSpikes: Number(shareOut.toFixed(3)), samples: inside.length },
      });
    }
  }
  return out;
}

function outageCauses(w: EpisodeWindow, ctx: CauseContext, codes: Map<string, number>): SpikeCause[] {
  const out: SpikeCause[] = [];
  for (const tl of ctx.timelines) {
    const errors = tl.errors.filter((e) => e.at >= w.from - 1000 && e.at <= w.to);
    if (errors.length > 0) out.push({ kind: 'outage', node: tl.node, evidence: `observer could not sample ${tl.node} (${errors.length}×): ${errors[0]!.message}`, score: 1, figures: { failedSamples: errors.length } });
  }
  const outageCodes = [...codes].filter(([c]) => OUTAGE_CODES.has(c));
  if (outageCodes.length > 0 && out.length === 0) {
    out.push({ kind: 'outage', node: null, evidence: `the service answered ${outageCodes.map(([c, n]) => `${n}× ${c}`).join(', ')}`, score: 1, figures: Object.fromEntries(outageCodes) });
  }
  return out;
}

function maintenanceCauses(w: EpisodeWindow, ctx: CauseContext): SpikeCause[] {
  const out: SpikeCause[] = [];
  for (const tl of ctx.timelines) {
    for (const m of tl.maintenance) {
      if (!overlaps(m.earliest, m.latest, w.from - 1000, w.to)) continue;
      const flushed = ctx.flushes.filter((f) => f.node === tl.node && f.table === m.relation && f.byKind === m.kind && overlaps(m.earliest - 2000, m.latest + 2000, f.between[0], f.between[1]));
      const duration = m.start !== null && m.end !== null ? (m.end - m.start) / 1000 : null;
      // It spans the episode: started within 2 s of its first second and ended within 2 s of its last.
      const recovered = w.lastSecond <= (ctx.latency.at(-1)?.index ?? w.lastSecond) - 2;
      const spans = recovered && m.start !== null && m.end !== null && Math.abs(m.start - w.from) <= 2000 && Math.abs(m.end - w.to) <= 2000;
      const when = [m.start !== null ? `from second ${ctx.secondOf(m.start)}` : null, m.end !== null ? `ended in second ${ctx.secondOf(m.end)}` : null].filter(Boolean).join(', ');
      out.push({
        kind: m.kind,
        node: tl.node,
        evidence:
          `${m.kind} of ${m.relation}${duration !== null ? `, ${duration.toFixed(1)} s` : m.start === null ? ' (seen completing)' : ' (still running)'}${when ? ` (${when})` : ''}` +
          (flushed.length > 0 ? `; it flushed ${flushed.map((f) => `${f.index}'s pending list (${f.tuplesBefore.toLocaleString('en-US')} → ${f.tuplesAfter.toLocaleString('en-US')} tuples)`).join(', ')}` : ''),
        score: spans ? 0.5 : 0.2,
        figures: { relation: m.relation, durationSeconds: duration, flushedIndexes: flushed.map((f) => f.index).join(',') || null },
      });
    }
    for (const c of tl.checkpoints) {
      const start = c.start ?? c.completedBetween[0];
      if (!overlaps(start, c.completedBetween[1], w.from - 1000, w.to)) continue;
      out.push({
        kind: 'checkpoint',
        node: tl.node,
        evidence: `${c.reason} ${c.type}${c.buffersWritten === null ? '' : `, ${c.buffersWritten} buffers written`}`,
        score: 0.2,
        figures: { reason: c.reason, buffersWritten: c.buffersWritten },
      });
    }
  }
  return out;
}

function poolCauses(w: EpisodeWindow, ctx: CauseContext, seconds: readonly SecondRecord[], codes: Map<string, number>): SpikeCause[] {
  const out: SpikeCause[] = [];
  const poolTimeouts = codes.get('POOL_TIMEOUT') ?? 0;
  const poolP99s = seconds.map((s) => s.server?.pool.p99).filter((v): v is number => typeof v === 'number');
  const excess = worstOf(seconds, ctx) - ctx.baselineP99Ms;
  const poolWorst = poolP99s.length > 0 ? Math.max(...poolP99s) : null;
  const busy: string[] = [];
  let busyShare = 0;
  for (const tl of ctx.timelines) {
    const inside = tl.samples.filter((s) => s.at >= w.from - 1000 && s.at <= w.to);
    for (const [app, pool] of Object.entries(POOL_APPS)) {
      const max = ctx.pools?.[pool]?.max;
      if (!max || inside.length === 0) continue;
      const full = inside.filter((s) => (s.backends ?? []).filter((b) => b.application === app && b.state === 'active').reduce((n, b) => n + b.count, 0) >= max).length / inside.length;
      if (full >= 0.25) {
        busy.push(`all ${max} connections of the ${pool} pool active in ${pct(full)} of the samples (${tl.node})`);
        busyShare = Math.max(busyShare, full);
      }
    }
  }
  const parts: string[] = [];
  let score = 0;
  if (poolTimeouts > 0) {
    parts.push(`${poolTimeouts}× POOL_TIMEOUT`);
    score = Math.max(score, 0.8);
  }
  if (poolWorst !== null && excess > 0 && poolWorst >= 0.2 * excess && poolWorst >= 5) {
    parts.push(`pool acquire wait p99 up to ${ms(poolWorst)} ms per second (Server-Timing pool), against ${ms(excess)} ms of extra client p99`);
    score = Math.max(score, poolWorst >= 0.5 * excess ? 0.7 : 0.4);
  }
  if (busy.length > 0) {
    parts.push(...busy);
    score = Math.max(score, 0.3 + 0.4 * busyShare);
  }
  if (parts.length > 0) {
    out.push({ kind: 'pool exhaustion', node: null, evidence: parts.join('; '), score, figures: { poolTimeouts, poolWaitP99MaxMs: poolWorst, fullPoolShare: Number(busyShare.toFixed(3)) } });
  }
  return out;
}

function generatorCauses(seconds: readonly SecondRecord[], ctx: CauseContext): SpikeCause[] {
  const eld = seconds.map((s) => s.client?.eventLoopDelayMaxMs).filter((v): v is number => typeof v === 'number');
  const cpu = seconds.map((s) => s.client?.cpu).filter((v): v is number => typeof v === 'number');
  const lag = seconds.map((s) => s.scheduleLag?.p99).filter((v): v is number => typeof v === 'number');
  const queued = Math.max(0, ...seconds.map((s) => s.client?.queued ?? 0));
  const excess = Math.max(1, worstOf(seconds, ctx) - ctx.baselineP99Ms);
  const eldMax = eld.length > 0 ? Math.max(...eld) : null;
  const cpuMax = cpu.length > 0 ? Math.max(...cpu) : null;
  const lagMax = lag.length > 0 ? Math.max(...lag) : null;
  const parts: string[] = [];
  let score = 0;
  if (eldMax !== null && eldMax >= 50) {
    // The run's own processes (whole window) barely busy while the generator waited for CPU:
    // something else on the machine had it (machine-wide CPU is not recorded).
    const own = ctx.cpu ? ctx.cpu.processes.reduce((n, p) => n + (p.cores ?? 0), 0) : null;
    const starved = own !== null && ctx.cpu && own < 0.5 * ctx.cpu.cpus && eldMax >= 200;
    parts.push(
      `the generator's event loop was delayed up to ${ms(eldMax)} ms` +
        (starved ? ` while the run's own processes used ${own.toFixed(2)} of ${ctx.cpu!.cpus} cores over the window: other processes on the machine had the CPU (machine-wide CPU is not recorded)` : ''),
    );
    score = Math.max(score, eldMax >= 0.5 * excess ? 0.7 : eldMax >= 0.2 * excess ? 0.4 : 0.2);
  }
  if (cpuMax !== null && cpuMax >= 0.95) {
    parts.push(`the generator process used ${pct(cpuMax)} of a core in a second of it`);
    score = Math.max(score, 0.4);
  }
  if (lagMax !== null && lagMax >= 20 && lagMax >= 0.2 * excess) {
    parts.push(`requests left up to ${ms(lagMax)} ms (p99) after their intended time${queued > 0 ? `, ${queued} queued at the generator's concurrency cap (queue wait: the server was slow to answer)` : ''}`);
    // Queueing at the cap is what a slow server does to an open-model generator, not a cause of its own.
    score = Math.max(score, queued > 0 ? 0.2 : lagMax >= 0.5 * excess ? 0.7 : 0.4);
  }
  if (parts.length === 0) return [];
  return [{ kind: 'generator delay', node: null, evidence: parts.join('; '), score, figures: { eventLoopDelayMaxMs: eldMax, generatorCpuMax: cpuMax, scheduleLagP99MaxMs: lagMax, queuedMax: queued } }];
}

function replicationCauses(w: EpisodeWindow, ctx: CauseContext): SpikeCause[] {
  const lagOf = (s: Sample): number | null => {
    const r = s.replication;
    if (!r) return null;
    if ('replica' in r) return r.replica.replayLagMs;
    const lags = r.primary.map((x) => x.replayLagMs).filter((v): v is number => v !== null);
    return lags.length > 0 ? Math.max(...lags) : null;
  };
  const out: SpikeCause[] = [];
  for (const tl of ctx.timelines) {
    const inside = tl.samples.filter((s) => s.at >= w.from - 1000 && s.at <= w.to).map(lagOf).filter((v): v is number => v !== null);
    const all = tl.samples.map(lagOf).filter((v): v is number => v !== null).sort((a, b) => a - b);
    if (inside.length === 0 || all.length === 0) continue;
    const max = Math.max(...inside);
    const typical = all[Math.floor(all.length / 2)]!;
    if (max >= 1000 && max >= 5 * Math.max(typical, 10)) {
      out.push({ kind: 'replication lag', node: tl.node, evidence: `replay lag up to ${ms(max)} ms (run median ${ms(typical)} ms), seen from the ${tl.node}`, score: 0.3, figures: { replayLagMaxMs: max, replayLagMedianMs: typical } });
    }
  }
  // Both nodes see the same lag: keep the larger figure.
  return out.sort((a, b) => Number(b.figures?.replayLagMaxMs) - Number(a.figures?.replayLagMaxMs)).slice(0, 1);
}

function cpuCause(ctx: CauseContext): SpikeCause[] {
  const cpu = ctx.cpu;
  if (!cpu) return [];
  const cores = cpu.processes.reduce((s, p) => s + (p.cores ?? 0), 0);
  if (cores < 0.85 * cpu.cpus) return [];
  return [
    {
      kind: 'CPU',
      node: null,
      evidence: `the measured processes used ${cores.toFixed(2)} of ${cpu.cpus} cores over the whole window${cpu.unread.length > 0 ? ` (not read: ${cpu.unread.join(', ')})` : ''} — whole window only, not per second`,
      score: 0.25,
      figures: { coresBusy: Number(cores.toFixed(3)), cpus: cpu.cpus, scope: 'whole window' },
    },
  ];
}

const DB_SIDE: ReadonlySet<SpikeCauseKind> = new Set(['GIN pending list', 'lock wait', 'advisory lock wait', 'IO wait', 'outage']);

/** Every cause of one episode, with roles, strongest first. */
export function causesOf(w: EpisodeWindow, seconds: readonly SecondRecord[], ctx: CauseContext): SpikeCause[] {
  const codes = new Map<string, number>();
  for (const s of seconds) for (const [code, n] of Object.entries(s.counters.errorCodes)) codes.set(code, (codes.get(code) ?? 0) + n);
  const causes: SpikeCause[] = [
    ...outageCauses(w, ctx, codes),
    ...ginCauses(w, ctx.gin, ctx.flushes, ctx.latency, ctx.secondOf, { ...(ctx.minPendingTuples !== undefined ? { minPendingTuples: ctx.minPendingTuples } : {}) }),
    ...lockCauses(w, ctx),
    ...poolCauses(w, ctx, seconds, codes),
    ...generatorCauses(seconds, ctx),
    ...replicationCauses(w, ctx),
    ...maintenanceCauses(w, ctx),
    ...cpuCause(ctx),
  ];
  const timeoutCodes = [...codes].filter(([c]) => TIMEOUT_CODES.has(c));
  if (timeoutCodes.length > 0) {
    causes.push({ kind: 'timeout codes', node: null, evidence: `the service answered ${timeoutCodes.map(([c, n]) => `${n}× ${c}`).join(', ')}`, score: 0.4, figures: Object.fromEntries(timeoutCodes) });
  }
  // Lock waits so weak they are just as common outside spikes say nothing.
  const kept = causes.filter((c) => !((c.kind === 'lock wait' || c.kind === 'advisory lock wait' || c.kind === 'IO wait') && (c.score ?? 0) < 0.05));
  const dbPrimary = kept.some((c) => DB_SIDE.has(c.kind) && (c.score ?? 0) >= 0.5);
  const gin = kept.filter((c) => c.kind === 'GIN pending list' && (c.score ?? 0) >= 0.5);
  for (const c of kept) {
    const s = c.score ?? 0;
    if (c.kind === 'autovacuum' || c.kind === 'autoanalyze' || c.kind === 'vacuum' || c.kind === 'analyze') {
      const endedGin = gin.some((g) => g.figures?.flushedByKind === c.kind && g.node === c.node && String(c.figures?.flushedIndexes ?? '').split(',').includes(String(g.figures?.index)));
      c.role = endedGin ? 'ended it' : s >= 0.5 ? 'contributing' : 'coincident';
      if (endedGin) c.score = Math.min(s, 0.2);
    } else if (c.kind === 'checkpoint') c.role = 'coincident';
    else if ((c.kind === 'pool exhaustion' || c.kind === 'timeout codes') && dbPrimary) {
      c.role = 'contributing';
      c.evidence += ' — downstream of the slower database';
      c.score = Math.min(s, 0.45);
    } else if (c.kind === 'generator delay' && dbPrimary) {
      // Its queueing is what a slow server does to an open-model generator; its own event-loop
      // delay is not, but with a database-side cause measured it is the lesser explanation.
      c.role = 'contributing';
      c.evidence += ' — alongside a database-side cause';
      c.score = Math.min(s, 0.45);
    } else if (c.kind === 'CPU') c.role = 'contributing';
    else if (c.kind === 'lock wait' && c.figures?.lock === 'Lock:extend' && gin.length > 0) {
      // Inserts into a growing pending list extend the index: these waits come with the list.
      c.role = s >= 0.1 ? 'contributing' : 'coincident';
      c.evidence += ' — inserts extend the growing GIN pending list: part of it, not a cause of its own';
      c.score = Math.min(s, 0.45);
    }
    else c.role = s >= 0.5 ? 'primary' : s >= 0.1 ? 'contributing' : 'coincident';
  }
  // With nothing at 0.5 or more, the strongest non-coincident cause leads.
  if (!kept.some((c) => c.role === 'primary')) {
    const best = kept.filter((c) => c.role === 'contributing' && c.kind !== 'CPU' && (c.score ?? 0) >= 0.25).sort((a, b) => (b.score ?? 0) - (a.score ?? 0))[0];
    if (best) best.role = 'primary';
  }
  const rank: Record<string, number> = { primary: 0, contributing: 1, 'ended it': 2, coincident: 3 };
  kept.sort((a, b) => rank[a.role ?? 'coincident']! - rank[b.role ?? 'coincident']! || (b.score ?? 0) - (a.score ?? 0));
  for (const c of kept) if (c.score !== undefined) c.score = Number(c.score.toFixed(2));
  if (!kept.some((c) => c.role === 'primary' || (c.role === 'contributing' && c.kind !== 'CPU'))) {
    kept.unshift({
      kind: 'unexplained',
      node: null,
      evidence: 'no outage, GIN pending-list growth, lock or I/O wait, pool exhaustion, generator delay or replication lag in these seconds (the service\'s GC / event-loop delay is not measured)',
      role: 'primary',
      score: 0,
    });
  }
  return kept;
}
