/**
 * GIN pending lists as a cause of latency. With `fastupdate = on`, new index entries go to an
 * unsorted pending list that every index scan reads whole and that the checked append's boundary
 * query scans on every command; it is emptied (flushed) by VACUUM, by an autovacuum worker's
 * ANALYZE, or synchronously by the insert that pushes it past `gin_pending_list_limit`.
 *
 * Evidence used, from the observer's samples (pgstatginindex): the list's growth before and during
 * an episode, how closely the per-second latency tracks its size (Spearman ρ: pg_stat_statements
 * is only snapshotted around the window, so the per-second client — and, where the run has it,
 * server — p99 is the statement slowdown we can line up), and the flush (a drop in pending
 * entries) that ended it, with what did the flushing.
 */
import type { GinFlush, SpikeCause } from './spike-types.ts';
import { overlaps, type MaintenanceRun, type NodeTimeline } from './spike-timeline.ts';
import { spearman } from './robust-stats.ts';

export interface GinPoint {
  at: number;
  tuples: number;
  pages: number;
}

export interface GinSeries {
  node: string;
  index: string;
  table: string;
  points: GinPoint[];
}

/** The per-second figures the GIN evidence is correlated with. */
export interface LatencySecond {
  index: number;
  p99: number | null;
  serverP99: number | null;
  /** Share of the second's outcomes that were timeouts (0 when none). */
  timeoutShare: number;
}

/**
 * What ranks a second's latency for the correlation: its p99, and above any p99 a second with
 * timeouts (ordered by their share) — a second in which everything timed out has no p99 but was
 * not fast. Spearman uses ranks only, so the offset just puts those seconds on top.
 */
function severityOf(s: LatencySecond): number | null {
  if (s.timeoutShare > 0) return 1e9 * (1 + s.timeoutShare);
  return s.p99;
}

export interface GinOptions {
  /** A pending list smaller than this (entries) is not a cause (default 2000). */
  minPendingTuples?: number;
  /** ρ at or above this counts as "latency tracks the list" (default 0.5). */
  minCorrelation?: number;
}

/**
 * Pending lists per index, from the nodes that are not in recovery (a replica's GIN pages are the
 * primary's, replayed: the same list, seen twice). With no primary sampled, the replica's.
 */
export function ginSeries(timelines: readonly NodeTimeline[]): GinSeries[] {
  const primaries = timelines.filter((t) => !t.inRecovery);
  const out = new Map<string, GinSeries>();
  for (const tl of primaries.length > 0 ? primaries : timelines) {
    for (const s of tl.samples) {
      for (const g of s.gin ?? []) {
        const key = `${tl.node}|${g.index}`;
        let series = out.get(key);
        if (!series) out.set(key, (series = { node: tl.node, index: g.index, table: g.table, points: [] }));
        series.points.push({ at: s.at, tuples: Number(g.pendingTuples) || 0, pages: Number(g.pendingPages) || 0 });
      }
    }
  }
  return [...out.values()];
}

const FLUSHERS: ReadonlyArray<MaintenanceRun['kind']> = ['autoanalyze', 'autovacuum', 'vacuum'];

/**
 * A flush: the pending entries fall to half or less between two samples (from at least 100).
 * Attributed to a VACUUM / autovacuum / autoanalyze of the index's table that ran around the drop
 * (a plain ANALYZE command does not flush); without one, to an insert that crossed
 * `gin_pending_list_limit` (or a call of gin_clean_pending_list(), which looks the same).
 */
