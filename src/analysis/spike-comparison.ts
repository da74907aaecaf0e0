/**
 * Are the spikes gone? One run's spike analysis against a reference run's (typically: after a
 * change against before it), on three figures, each with a test:
 * - spike count: episodes per minute of measured window, a conditional binomial test of two
 *   Poisson rates (one-sided: fewer in the run than in the reference);
 * - timeouts: timeouts per request sent, the same test with requests as the exposure;
 * - severity: the per-second client p99s, a one-sided Mann-Whitney U (the reference's higher).
 *   Seconds of one run are not independent (a spike lasts several), so its p-value is indicative;
 *   the verdict rests on the count and timeout tests.
 * Then one plain sentence: gone / fewer but not gone / not gone / worse / none to begin with.
 */
import type { SecondRecord } from '../load/latency-recorder.ts';
import { mannWhitneyGreater, rateLower, type MannWhitneyResult, type RateTestResult } from './robust-stats.ts';
import type { SpikeReport } from './spike-types.ts';

export interface RunSpikeFigures {
  /** Where the run was read from. */
  path: string;
  windowSeconds: number;
  requests: number;
  timeouts: number;
  spikes: number;
  spikesPerMinute: number;
  /** Seconds inside spike episodes. */
  spikeSeconds: number;
  worstP99Ms: number | null;
  baselineP99Ms: number | null;
  /** Per-second client p99 of the measured window (the severity test's input). */
  p99s: number[];
}

export type SpikeVerdict = 'gone' | 'gone, but not significantly' | 'fewer but not gone' | 'not gone' | 'worse' | 'none to begin with';

export interface SpikeComparison {
  run: Omit<RunSpikeFigures, 'p99s'>;
  against: Omit<RunSpikeFigures, 'p99s'>;
  alpha: number;
  count: RateTestResult | null;
  /** The same test the other way round: more spikes in the run than in the reference. */
  countWorse: RateTestResult | null;
  timeouts: RateTestResult | null;
  timeoutsWorse: RateTestResult | null;
  severity: (MannWhitneyResult & { note: string }) | null;
  verdict: SpikeVerdict;
  sentence: string;
}

export function spikeFigures(path: string, report: SpikeReport, seconds: readonly SecondRecord[]): RunSpikeFigures {
  const measured = seconds.filter((s) => s.phase === 'measure' && s.counters.sent + s.counters.completed + s.counters.timeouts > 0);
  const windowSeconds = measured.length;
  return {
    path,
    windowSeconds,
    requests: measured.reduce((n, s) => n + s.counters.sent, 0),
    timeouts: measured.reduce((n, s) => n + s.counters.timeouts, 0),
    spikes: report.spikes.length,
    spikesPerMinute: windowSeconds > 0 ? (report.spikes.length * 60) / windowSeconds : 0,
    spikeSeconds: report.spikes.reduce((n, s) => n + s.lastSecond - s.firstSecond + 1, 0),
    worstP99Ms: report.spikes.length > 0 ? Math.max(...report.spikes.map((s) => s.worstP99Ms ?? 0)) : null,
    baselineP99Ms: report.baselineP99Ms,
    // A second without any response (all timed out) counts at the worst p99 seen: it was not fast.
    p99s: measured.map((s) => s.latency.p99 ?? Math.max(0, ...measured.map((x) => x.latency.p99 ?? 0))),
  };
}

const p = (x: number): string => (x < 0.001 ? '< 0.001' : x.toFixed(3));
const per = (n: number, d: number, unit: number): string => (d > 0 ? ((n * unit) / d).toFixed(n * unit >= d * 10 ? 1 : 2) : '-');

export function compareSpikes(run: RunSpikeFigures, against: RunSpikeFigures, alpha = 0.05): SpikeComparison {
  const count = rateLower(run.spikes, run.windowSeconds, against.spikes, against.windowSeconds);
  const countWorse = rateLower(against.spikes, against.windowSeconds, run.spikes, run.windowSeconds);
  const timeouts = rateLower(run.timeouts, run.requests, against.timeouts, against.requests);
  const timeoutsWorse = rateLower(against.timeouts, against.requests, run.timeouts, run.requests);
  const mw = mannWhitneyGreater(run.p99s, against.p99s);
  const severity = mw ? { ...mw, note: 'per-second values within a run are autocorrelated: indicative only' } : null;
  const fewer = (count !== null && count.pValue < alpha && run.spikes < against.spikes) || (timeouts !== null && timeouts.pValue < alpha && run.timeouts < against.timeouts);
  const more = (countWorse !== null && countWorse.pValue < alpha && run.spikes > against.spikes) || (timeoutsWorse !== null && timeoutsWorse.pValue < alpha && run.timeouts > against.timeouts);
  const none = run.spikes === 0 && run.timeouts === 0;
  let verdict: SpikeVerdict;
  if (against.spikes === 0 && against.timeouts === 0) verdict = 'none to begin with';
  else if (none) verdict = fewer ? 'gone' : 'gone, but not significantly';
  else if (fewer && !more) verdict = 'fewer but not gone';
  else if (more) verdict = 'worse';
  else verdict = 'not gone';

  const describe = (f: RunSpikeFigures): string =>
    `${f.spikes} spike${f.spikes === 1 ? '' : 's'} (${per(f.spikes, f.windowSeconds, 60)}/min) and ${f.timeouts} timeout${f.timeouts === 1 ? '' : 's'} (${per(f.timeouts, f.requests, 1000)} per 1000 requests) in ${f.windowSeconds} s${f.worstP99Ms !== null ? `, worst p99 ${f.worstP99Ms.toFixed(0)} ms` : ''}`;
  const tests = `spike rate p ${count ? p(count.pValue) : '-'}, timeout rate p ${timeouts ? p(timeouts.pValue) : '-'} (one-sided conditional binomial tests)`;
  const head: Record<SpikeVerdict, string> = {
    gone: 'Gone',
    'gone, but not significantly': 'Gone from this run, but the reference had too few spikes to rule out chance',
    'fewer but not gone': 'Fewer but not gone',
    'not gone': 'Not gone',
    worse: 'Worse',
    'none to begin with': 'Nothing to be gone: the reference run had no spikes',
  };
  const sentence = `${head[verdict]}: ${describe(run)}, against ${describe(against)}; ${tests}.`;
  const strip = ({ p99s: _p99s, ...rest }: RunSpikeFigures): Omit<RunSpikeFigures, 'p99s'> => rest;
  return { run: strip(run), against: strip(against), alpha, count, countWorse, timeouts, timeoutsWorse, severity, verdict, sentence };
}
