/**
 * The sweep (sweep.json): each metric per level with its confidence interval, the comparisons
 * between levels, and the recommendation. Every metric the levels carry as {estimate, lo, hi} gets
 * a chart, so a metric added to sweep.json later shows up without a change here.
 */
import { renderChart } from '../charts/chart-renderer.ts';
import { ciSpec, type CiPoint } from '../charts/ci-chart.ts';
import { arr, bool, estimateOf, num, pickStr, rec, str, type Json } from './loose.ts';
import { anchorId, figure, fmt, fmtCi, grid, join, list, note, para, table, type Cell, type Rendered, type Section } from './markup.ts';

/** What each known metric measures and where. */
export const METRICS: Record<string, { title: string; yTitle: string; where: string; short: string; digits: number }> = {
  p50: { title: 'Client p50 latency per level (ms)', yTitle: 'p50 (ms)', where: 'load generator, from the intended send time; one value per trial', short: 'load generator', digits: 1 },
  p99: { title: 'Client p99 latency per level (ms)', yTitle: 'p99 (ms)', where: 'load generator, from the intended send time; one value per trial', short: 'load generator', digits: 1 },
  timeouts: { title: 'Timeouts per trial, per level', yTitle: 'timeouts', where: 'load generator (client timeout); one value per trial', short: 'load generator', digits: 1 },
  achievedRate: { title: 'Achieved rate per level (req/s)', yTitle: 'req/s', where: 'load generator: sent in the window / window length; one value per trial', short: 'load generator', digits: 1 },
};

const NOT_METRICS = new Set(['factor', 'value', 'key', 'trials', 'config', 'settings', 'description', 'runs', 'paths']);

interface LevelView {
  key: string;
  factor: string;
  value: string;
  trials: string[];
  trialCount: number | null;
  metrics: Record<string, ReturnType<typeof estimateOf>>;
}

function levelsOf(sweep: Record<string, Json>): LevelView[] {
  return arr(sweep.levels)
    .map(rec)
    .filter((l): l is Record<string, Json> => l !== undefined)
    .map((l) => {
      const metrics: LevelView['metrics'] = {};
      for (const [k, v] of Object.entries(l)) {
        if (NOT_METRICS.has(k)) continue;
        const e = estimateOf(v);
        if (e && rec(v)) metrics[k] = e;
        else if (e && num(v) !== null && k in METRICS) metrics[k] = e;
      }
      const trials = arr(l.trials).map((t) => str(t) ?? pickStr(rec(t), 'path', 'run', 'dir') ?? '').filter((t) => t !== '');
      return {
        key: pickStr(l, 'key') ?? `${pickStr(l, 'factor') ?? '?'}=${pickStr(l, 'value') ?? '?'}`,
        factor: pickStr(l, 'factor') ?? '–',
        value: pickStr(l, 'value') ?? '–',
        trials,
        trialCount: num(l.trials) ?? (trials.length > 0 ? trials.length : null),
        metrics,
      };
    });
}

