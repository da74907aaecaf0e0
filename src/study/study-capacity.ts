/**
 * How many requests per second this machine holds on one configuration: a short search over rates
 * (up from a probe, then bisecting between the last rate held and the first one missed), each step a
 * trial from the same history. The study's own fallback while src/tuner/capacity.ts (runCapacity)
 * is not on this branch; its result has the same shape as capacity.json's core.
 *
 * A rate is held when the measured window had no timeout, no 5xx, nothing dropped, the generator
 * sent ≥ 99 % of the target, and the client p99 stayed under 500 ms. What saturated first is read
 * from the first rate missed: CPU of every process (/proc) against the machine's cores.
 */
import type { TrialFigures } from './trial-figures.ts';
import type { CapacityFigures } from './verdicts.ts';

export const CAPACITY_P99_LIMIT_MS = 500;

export function held(t: TrialFigures): boolean {
  return (
    !t.partial &&
    t.timeouts === 0 &&
    t.http5xx === 0 &&
    t.dropped === 0 &&
    t.achievedRate !== null &&
    t.achievedRate >= t.rate * 0.99 &&
    t.p99Ms !== null &&
    t.p99Ms < CAPACITY_P99_LIMIT_MS
  );
}

/** The next rate to try, or null when the search is narrow enough (within 10 %) or out of steps. */
export function nextRate(steps: readonly TrialFigures[], maxSteps: number, ceiling: number, probe = 100): number | null {
  if (steps.length === 0) return Math.min(probe, ceiling);
  if (steps.length >= maxSteps) return null;
  const passed = steps.filter(held).map((t) => t.rate);
  const failed = steps.filter((t) => !held(t)).map((t) => t.rate);
  const lo = passed.length ? Math.max(...passed) : 0;
  const hi = failed.length ? Math.min(...failed.filter((r) => r > lo).concat([Infinity])) : Infinity;
  if (hi === Infinity) {
    if (lo >= ceiling) return null;
    // Up: towards the CPU-bound estimate of the last run, at least ×1.5, never past the ceiling.
    const last = steps[steps.length - 1]!;
    const estimate = last.cpu?.cpuBoundRateEstimate ?? 0;
    return Math.round(Math.min(ceiling, Math.max(lo * 1.5, Math.min(estimate * 0.9, lo * 2.5))));
  }
  if (lo === 0) return hi / 2 < 5 ? null : Math.round(hi / 2);
  if ((hi - lo) / hi <= 0.1) return null;
  return Math.round((lo + hi) / 2);
}

/** What the first missed rate shows: CPU of every process against the machine's cores. */
export function saturationOf(t: TrialFigures | undefined, cpus: number): CapacityFigures['saturation'] {
  if (!t) return null;
  const cores = t.cpu?.cores ?? {};
  const parts = Object.entries(cores)
    .filter((e): e is [string, number] => e[1] !== null)
    .sort((a, b) => b[1] - a[1]);
  const busy = parts.reduce((s, [, c]) => s + c, 0);
  const where = parts.map(([p, c]) => `${p} ${c.toFixed(2)}`).join(', ');
  const what = `at ${t.rate.toFixed(0)} req/s: ${t.timeouts} timeouts, p99 ${t.p99Ms === null ? '-' : t.p99Ms.toFixed(0)} ms, sent ${t.achievedRate === null ? '-' : t.achievedRate.toFixed(0)} req/s`;
  if (parts.length > 0 && busy >= 0.85 * cpus) {
    return {
      cause: `CPU (${busy.toFixed(2)} of ${cpus} cores busy; most: ${parts[0]![0]})`,
      evidence: `${what}; cores by process: ${where}; ${t.cpu?.totalMsPerRequest?.toFixed(2) ?? '-'} ms CPU per request (/proc, measured window)`,
    };
  }
  return {
    cause: parts.length > 0 ? `queueing before the CPUs were full (${busy.toFixed(2)} of ${cpus} cores busy)` : 'unknown (CPU per process not readable)',
    evidence: `${what}${where ? `; cores by process: ${where}` : ''}; pool wait ${t.poolWaitMs?.toFixed(1) ?? '-'} ms mean`,
  };
}

export function capacityOf(steps: readonly TrialFigures[], configuration: string, cpus: number, path: string | null): CapacityFigures {
  const passed = steps.filter(held);
  const maxRate = passed.length ? Math.max(...passed.map((t) => t.rate)) : null;
  const missed = steps.filter((t) => !held(t) && (maxRate === null || t.rate > maxRate)).sort((a, b) => a.rate - b.rate);
  const firstMissed = missed[0];
  return {
    maxRate,
    // One trial per rate: no confidence interval, but the bracket it lies in.
    ci: null,
    bracket: maxRate !== null && firstMissed ? [maxRate, firstMissed.rate] : null,
    configuration,
    saturation: saturationOf(firstMissed, cpus),
    path,
  };
}
