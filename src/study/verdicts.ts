/**
 * Seed 003's success criteria and the study's claims, judged from saved trials.
 *
 * Each verdict is `holds`, `does not hold`, or `cannot be measured here` (with the reason), carries
 * its figure, the confidence interval of that figure where one can be computed, and the runs it
 * came from. The unit of replication is the trial (src/analysis/statistics.ts): one value per run.
 *
 * When the CI straddles the threshold, the verdict follows the point estimate and is marked
 * `conclusive: false` ("not conclusive at this number of repetitions"): --quick runs two
 * repetitions per level, so most of its comparisons are of this kind, and the table says so.
 */
import { mean } from 'simple-statistics';
import { bootstrapCi, compareSamples, holm, meanOf, practicalLimit, type Comparison } from '../analysis/statistics.ts';
import { createRng } from '../core/prng.ts';
import { DEFAULT_SAMPLE_INTERVAL_MS } from '../observe/sampler.ts';
import type { PoolUse, TrialFigures } from './trial-figures.ts';

export type VerdictKind = 'holds' | 'does not hold' | 'cannot be measured here';

export interface Ci {
  lo: number;
  hi: number;
  level: number;
}

export interface Verdict {
  /** Stable id (`c1-no-periodic-timeout-spikes`, `claim-pool-min`, ...). */
  id: string;
  kind: 'criterion' | 'claim' | 'esbench';
  /** The criterion or claim, as the study put it (plus the rate it was judged at). */
  criterion: string;
  verdict: VerdictKind;
  /** False when the CI straddles the threshold: the verdict follows the point estimate. */
  conclusive: boolean;
  /** The figure in words, with where it was measured. */
  figure: string;
  /** The figure's number and unit (null when there is none). */
  value: number | null;
  unit: string | null;
  ci: Ci | null;
  evidence: { runs: string[]; text: string };
}

export interface CapacityFigures {
  /** Highest rate the configuration held (its SLO), req/s. */
  maxRate: number | null;
  ci: [number, number] | null;
  /** Highest rate held and the first rate missed (one trial each), when no CI is available. */
  bracket?: [number, number] | null;
  configuration: string;
  /** What saturated first, and the evidence (CPU per process, ...). */
  saturation: { cause: string; evidence: string } | null;
  path: string | null;
  /** The SLO a rate had to hold (src/tuner/capacity.ts). */
  slo?: string;
}

export interface StudyEvidence {
  mode: 'quick' | 'full';
  trials: readonly TrialFigures[];
  /** The rate pair the criteria are judged at (the study's, or scaled to this machine). */
  pair: { low: number; high: number; scaled: boolean };
  studyRates: { low: number; high: number };
  capacity: CapacityFigures | null;
  /** False on an external cluster that cannot be restarted: shared_buffers cannot change. */
  memory: { measurable: boolean; reason: string | null };
  seed: number;
}

const LEVEL = 0.95;
/** "~100 % cache hit": the study saw 99.9-100 %; below 99 % is not "~100 %". */
export const CACHE_HIT_THRESHOLD = 0.99;
export const LAG_THRESHOLD_MS = 10;
export const IMPROVEMENT_THRESHOLD = 0.4;
export const CLAIMED_POOL_MIN_GAIN_MS = 14;
/** The study's spikes came "every couple of minutes": a window must cover two such periods to show one. */
export const PERIOD_WINDOW_S = 240;

function trialsOf(e: StudyEvidence, key: string, rate: number): TrialFigures[] {
  return e.trials.filter((t) => t.key === key && Math.abs(t.rate - rate) < 1e-6 && !t.partial);
}

