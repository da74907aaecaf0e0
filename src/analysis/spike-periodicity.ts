/**
 * Whether spikes come with a rhythm, and whose: the interval between spike starts next to the
 * interval between the occurrences of each recurring cause over the whole run (an autoanalyze of
 * a table, a GIN flush, a checkpoint) and the settings that set such rhythms. The study blamed
 * "periodic spikes" on autovacuum; this puts the two periods side by side.
 */
import { mean, median, standardDeviation } from 'simple-statistics';
import type { GinFlush, PeriodicCause, Periodicity, Spike, SpikeCauseKind } from './spike-types.ts';
import type { NodeTimeline } from './spike-timeline.ts';

interface Occurrences {
  what: string;
  kind: SpikeCauseKind;
  times: number[];
  inSpike: (s: Spike) => boolean;
}

function intervalStats(times: readonly number[]): { mean: number | null; stddev: number | null } {
  const sorted = [...times].sort((a, b) => a - b);
  const intervals = sorted.slice(1).map((t, i) => (t - sorted[i]!) / 1000);
  if (intervals.length === 0) return { mean: null, stddev: null };
  return { mean: mean(intervals), stddev: intervals.length > 1 ? standardDeviation(intervals) : 0 };
}

const s0 = (x: number): string => x.toFixed(0);

export function periodicityOf(spikes: readonly Spike[], timelines: readonly NodeTimeline[], flushes: readonly GinFlush[]): Periodicity | null {
  if (spikes.length < 3) return null;
  const starts = spikes.map((s) => s.from);
  const intervals = starts.slice(1).map((t, i) => (t - starts[i]!) / 1000);
  const spikePeriod = { count: spikes.length, meanSeconds: mean(intervals), medianSeconds: median(intervals), stddevSeconds: intervals.length > 1 ? standardDeviation(intervals) : 0 };

  const groups = new Map<string, Occurrences>();
  const add = (key: string, make: () => Omit<Occurrences, 'times'>, t: number): void => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ...make(), times: [] }));
    g.times.push(t);
  };
  for (const tl of timelines) {
    for (const m of tl.maintenance) {
      add(`m|${tl.node}|${m.kind}|${m.relation}`, () => ({
        what: `${m.kind} ${m.relation} (${tl.node})`,
        kind: m.kind,
        inSpike: (s) => s.causes.some((c) => c.kind === m.kind && c.node === tl.node && c.figures?.relation === m.relation),
      }), m.start ?? m.earliest);
    }
    for (const c of tl.checkpoints) {
      add(`c|${tl.node}`, () => ({ what: `${c.type} (${tl.node})`, kind: 'checkpoint', inSpike: (s) => s.causes.some((x) => x.kind === 'checkpoint' && x.node === tl.node) }), c.start ?? c.completedBetween[1]);
    }
  }
  for (const f of flushes) {
    add(`g|${f.node}|${f.index}`, () => ({
      what: `GIN pending-list flush of ${f.index} (${f.node})`,
      kind: 'GIN pending list',
      inSpike: (s) => s.causes.some((c) => c.kind === 'GIN pending list' && c.node === f.node && c.figures?.index === f.index),
    }), f.between[1]);
  }

  const causes: PeriodicCause[] = [];
  for (const g of groups.values()) {
    const { mean: m, stddev } = intervalStats(g.times);
    const spikesWithIt = spikes.filter(g.inSpike).length;
    const tolerance = Math.max(0.15 * spikePeriod.meanSeconds, 2 * Math.max(spikePeriod.stddevSeconds, stddev ?? 0));
    const matches = m !== null && Math.abs(m - spikePeriod.meanSeconds) <= tolerance && spikesWithIt >= Math.ceil(spikes.length / 2);
    causes.push({ what: g.what, kind: g.kind, occurrences: g.times.length, meanSeconds: m, stddevSeconds: stddev, spikesWithIt, matches });
  }
  causes.sort((a, b) => Number(b.matches) - Number(a.matches) || b.spikesWithIt - a.spikesWithIt);

  const settings: Record<string, string> = {};
  for (const tl of timelines) {
    for (const name of ['autovacuum_naptime', 'checkpoint_timeout', 'gin_pending_list_limit']) {
      const v = tl.settings[name];
      if (v !== undefined) settings[`${name} (${tl.node})`] = v;
    }
  }
  const head = `${spikes.length} spikes, one every ${s0(spikePeriod.meanSeconds)} s on average (median ${s0(spikePeriod.medianSeconds)} s, stddev ${s0(spikePeriod.stddevSeconds)} s)`;
  const matched = causes.filter((c) => c.matches);
  const naptime = timelines.find((t) => !t.inRecovery)?.settings.autovacuum_naptime;
  const sentence = matched.length > 0
    ? `${head}; ${matched.map((c) => `${c.what} every ${s0(c.meanSeconds!)} s (stddev ${s0(c.stddevSeconds ?? 0)} s), in ${c.spikesWithIt} of ${spikes.length} spikes`).join('; ')} — the same period${naptime ? ` (autovacuum_naptime ${naptime})` : ''}.`
    : `${head}; no recurring cause has that period${causes.length > 0 ? ` (closest: ${causes.slice(0, 2).map((c) => `${c.what} ${c.meanSeconds === null ? `seen ${c.occurrences}×` : `every ${s0(c.meanSeconds)} s`}, in ${c.spikesWithIt} spikes`).join('; ')})` : ''}${naptime ? `; autovacuum_naptime ${naptime}` : ''}.`;
  return { spikes: spikePeriod, causes, settings, sentence };
}