/** Links to the evidence rows of the trials a row cites. */
export function runLinks(paths: readonly string[]): Cell {
  if (paths.length === 0) return '–';
  const short = (p: string) => p.replace(/^trials\//, '').replace(/\/run\.json$/, '');
  return {
    html: paths.map((p) => `<a href="#${anchorId('run', p)}">${short(p).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</a>`).join(', '),
    md: paths.map((p) => `[${short(p)}](#${anchorId('run', p)})`).join(', '),
  };
}

export async function sweepSections(sweep: Record<string, Json>): Promise<Section[]> {
  const levels = levelsOf(sweep);
  const baselineKey = pickStr(sweep, 'baselineKey', 'baseline') ?? pickStr(rec(sweep.plan), 'baselineKey');
  const parts: Rendered[] = [];
  const rec_ = rec(sweep.recommendation);
  if (rec_) {
    parts.push(para(`Recommendation: ${pickStr(rec_, 'factor') ?? '?'} = ${pickStr(rec_, 'value') ?? '?'} — ${pickStr(rec_, 'reason') ?? ''}`));
  }
  if (levels.length === 0) parts.push(note('sweep.json lists no levels.'));
  const metricNames = [...new Set(levels.flatMap((l) => Object.keys(l.metrics)))].sort((a, b) => {
    const order = Object.keys(METRICS);
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const figures: Rendered[] = [];
  for (const m of metricNames) {
    const meta = METRICS[m] ?? { title: `${m} per level`, yTitle: m, where: 'source named in sweep.json', short: 'as in sweep.json', digits: 2 };
    const points: CiPoint[] = levels
      .filter((l) => l.metrics[m])
      .map((l) => ({ level: l.key, factor: l.factor, estimate: l.metrics[m]!.estimate, lo: l.metrics[m]!.lo, hi: l.metrics[m]!.hi, baseline: l.key === baselineKey }));
    const level = levels.map((l) => l.metrics[m]?.level).find((x) => x !== null && x !== undefined);
    const ciText = level ? `${Math.round(level * 100)} % CI` : 'CI';
    try {
      const svg = await renderChart(ciSpec(points, { title: meta.title, subtitle: `point = estimate, bar = ${ciText} — ${meta.short}`, yTitle: meta.yTitle }));
      figures.push(figure(svg, `${meta.title}: estimate and ${ciText} per level of the sweep, measured at the ${meta.where}.`, `sweep-${m}`));
    } catch (e) {
      figures.push(note(`${meta.title}: could not be drawn (${(e as Error).message})`));
    }
  }
  if (figures.length > 0) parts.push(grid(figures));
  if (levels.length > 0) {
    const shown = metricNames.slice(0, 4);
    parts.push(
      table(
        ['level', 'factor', 'value', 'trials', ...shown.map((m) => `${m} (estimate [CI])`)],
        levels.map((l) => [
          l.key === baselineKey ? `${l.key} (baseline)` : l.key,
          l.factor,
          l.value,
          l.trials.length > 0 ? runLinks(l.trials) : fmt(l.trialCount, 0),
          ...shown.map((m) => {
            const e = l.metrics[m];
            const d = METRICS[m]?.digits ?? 2;
            return e ? `${fmt(e.estimate, d)} ${fmtCi(e.lo, e.hi, d)}` : '–';
          }),
        ]),
      ),
    );
  }
  const comparisons = arr(sweep.comparisons).map(rec).filter((c): c is Record<string, Json> => c !== undefined);
  const compare: Rendered[] = [];
  if (comparisons.length > 0) {
    compare.push(
      table(
        ['a', 'b', 'metric', 'test', 'effect (b − a)', 'CI', 'p (adjusted)', 'significant', 'practical'],
        comparisons.map((c) => {
          const ci = estimateOf(c.ci);
          const yes = (x: Json) => (bool(x) === null ? '–' : bool(x) ? 'yes' : 'no');
          return [
            pickStr(c, 'a') ?? '?',
            pickStr(c, 'b') ?? '?',
            pickStr(c, 'metric') ?? '?',
            pickStr(c, 'test') ?? '–',
            fmt(num(c.effect), 2),
            fmtCi(ci?.lo ?? null, ci?.hi ?? null, 2),
            fmt(num(c.pValueAdjusted) ?? num(c.pValue), 4),
            yes(c.significant),
            yes(c.practical),
          ];
        }),
        { caption: 'Each comparison from the trials of the two levels (one value per trial); effects in the metric\'s unit' },
      ),
    );
  } else {
    compare.push(note('sweep.json has no comparisons.'));
  }
  const extra: string[] = [];
  for (const k of ['drift', 'power']) {
    const v = sweep[k];
    if (v === undefined || v === null) continue;
    extra.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v).slice(0, 400)}`);
  }
  if (extra.length > 0) compare.push(list(extra));
  return [
    { id: 'sweep', title: 'Sweep: metrics per level', body: join(parts) },
    { id: 'sweep-comparisons', title: 'Sweep: comparisons', body: join(compare) },
  ];
}