function values(ts: readonly TrialFigures[], f: (t: TrialFigures) => number | null): number[] {
  return ts.map(f).filter((v): v is number => v !== null && Number.isFinite(v));
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const ciOf = (lo: number, hi: number): Ci => ({ lo, hi, level: LEVEL });
const paths = (...groups: ReadonlyArray<readonly TrialFigures[]>) => [...new Set(groups.flat().map((t) => t.path))];

function cannot(id: string, kind: Verdict['kind'], criterion: string, reason: string, runs: string[] = []): Verdict {
  return { id, kind, criterion, verdict: 'cannot be measured here', conclusive: true, figure: reason, value: null, unit: null, ci: null, evidence: { runs, text: reason } };
}

/** Two runs at least in every group: with one, a CI has nothing to resample and says nothing. */
function enough(...groups: ReadonlyArray<readonly unknown[]>): boolean {
  return groups.every((g) => g.length >= 2);
}

/** Below / above a threshold with a CI: conclusive when the CI is on one side (and n ≥ 2). */
function against(estimate: number, ci: Ci, threshold: number, holdsWhen: 'below' | 'at-least', n: number): { verdict: VerdictKind; conclusive: boolean } {
  const holdsPoint = holdsWhen === 'below' ? estimate < threshold : estimate >= threshold;
  const holdsAll = holdsWhen === 'below' ? ci.hi < threshold : ci.lo >= threshold;
  const failsAll = holdsWhen === 'below' ? ci.lo >= threshold : ci.hi < threshold;
  return { verdict: holdsPoint ? 'holds' : 'does not hold', conclusive: n >= 2 && (holdsAll || failsAll) };
}

function bootstrap(xs: number[], seed: number): Ci {
  const b = bootstrapCi(xs, meanOf, { seed, level: LEVEL });
  return ciOf(b.lo, b.hi);
}

/** 1 − mean(b)/mean(a) with a percentile bootstrap resampling each group (seeded). */
export function relativeImprovement(a: readonly number[], b: readonly number[], seed: number, iterations = 2000): { estimate: number; ci: Ci } {
  const estimate = 1 - mean([...b]) / mean([...a]);
  const rng = createRng(seed);
  const draw = (xs: readonly number[]) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(rng() * xs.length)]!;
    return s / xs.length;
  };
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const ma = draw(a);
    if (ma > 0) out.push(1 - draw(b) / ma);
  }
  out.sort((x, y) => x - y);
  const q = (p: number) => out[Math.min(out.length - 1, Math.max(0, Math.floor(p * out.length)))] ?? estimate;
  return { estimate, ci: ciOf(q((1 - LEVEL) / 2), q(1 - (1 - LEVEL) / 2)) };
}

function latencyLine(label: string, ts: readonly TrialFigures[]): string {
  const m = values(ts, (t) => t.meanMs);
  const to = ts.reduce((s, t) => s + t.timeouts, 0);
  const sent = ts.reduce((s, t) => s + t.sent, 0);
  return `${label}: client mean ${m.length ? fmt(mean(m)) : '-'} ms over ${ts.length} run(s), ${to} timeouts of ${sent} requests`;
}

// --- criteria --------------------------------------------------------------------------------

function tunedAtPair(e: StudyEvidence): TrialFigures[] {
  return [...trialsOf(e, 'tuned', e.pair.low), ...trialsOf(e, 'tuned', e.pair.high)];
}

function rateText(e: StudyEvidence, rate: number): string {
  return e.pair.scaled ? `${fmt(rate, 0)} req/s (the study's ${rate === e.pair.high ? e.studyRates.high : e.studyRates.low}, scaled to this machine)` : `${fmt(rate, 0)} req/s`;
}

function noPeriodicSpikes(e: StudyEvidence): Verdict {
  const id = 'c1-no-periodic-timeout-spikes';
  const criterion = `No periodic timeout spikes (tuned, ${rateText(e, e.pair.low)} and ${rateText(e, e.pair.high)})`;
  const ts = tunedAtPair(e);
  if (ts.length === 0) return cannot(id, 'criterion', criterion, 'no trial of the tuned configuration at the rate pair');
  const total = ts.reduce((s, t) => s + t.windowSeconds, 0);
  const longest = Math.max(...ts.map((t) => t.windowSeconds));
  const spikes = ts.reduce((s, t) => s + t.timeoutSpikes.length, 0);
  const perMinute = values(ts, (t) => (t.windowSeconds > 0 ? (t.timeoutSpikes.length * 60) / t.windowSeconds : null));
  const ci = perMinute.length ? bootstrap(perMinute, e.seed) : null;
  const recurring = ts.filter((t) => t.timeoutSpikes.length >= 2);
  const causes = [...new Set(ts.flatMap((t) => t.timeoutSpikes.flatMap((s) => s.causes.map((c) => c.split(':')[0]!))))];
  const figure = `${spikes} timeout spike(s) in ${fmt(total, 0)} s of measured window (${ts.length} run(s), longest ${fmt(longest, 0)} s)`;
  const base = { id, kind: 'criterion' as const, criterion, figure, value: perMinute.length ? mean(perMinute) : null, unit: 'timeout spikes/min', ci, conclusive: true };
  if (recurring.length > 0) {
    const worst = recurring.reduce((a, b) => (b.timeoutSpikes.length > a.timeoutSpikes.length ? b : a));
    const starts = worst.timeoutSpikes.map((s) => s.firstSecond);
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    return {
      ...base,
      verdict: 'does not hold',
      evidence: {
        runs: paths(ts),
        text: `recurring timeout spikes: ${worst.timeoutSpikes.length} in ${fmt(worst.windowSeconds, 0)} s at ${fmt(worst.rate, 0)} req/s, ${fmt(mean(gaps), 0)} s apart on average; causes seen: ${causes.join(', ') || 'none'}`,
      },
    };
  }
  if (longest < PERIOD_WINDOW_S) {
    return {
      ...base,
      verdict: 'cannot be measured here',
      evidence: {
        runs: paths(ts),
        text: `windows of ${fmt(longest, 0)} s cannot show spikes "every couple of minutes" (needs ≥ ${PERIOD_WINDOW_S} s; --full runs 300 s); ${spikes} timeout spike(s) seen${causes.length ? ` (${causes.join(', ')})` : ''}`,
      },
    };
  }
  return { ...base, verdict: 'holds', evidence: { runs: paths(ts), text: `no recurring timeout spikes in windows of up to ${fmt(longest, 0)} s${spikes ? `; ${spikes} isolated (${causes.join(', ')})` : ''}` } };
}

