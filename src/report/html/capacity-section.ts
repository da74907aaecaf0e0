/**
 * The capacity search (capacity.json, or study.json's `capacity`): the steps (rate vs client p99,
 * held or missed), the highest rate held with its interval, and what saturated first.
 */
import { renderChart } from '../charts/chart-renderer.ts';
import { capacitySpec, type CapacityStep } from '../charts/capacity-chart.ts';
import { arr, bool, estimateOf, num, pickNum, pickStr, rec, str, type Json } from './loose.ts';
import { figure, fmt, fmtCi, join, note, para, table, type Rendered, type Section } from './markup.ts';
import { runLinks } from './sweep-section.ts';

function stepsOf(capacity: Record<string, Json>): Array<CapacityStep & { path: string | null }> {
  return arr(capacity.steps)
    .map(rec)
    .filter((s): s is Record<string, Json> => s !== undefined)
    .map((s) => ({
      rate: pickNum(s, 'rate', 'targetRate', 'level') ?? 0,
      p99: estimateOf(s.p99 ?? s.p99Ms)?.estimate ?? null,
      achievedRate: estimateOf(s.achievedRate)?.estimate ?? null,
      timeouts: estimateOf(s.timeouts)?.estimate ?? null,
      held: bool(s.held) ?? bool(s.pass) ?? bool(s.passed) ?? bool(s.ok) ?? (str(s.verdict) ? str(s.verdict) === 'held' || str(s.verdict) === 'pass' : null),
      path: pickStr(s, 'path', 'run'),
    }));
}

/** The SLO's p99 limit in ms, from 'p99<500ms,...', {p99Ms: 500} or [{metric: 'p99', limit}]. */
export function p99Limit(slo: Json): number | null {
  const s = str(slo);
  if (s) {
    const m = /p99\s*<=?\s*(\d+(?:\.\d+)?)\s*(ms|s)?/i.exec(s);
    return m ? Number(m[1]) * (m[2]?.toLowerCase() === 's' ? 1000 : 1) : null;
  }
  const o = rec(slo);
  if (o) return pickNum(o, 'p99Ms', 'p99LimitMs', 'p99');
  for (const t of arr(slo).map(rec)) {
    if (t && str(t.metric) === 'p99') return pickNum(t, 'limitMs', 'limit', 'value');
  }
  return null;
}

function sloText(slo: Json): string {
  if (slo === undefined || slo === null) return '–';
  return str(slo) ?? JSON.stringify(slo);
}

export async function capacitySection(capacity: Record<string, Json>, options: { id?: string; title?: string } = {}): Promise<Section> {
  const steps = stepsOf(capacity);
  const maxRate = num(capacity.maxRate);
  const ci = estimateOf(capacity.ci);
  const bracket = estimateOf(capacity.bracket);
  const parts: Rendered[] = [];
  const configuration = pickStr(capacity, 'configuration', 'level', 'key');
  parts.push(
    para(
      `Highest rate held${configuration ? ` (${configuration})` : ''}: ${fmt(maxRate, 0)} req/s${ci && ci.lo !== null ? `, CI ${fmtCi(ci.lo, ci.hi, 0)}` : ''}${bracket && bracket.lo !== null ? `, between ${fmt(bracket.lo, 0)} (held) and ${fmt(bracket.hi, 0)} (missed)` : ''}.${capacity.slo === undefined || capacity.slo === null ? '' : ` SLO: ${sloText(capacity.slo)}.`}`,
    ),
  );
  const sat = rec(capacity.saturation);
  if (sat) parts.push(para(`What saturated first: ${pickStr(sat, 'cause') ?? '?'}. Evidence: ${pickStr(sat, 'evidence') ?? '–'}`));
  if (steps.some((s) => s.p99 !== null)) {
    try {
      const svg = await renderChart(capacitySpec(steps, { p99LimitMs: p99Limit(capacity.slo), maxRate }));
      parts.push(
        figure(
          svg,
          'Capacity search, measured at the client (load generator): each step\'s target rate against its client p99 (green = held the SLO, red cross = missed), the SLO\'s p99 limit (red dashed) and the highest rate held (green dashed); below, the rate the generator achieved.',
          `${options.id ?? 'capacity'}-chart`,
        ),
      );
    } catch (e) {
      parts.push(note(`The capacity chart could not be drawn: ${(e as Error).message}`));
    }
  } else if (capacity.steps !== undefined) {
    parts.push(note('No steps of the search with a client p99 were recorded here: nothing to draw.'));
  }
  if (steps.length > 0) {
    const withRuns = steps.some((s) => s.path !== null);
    parts.push(
      table(
        ['target rate (req/s)', 'achieved (req/s)', 'client p99 (ms)', 'timeouts', 'step', ...(withRuns ? ['run'] : [])],
        steps.map((s) => [
          fmt(s.rate, 0),
          fmt(s.achievedRate, 1),
          fmt(s.p99, 1),
          fmt(s.timeouts, 0),
          s.held === null ? '–' : s.held ? 'held' : 'missed',
          ...(withRuns ? [s.path ? runLinks([s.path]) : '–'] : []),
        ]),
        { caption: 'Steps of the search, in the order they ran (load generator figures)' },
      ),
    );
  }
  return { id: options.id ?? 'capacity', title: options.title ?? 'Capacity', body: join(parts) };
}