export function ginFlushes(series: readonly GinSeries[], timelines: readonly NodeTimeline[], secondOf: (at: number) => number): GinFlush[] {
  const flushes: GinFlush[] = [];
  for (const s of series) {
    const tl = timelines.find((t) => t.node === s.node);
    for (let i = 1; i < s.points.length; i++) {
      const a = s.points[i - 1]!;
      const b = s.points[i]!;
      if (!(a.tuples >= 100 && b.tuples <= a.tuples / 2)) continue;
      const candidates = (tl?.maintenance ?? [])
        .filter((m) => m.relation === s.table && FLUSHERS.includes(m.kind) && overlaps(m.earliest, m.latest, a.at - 2000, b.at + 2000))
        // The one whose end is closest to the drop (the cleanup is the last step of a run).
        .sort((x, y) => Math.abs(x.latest - b.at) - Math.abs(y.latest - b.at));
      const m = candidates[0];
      const limit = tl?.settings.gin_pending_list_limit;
      flushes.push({
        node: s.node,
        index: s.index,
        table: s.table,
        between: [a.at, b.at],
        second: secondOf(b.at),
        tuplesBefore: a.tuples,
        tuplesAfter: b.tuples,
        pagesBefore: a.pages,
        pagesAfter: b.pages,
        by: m
          ? `${m.kind} of ${m.relation}${m.start !== null && m.end !== null ? ` (ran ${((m.end - m.start) / 1000).toFixed(1)} s)` : ''}`
          : `an insert past gin_pending_list_limit${limit ? ` (${limit})` : ''}, cleaning up synchronously (no vacuum or autoanalyze of ${s.table} around it)`,
        byKind: m ? (m.kind as GinFlush['byKind']) : 'gin_pending_list_limit',
      });
    }
  }
  return flushes.sort((x, y) => x.between[1] - y.between[1]);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Value of the list at the end of each second (carried forward), by second index. */
function perSecond(points: readonly GinPoint[], secondOf: (at: number) => number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of points) out.set(secondOf(p.at), p.tuples);
  return out;
}

export interface GinEpisode {
  from: number;
  to: number;
  firstSecond: number;
  lastSecond: number;
}