function sustainedRate(e: StudyEvidence, rate: number, id: string, criterion: string): Verdict {
  const ts = trialsOf(e, 'tuned', rate);
  if (ts.length === 0) {
    if (e.capacity?.maxRate != null && e.capacity.maxRate < rate) {
      return {
        id,
        kind: 'criterion',
        criterion,
        verdict: 'does not hold',
        conclusive: true,
        figure: `capacity of ${e.capacity.configuration}: ${fmt(e.capacity.maxRate, 0)} req/s`,
        value: e.capacity.maxRate,
        unit: 'req/s',
        ci: e.capacity.ci ? ciOf(e.capacity.ci[0], e.capacity.ci[1]) : null,
        evidence: { runs: e.capacity.path ? [e.capacity.path] : [], text: saturationText(e.capacity) },
      };
    }
    return cannot(id, 'criterion', criterion, `no trial of the tuned configuration at ${fmt(rate, 0)} req/s`);
  }
  const timeouts = ts.reduce((s, t) => s + t.timeouts, 0);
  const dropped = ts.reduce((s, t) => s + t.dropped, 0);
  const sent = ts.reduce((s, t) => s + t.sent, 0);
  const achieved = values(ts, (t) => t.achievedRate);
  const shares = values(ts, (t) => (t.sent > 0 ? Math.min(1, t.timeouts / t.sent) : null));
  const lowAchieved = achieved.some((a) => a < rate * 0.99);
  const holds = timeouts === 0 && dropped === 0 && !lowAchieved;
  const capacity = e.capacity && e.capacity.maxRate !== null && e.capacity.maxRate < rate ? `; ${saturationText(e.capacity)}` : '';
  return {
    id,
    kind: 'criterion',
    criterion,
    verdict: holds ? 'holds' : 'does not hold',
    conclusive: true,
    figure: `${timeouts} timeouts (${sent} requests sent in the window; timeouts of warm-up requests count when they fire in it), ${dropped} dropped, sent ${achieved.length ? fmt(mean(achieved)) : '-'} req/s of ${fmt(rate, 0)}`,
    value: sent ? Math.min(1, timeouts / sent) : null,
    unit: 'timeouts/request',
    ci: shares.length ? bootstrap(shares, e.seed) : null,
    evidence: { runs: paths(ts), text: `tuned at ${fmt(rate, 0)} req/s, ${ts.length} run(s) (client side, 1 s timeout)${capacity}` },
  };
}

function saturationText(c: CapacityFigures): string {
  const sat = c.saturation ? `; saturated first: ${c.saturation.cause} (${c.saturation.evidence})` : '';
  return `this machine holds at most ${c.maxRate === null ? '-' : fmt(c.maxRate, 0)} req/s on ${c.configuration}${sat}`;
}

/** Connections a pool keeps open beyond what it needs: its peak use in the window, or its minimum. */
export const IDLE_TOLERANCE = 2;

function connectionsBalanced(e: StudyEvidence): Verdict {
  const id = 'c3-connection-use-balanced';
  const criterion = `Connection use balanced (tuned: no pool exhausted; no pool keeps more than ${IDLE_TOLERANCE} connections open beyond its peak use or its minimum)`;
  const ts = tunedAtPair(e).filter((t) => t.pools.primary !== null && t.pools.replica !== null);
  if (ts.length === 0) return cannot(id, 'criterion', criterion, 'no observer figures of connections by pool in the tuned runs', paths(tunedAtPair(e)));
  const excess = (p: PoolUse) => p.openMean - Math.max(p.poolMin, p.activeMax);
  const worst = ts.map((t) => Math.max(excess(t.pools.primary!), excess(t.pools.replica!)));
  const exhausted = ts.filter((t) => t.poolTimeouts > 0 || t.pools.primary!.openMax >= t.pools.primary!.poolMax || t.pools.replica!.openMax >= t.pools.replica!.poolMax);
  const p = (sel: 'primary' | 'replica') => {
    const open = mean(ts.map((t) => t.pools[sel]!.openMean));
    const active = mean(ts.map((t) => t.pools[sel]!.activeMean));
    const peak = Math.max(...ts.map((t) => t.pools[sel]!.activeMax));
    return `${sel} pool ${fmt(open)} open / ${fmt(active, 2)} active (peak ${peak})`;
  };
  const est = mean(worst);
  const ci = bootstrap(worst, e.seed);
  const v = exhausted.length > 0 ? { verdict: 'does not hold' as const, conclusive: true } : against(est, ci, IDLE_TOLERANCE + 1e-9, 'below', ts.length);
  return {
    id,
    kind: 'criterion',
    criterion,
    ...v,
    figure: `${p('primary')}; ${p('replica')} (observer, mean over samples)`,
    value: est,
    unit: 'connections open beyond max(peak use, min), worse pool',
    ci,
    evidence: {
      runs: paths(ts),
      text:
        (exhausted.length > 0 ? `a pool reached its max or timed out (POOL_TIMEOUT) in ${exhausted.length} run(s)` : `${ts.length} tuned run(s); pgxpool MinConns ${ts[0]!.pools.primary!.poolMin}, MaxConns ${ts[0]!.pools.primary!.poolMax}`) +
        '; open connections include those a burst opened before the window (e.g. the generator reading the library state, 8 requests at once) and kept until the pool idle timeout (30 s)',
    },
  };
}

function cacheHit(e: StudyEvidence): Verdict {
  const id = 'c4-cache-hit-both-nodes';
  const criterion = `~100% cache hit on both nodes (tuned; ≥ ${pct(CACHE_HIT_THRESHOLD, 0)})`;
  const ts = tunedAtPair(e);
  const prim = values(ts, (t) => t.cacheHit.primary);
  const repl = values(ts, (t) => t.cacheHit.replica);
  if (prim.length === 0 || repl.length === 0) {
    return cannot(id, 'criterion', criterion, `no cache-hit figure for the ${prim.length === 0 ? 'primary' : 'replica'} in the tuned runs (observer missing, or no block reads at all)`, paths(ts));
  }
  const worst = ts.map((t) => Math.min(t.cacheHit.primary ?? 1, t.cacheHit.replica ?? 1));
  const est = mean(worst);
  const ci = bootstrap(worst, e.seed);
  return {
    id,
    kind: 'criterion',
    criterion,
    ...against(est, ci, CACHE_HIT_THRESHOLD, 'at-least', worst.length),
    figure: `primary ${pct(mean(prim), 2)}, replica ${pct(mean(repl), 2)} (pg_stat_database blks_hit / (hit + read), over each measured window)`,
    value: est,
    unit: 'hit ratio, worse node',
    ci,
    evidence: { runs: paths(ts), text: `${ts.length} tuned run(s)` },
  };
}

function replicationLag(e: StudyEvidence): Verdict {
  const id = 'c5-replication-lag-under-10ms';
  const criterion = `Replication lag < ${LAG_THRESHOLD_MS} ms (tuned; p99 of each run)`;
  const ts = tunedAtPair(e);
  const lags = values(ts, (t) => t.replicationLagP99Ms);
  if (lags.length === 0) return cannot(id, 'criterion', criterion, 'no replication-lag samples in the tuned runs (observer missing, or no replica)', paths(ts));
  const est = mean(lags);
  const ci = bootstrap(lags, e.seed);
  return {
    id,
    kind: 'criterion',
    criterion,
    ...against(est, ci, LAG_THRESHOLD_MS, 'below', lags.length),
    figure: `replay lag p99 ${fmt(est, 2)} ms (mean over ${lags.length} run(s); max ${fmt(Math.max(...lags), 2)} ms; primary's pg_stat_replication)`,
    value: est,
    unit: 'ms',
    ci,
    evidence: { runs: paths(ts), text: `sampled every ${DEFAULT_SAMPLE_INTERVAL_MS} ms by the observer` },
  };
}