/** The GIN causes of one episode (at most one per index), strongest first. */
export function ginCauses(
  episode: GinEpisode,
  series: readonly GinSeries[],
  flushes: readonly GinFlush[],
  seconds: readonly LatencySecond[],
  secondOf: (at: number) => number,
  options: GinOptions = {},
): SpikeCause[] {
  const minTuples = options.minPendingTuples ?? 2000;
  const minRho = options.minCorrelation ?? 0.5;
  const causes: SpikeCause[] = [];
  for (const s of series) {
    if (s.points.length === 0) continue;
    const mine = flushes.filter((f) => f.node === s.node && f.index === s.index);
    // The growth phase: from the last flush before the episode (or the start of the window).
    const lastFlushBefore = mine.filter((f) => f.between[1] <= episode.from).at(-1);
    const growthFrom = lastFlushBefore ? lastFlushBefore.between[1] : s.points[0]!.at;
    const inEpisode = s.points.filter((p) => p.at >= episode.from - 1000 && p.at <= episode.to);
    if (inEpisode.length === 0) continue;
    const peak = inEpisode.reduce((m, p) => (p.tuples > m.tuples ? p : m));
    const beforePeak = s.points.filter((p) => p.at >= growthFrom && p.at <= peak.at);
    const low = beforePeak.reduce((m, p) => (p.tuples < m.tuples ? p : m), peak);
    // A flush that ended the episode: in its last 15 s (a saturated service needs a while to
    // drain its backlog once the cause is gone), or within 5 s after it — and latency came back
    // before the window closed (an episode cut off by the end of the run did not end).
    const recovered = episode.lastSecond <= (seconds.at(-1)?.index ?? episode.lastSecond) - 2;
    const ended = recovered ? mine.filter((f) => f.between[1] >= Math.max(episode.from, episode.to - 15_000) && f.between[1] <= episode.to + 5000).at(-1) : undefined;
    // A flush in the middle of it, after which latency stayed high.
    const midway = ended ? undefined : mine.find((f) => f.between[1] >= episode.from && f.between[1] <= episode.to);
    const limitInside = mine.find((f) => f.byKind === 'gin_pending_list_limit' && f.between[1] >= episode.from - 1000 && f.between[1] <= episode.to);
    // Large: it grew to at least minTuples during or before the episode (it may have been built
    // before the measured window: then no growth is seen, only its size).
    const big = peak.tuples >= minTuples;
    if (!big && !limitInside) continue;

    // Does latency track the list's size within the episode (up to the flush or its end)? Within
    // it, not from the start of the growth: a step up in latency while the list grows steadily
    // would correlate with the quiet seconds before it, and is not latency following the list.
    const firstSecond = Math.max(secondOf(low.at), episode.firstSecond);
    const firstFlush = ended ?? midway;
    const lastSecond = Math.min(episode.lastSecond, firstFlush ? firstFlush.second - 1 : episode.lastSecond);
    const size = perSecond(s.points, secondOf);
    const xs: number[] = [];
    const client: number[] = [];
    const server: number[] = [];
    let carried: number | undefined;
    for (const sec of seconds) {
      if (sec.index < firstSecond - 1) continue;
      if (sec.index > lastSecond) break;
      carried = size.get(sec.index) ?? carried;
      const severity = severityOf(sec);
      if (sec.index < firstSecond || carried === undefined || severity === null) continue;
      xs.push(carried);
      client.push(severity);
      if (sec.serverP99 !== null) server.push(sec.serverP99);
    }
    const rhoClient = xs.length >= 8 ? spearman(xs, client) : null;
    const rhoServer = server.length === xs.length && xs.length >= 8 ? spearman(xs, server) : null;
    const rho = rhoServer ?? rhoClient;
    const tracks = rho !== null && rho >= minRho;
    const shown = seconds.filter((x) => x.index >= firstSecond && x.index <= lastSecond && x.p99 !== null);
    const firstP99 = shown[0]?.p99 ?? undefined;
    const lastP99 = shown.at(-1)?.p99 ?? undefined;

    // The list's size when the episode began: without a correlation or a flush that ended it, a
    // list that only grew large during an episode that was already under way did not start it.
    const atStart = [...s.points].reverse().find((p) => p.at <= episode.from + 1000) ?? s.points[0]!;
    let score: number;
    // ρ in steps of 0.1: two indexes that fill together then tie, and the larger list leads.
    if (big && (tracks || ended)) score = Math.min(1, 0.6 + (0.3 * Math.round(Math.max(0, rho ?? 0) * 10)) / 10 + (ended ? 0.1 : 0));
    else if (limitInside) score = 0.6;
    else if (atStart.tuples >= minTuples) score = 0.3;
    else score = 0.05;

    const parts = [
      `${s.index} on ${s.table}: pending list ${fmt(low.tuples)} → ${fmt(peak.tuples)} tuples (${fmt(low.pages)} → ${fmt(peak.pages)} pages) over ${Math.round((peak.at - low.at) / 1000)} s`,
    ];
    if (rho !== null) {
      parts.push(
        `per-second ${rhoServer !== null ? 'server' : 'client'} p99${rhoServer !== null ? '' : ' (timeouts ranked above it)'} ${tracks ? 'tracks it' : 'does not track it'} (Spearman ρ ${rho.toFixed(2)} over ${xs.length} s${firstP99 !== undefined && lastP99 !== undefined ? `; client p99 ${firstP99.toFixed(0)} → ${lastP99.toFixed(0)} ms` : ''})`,
      );
    } else parts.push(xs.length >= 8 ? `per-second p99 did not vary with it (no correlation over ${xs.length} s)` : 'too few seconds with responses to correlate latency with it');
    if (limitInside && !ended) parts.push(`an insert flushed it synchronously past gin_pending_list_limit (${fmt(limitInside.tuplesBefore)} → ${fmt(limitInside.tuplesAfter)} tuples)`);
    if (ended) parts.push(`flushed to ${fmt(ended.tuplesAfter)} tuples by ${ended.by}, which ended it`);
    if (midway) parts.push(`flushed in second ${midway.second} by ${midway.by}, and latency ${recovered ? 'stayed high after it' : 'had not recovered when the window closed'}`);
    if (score < 0.1) parts.push(`it held ${fmt(atStart.tuples)} tuples when the episode began: it grew during it, did not start it`);
    causes.push({
      kind: 'GIN pending list',
      node: s.node,
      evidence: parts.join('; '),
      score,
      figures: {
        index: s.index,
        table: s.table,
        pendingTuplesFrom: low.tuples,
        pendingTuplesPeak: peak.tuples,
        pendingPagesPeak: peak.pages,
        growthSeconds: Math.round((peak.at - low.at) / 1000),
        spearmanRho: rho,
        correlatedWith: rhoServer !== null ? 'server p99 per second' : rhoClient !== null ? 'client p99 per second' : null,
        correlationSeconds: xs.length,
        flushedTo: ended?.tuplesAfter ?? null,
        flushedBy: ended?.by ?? null,
        flushedByKind: ended?.byKind ?? null,
      },
    });
  }
  // Indexes whose list stayed a small fraction of the largest one's are scanned too, but are not
  // what made the difference: contributing at most.
  const largest = Math.max(0, ...causes.map((c) => Number(c.figures?.pendingPagesPeak ?? 0)));
  for (const c of causes) {
    if (Number(c.figures?.pendingPagesPeak ?? 0) < largest / 4) c.score = Math.min(c.score ?? 0, 0.45);
  }
  // Equal scores: the larger list first.
  return causes.sort((a, b) => (b.score ?? 0) - (a.score ?? 0) || Number(b.figures?.pendingPagesPeak ?? 0) - Number(a.figures?.pendingPagesPeak ?? 0));
}