function improvementVerdict(e: StudyEvidence, id: string, kind: Verdict['kind'], criterion: string, aKey: string, bKey: string, threshold: number): Verdict {
  const a = trialsOf(e, aKey, e.pair.low);
  const b = trialsOf(e, bKey, e.pair.low);
  const am = values(a, (t) => t.meanMs);
  const bm = values(b, (t) => t.meanMs);
  if (am.length === 0 || bm.length === 0) return cannot(id, kind, criterion, `no ${am.length === 0 ? aKey : bKey} run with a latency at ${fmt(e.pair.low, 0)} req/s`, paths(a, b));
  const r = relativeImprovement(am, bm, e.seed);
  return {
    id,
    kind,
    criterion,
    ...against(r.estimate, r.ci, threshold, 'at-least', Math.min(am.length, bm.length)),
    figure: `client mean ${fmt(mean(am))} → ${fmt(mean(bm))} ms: ${r.estimate >= 0 ? `${pct(r.estimate)} better` : `${pct(-r.estimate)} worse`} (${aKey} → ${bKey}, ${rateText(e, e.pair.low)})`,
    value: r.estimate,
    unit: 'relative improvement of the client mean',
    ci: r.ci,
    evidence: { runs: paths(a, b), text: `${latencyLine(aKey, a)}; ${latencyLine(bKey, b)}` },
  };
}

// --- claims (ablation) -----------------------------------------------------------------------

interface Compared {
  comparison: Comparison;
  a: TrialFigures[];
  b: TrialFigures[];
}

function compare(e: StudyEvidence, aKey: string, bKey: string, metric: string, f: (t: TrialFigures) => number | null): Compared | null {
  const a = trialsOf(e, aKey, e.pair.low);
  const b = trialsOf(e, bKey, e.pair.low);
  const av = values(a, f);
  const bv = values(b, f);
  if (av.length === 0 || bv.length === 0) return null;
  return { comparison: compareSamples(av, bv, { metric, seed: e.seed, labels: [aKey, bKey], stat: meanOf }), a, b };
}

/** "b is better than a" (lower is better): significant and practical → holds; a CI that rules a practical gain out → does not hold. */
function improves(c: Compared, reference: number): { verdict: VerdictKind; conclusive: boolean } {
  const limit = practicalLimit(reference);
  const k = c.comparison;
  if (!enough(c.a, c.b)) return { verdict: k.effect <= -limit ? 'holds' : 'does not hold', conclusive: false };
  if (k.significant && k.practical && k.effect < 0) return { verdict: 'holds', conclusive: true };
  if (k.ci[0] > -limit) return { verdict: 'does not hold', conclusive: true };
  return { verdict: k.effect <= -limit ? 'holds' : 'does not hold', conclusive: false };
}

function compareText(c: Comparison, unit: string): string {
  return `${c.metric}: effect ${fmt(c.effect, 2)} ${unit} (${c.b} − ${c.a}), 95% CI [${fmt(c.ci[0], 2)}, ${fmt(c.ci[1], 2)}], ${c.test}, p = ${c.pValue.toPrecision(2)}${c.significant ? ' (significant after Holm)' : ''}`;
}

function poolMinClaim(e: StudyEvidence, c: Compared | null): Verdict {
  const id = 'claim-pool-min';
  const criterion = `"MinConns 20→2 removed 14 ms of application overhead" (original vs original with MinConns 2, ${rateText(e, e.pair.low)})`;
  if (!c) return cannot(id, 'claim', criterion, 'missing runs of original or original+pool-min');
  const gain = -c.comparison.effect;
  const [lo, hi] = [-c.comparison.ci[1], -c.comparison.ci[0]];
  // Holds when a gain is shown and 14 ms is inside (or below) its CI; does not hold when the CI excludes 14 ms.
  const conclusive = enough(c.a, c.b) && (hi < CLAIMED_POOL_MIN_GAIN_MS || (c.comparison.significant && lo > 0 && hi >= CLAIMED_POOL_MIN_GAIN_MS));
  const verdict: VerdictKind = conclusive ? (hi < CLAIMED_POOL_MIN_GAIN_MS ? 'does not hold' : 'holds') : gain >= CLAIMED_POOL_MIN_GAIN_MS ? 'holds' : 'does not hold';
  const app = (ts: TrialFigures[]) => {
    const v = values(ts, (t) => t.appOverheadMs);
    return v.length ? fmt(mean(v), 2) : '-';
  };
  return {
    id,
    kind: 'claim',
    criterion,
    verdict,
    conclusive,
    figure: `client mean ${fmt(Math.abs(gain), 2)} ms ${gain >= 0 ? 'faster' : 'slower'} with MinConns 2 (the study: 14 ms faster, 42.9 → 28.9 ms at 30 req/s)`,
    value: gain,
    unit: 'ms (client mean, original − MinConns 2)',
    ci: ciOf(lo, hi),
    evidence: {
      runs: paths(c.a, c.b),
      text: `${compareText(c.comparison, 'ms')}; app overhead (service: server − DB round trip − pool wait) ${app(c.a)} → ${app(c.b)} ms`,
    },
  };
}

function ginPages(ts: TrialFigures[]): string {
  const v = ts.map((t) => Math.max(0, ...Object.values(t.ginPendingPagesMax)));
  return v.length ? String(Math.max(...v)) : '-';
}

function fastupdateClaim(e: StudyEvidence, c: Compared | null): Verdict {
  const id = 'claim-gin-fastupdate';
  const criterion = `"GIN fastupdate on (removing fastupdate=off) is a critical fix" (original vs original with fastupdate on, ${rateText(e, e.pair.low)})`;
  if (!c) return cannot(id, 'claim', criterion, 'missing runs of original or original+gin-fastupdate');
  const ref = mean(values(c.a, (t) => t.p99Ms));
  const v = improves(c, ref);
  const timeouts = (ts: TrialFigures[]) => ts.reduce((s, t) => s + t.timeouts, 0);
  return {
    id,
    kind: 'claim',
    criterion,
    ...v,
    figure: `client p99 ${fmt(ref)} → ${fmt(mean(values(c.b, (t) => t.p99Ms)))} ms (off → on); timeouts ${timeouts(c.a)} → ${timeouts(c.b)}`,
    value: c.comparison.effect,
    unit: 'ms (client p99, on − off)',
    ci: ciOf(c.comparison.ci[0], c.comparison.ci[1]),
    evidence: { runs: paths(c.a, c.b), text: `${compareText(c.comparison, 'ms')}; GIN pending pages max (primary) off ${ginPages(c.a)} / on ${ginPages(c.b)}` },
  };
}

function autovacuumClaim(e: StudyEvidence): Verdict {
  const id = 'claim-autovacuum-spikes';
  const criterion = `"The autovacuum settings removed the periodic spikes" (original vs original with seed 003's autovacuum, ${rateText(e, e.pair.low)})`;
  const a = trialsOf(e, 'original', e.pair.low);
  const b = trialsOf(e, 'original+autovacuum', e.pair.low);
  if (a.length === 0 || b.length === 0) return cannot(id, 'claim', criterion, 'missing runs of original or original+autovacuum');
  const perMin = (ts: TrialFigures[]) => values(ts, (t) => (t.windowSeconds > 0 ? (t.timeoutSpikes.length * 60) / t.windowSeconds : null));
  const aRecurring = a.filter((t) => t.timeoutSpikes.length >= 2);
  const longest = Math.max(...a.map((t) => t.windowSeconds));
  const causes = (ts: TrialFigures[]) => [...new Set(ts.flatMap((t) => t.timeoutSpikes.flatMap((s) => s.causes.map((x) => x.split(':')[0]!))))].join(', ') || 'none';
  const count = (ts: TrialFigures[]) => ts.reduce((s, t) => s + t.timeoutSpikes.length, 0);
  const figure = `timeout spikes: original ${count(a)} in ${fmt(a.reduce((s, t) => s + t.windowSeconds, 0), 0)} s, seed 003 autovacuum ${count(b)} in ${fmt(b.reduce((s, t) => s + t.windowSeconds, 0), 0)} s`;
  if (aRecurring.length === 0) {
    const why =
      longest < PERIOD_WINDOW_S
        ? `the original configuration showed no recurring timeout spikes in windows of ${fmt(longest, 0)} s (spikes "every couple of minutes" need ≥ ${PERIOD_WINDOW_S} s; --full)`
        : `the original configuration showed no recurring timeout spikes in ${fmt(longest, 0)} s: there was nothing for the autovacuum settings to remove`;
    return { ...cannot(id, 'claim', criterion, why, paths(a, b)), figure };
  }
  const pa = perMin(a);
  const pb = perMin(b);
  const c = compareSamples(pa, pb, { metric: 'timeout spikes per minute', seed: e.seed, labels: ['original', 'original+autovacuum'], stat: meanOf, threshold: { relative: 0.5, absoluteMs: 0.1 } });
  const bRecurring = b.filter((t) => t.timeoutSpikes.length >= 2).length;
  const verdict: VerdictKind = bRecurring === 0 && c.effect < 0 ? 'holds' : 'does not hold';
  return {
    id,
    kind: 'claim',
    criterion,
    verdict,
    conclusive: enough(a, b) && (verdict === 'holds' ? c.significant : c.ci[0] > -0.1 || bRecurring > 0),
    figure,
    value: c.effect,
    unit: 'timeout spikes/min (autovacuum − original)',
    ci: ciOf(c.ci[0], c.ci[1]),
    evidence: { runs: paths(a, b), text: `${compareText(c, 'spikes/min')}; causes seen: original ${causes(a)}; seed 003 autovacuum ${causes(b)}` },
  };
}

function memoryClaim(e: StudyEvidence, c: Compared | null): Verdict {
  const id = 'claim-memory-split';
  const criterion = `"Swapping memory (primary 7→4 GB, replica 3→6 GB) to match the load" improves response time (scaled to this machine's RAM, ${rateText(e, e.pair.low)})`;
  if (!e.memory.measurable) return cannot(id, 'claim', criterion, e.memory.reason ?? 'shared_buffers cannot be changed on this cluster');
  if (!c) return cannot(id, 'claim', criterion, 'missing runs of original or original+memory');
  const ref = mean(values(c.a, (t) => t.meanMs));
  return {
    id,
    kind: 'claim',
    criterion,
    ...improves(c, ref),
    figure: `client mean ${fmt(ref)} → ${fmt(mean(values(c.b, (t) => t.meanMs)))} ms; cache hit primary ${hitText(c.a, 'primary')} → ${hitText(c.b, 'primary')}, replica ${hitText(c.a, 'replica')} → ${hitText(c.b, 'replica')}`,
    value: c.comparison.effect,
    unit: 'ms (client mean, swapped − before)',
    ci: ciOf(c.comparison.ci[0], c.comparison.ci[1]),
    evidence: { runs: paths(c.a, c.b), text: compareText(c.comparison, 'ms') },
  };
}

function hitText(ts: TrialFigures[], node: 'primary' | 'replica'): string {
  const v = values(ts, (t) => t.cacheHit[node]);
  return v.length ? pct(mean(v), 2) : '-';
}

function esbenchClaim(e: StudyEvidence, id: string, criterion: string, c: Compared | null, missing: string): Verdict {
  if (!c) return cannot(id, 'esbench', criterion, missing);
  const ref = mean(values(c.a, (t) => t.meanMs));
  return {
    id,
    kind: 'esbench',
    criterion,
    ...improves(c, ref),
    figure: `client mean ${fmt(ref)} → ${fmt(mean(values(c.b, (t) => t.meanMs)))} ms (${c.comparison.a} → ${c.comparison.b})`,
    value: c.comparison.effect,
    unit: 'ms (client mean, b − a)',
    ci: ciOf(c.comparison.ci[0], c.comparison.ci[1]),
    evidence: { runs: paths(c.a, c.b), text: `${latencyLine(c.comparison.a, c.a)}; ${latencyLine(c.comparison.b, c.b)}; ${compareText(c.comparison, 'ms')}` },
  };
}

/** "No worse": the safe append must not cost a practical amount of latency. */
function noWorseClaim(e: StudyEvidence, id: string, criterion: string, c: Compared | null, missing: string): Verdict {
  if (!c) return cannot(id, 'esbench', criterion, missing);
  const ref = mean(values(c.a, (t) => t.meanMs));
  const limit = practicalLimit(ref);
  const worse = c.comparison.significant && c.comparison.practical && c.comparison.effect > 0;
  const conclusive = enough(c.a, c.b) && (worse || c.comparison.ci[1] < limit);
  const verdict: VerdictKind = worse ? 'does not hold' : conclusive ? 'holds' : c.comparison.effect < limit ? 'holds' : 'does not hold';
  return {
    id,
    kind: 'esbench',
    criterion,
    verdict,
    conclusive,
    figure: `client mean ${fmt(ref)} → ${fmt(mean(values(c.b, (t) => t.meanMs)))} ms (${c.comparison.a} → ${c.comparison.b}; practical limit ${fmt(limit, 2)} ms)`,
    value: c.comparison.effect,
    unit: 'ms (client mean, b − a)',
    ci: ciOf(c.comparison.ci[0], c.comparison.ci[1]),
    evidence: { runs: paths(c.a, c.b), text: compareText(c.comparison, 'ms') },
  };
}

/** Applies Holm's correction over the ablation comparisons (they share baselines), in place. */
function correct(list: Array<Compared | null>): void {
  const present = list.filter((c): c is Compared => c !== null);
  const adjusted = holm(present.map((c) => c.comparison.pValue));
  present.forEach((c, i) => {
    c.comparison.pValue = adjusted[i]!;
    c.comparison.significant = adjusted[i]! < 0.05;
  });
}

/** Every criterion and claim, in the order the study listed them. */
export function judge(e: StudyEvidence): Verdict[] {
  const mean = (t: TrialFigures) => t.meanMs;
  const p99 = (t: TrialFigures) => t.p99Ms;
  const poolMin = compare(e, 'original', 'original+pool-min', 'client mean latency', mean);
  const fastupdate = compare(e, 'original', 'original+gin-fastupdate', 'client p99 latency', p99);
  const memory = compare(e, 'original', 'original+memory', 'client mean latency', mean);
  const append = compare(e, 'tuned', 'tuned+append-strategy', 'client mean latency', mean);
  const decisions = compare(e, 'tuned', 'tuned+decisions', 'client mean latency', mean);
  const commandPath = compare(e, 'tuned', 'tuned+command-path', 'client mean latency', mean);
  const esbench = compare(e, 'tuned', 'esbench', 'client mean latency', mean);
  correct([poolMin, fastupdate, memory, append, decisions, commandPath, esbench]);
  const studyHigh = e.studyRates.high;
  const verdicts: Verdict[] = [
    noPeriodicSpikes(e),
    sustainedRate(e, studyHigh, 'c2-300-req-s-without-timeouts', `${studyHigh} req/s sustained with no timeout errors (tuned, the study's rate on this machine)`),
  ];
  if (e.pair.scaled) {
    verdicts.push(sustainedRate(e, e.pair.high, 'c2s-scaled-rate-without-timeouts', `${rateText(e, e.pair.high)} sustained with no timeout errors (tuned)`));
  }
  verdicts.push(
    connectionsBalanced(e),
    cacheHit(e),
    replicationLag(e),
    improvementVerdict(e, 'c6-response-time-40-percent-better', 'criterion', `Response time 40%+ better (tuned vs original, client mean, ${rateText(e, e.pair.low)})`, 'original', 'tuned', IMPROVEMENT_THRESHOLD),
    poolMinClaim(e, poolMin),
    fastupdateClaim(e, fastupdate),
    autovacuumClaim(e),
    memoryClaim(e, memory),
    noWorseClaim(e, 'esbench-safe-append', "esbench's race-free append costs no practical latency over the study's unlocked one (tuned vs tuned with the safe append)", append, 'missing runs of tuned or tuned+append-strategy'),
    esbenchClaim(e, 'esbench-snapshots', 'Snapshot decisions are faster than re-folding the whole boundary (tuned vs tuned with snapshots)', decisions, 'missing runs of tuned or tuned+decisions'),
    esbenchClaim(e, 'esbench-command-path', "esbench's command path (btree boundary indexes, prepared statements, locks held from read to append) is faster than the study's (tuned vs tuned with it)", commandPath, 'missing runs of tuned or tuned+command-path'),
    esbenchClaim(e, 'esbench-vs-tuned', "esbench's configuration is faster than seed 003's (tuned vs esbench)", esbench, 'missing runs of tuned or esbench'),
  );
  return verdicts;
}

/** The ids judge() always returns (c2s only when the pair is scaled). */
export const VERDICT_IDS = [
  'c1-no-periodic-timeout-spikes',
  'c2-300-req-s-without-timeouts',
  'c3-connection-use-balanced',
  'c4-cache-hit-both-nodes',
  'c5-replication-lag-under-10ms',
  'c6-response-time-40-percent-better',
  'claim-pool-min',
  'claim-gin-fastupdate',
  'claim-autovacuum-spikes',
  'claim-memory-split',
  'esbench-safe-append',
  'esbench-snapshots',
  'esbench-command-path',
  'esbench-vs-tuned',
] as const;
