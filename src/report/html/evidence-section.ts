/**
 * The runs behind a study's or sweep's figures: one anchored row per run (`#run-<path>`), so each
 * verdict and level can link to the runs it was judged from, and each row links back to the
 * verdicts that cite it and to its run.json.
 */
import { renderChart } from '../charts/chart-renderer.ts';
import { runsSpec, type RunPoint } from '../charts/runs-chart.ts';
import { anchorId, figure, fmt, join, note, table, type Cell, type Rendered, type Section } from './markup.ts';

export interface EvidenceRun {
  /** run.json path relative to the results directory (`trials/3-tuned-r1/run.json`). */
  path: string;
  key: string;
  phase: string | null;
  rate: number | null;
  rep: number | null;
  p50: number | null;
  p99: number | null;
  timeouts: number | null;
  achievedRate: number | null;
  spikes: number | null;
  partial: boolean;
  /** The run.json is in the directory (a verdict may cite a run that was not kept). */
  present: boolean;
  citedBy: Array<{ id: string; label: string }>;
}

export async function evidenceSection(runs: readonly EvidenceRun[], options: { chart: boolean }): Promise<Section> {
  const parts: Rendered[] = [];
  if (runs.length === 0) {
    return { id: 'evidence', title: 'Evidence: the runs', body: note('No runs (trials/*/run.json) in this directory.') };
  }
  if (options.chart && runs.some((r) => r.p99 !== null)) {
    const points: RunPoint[] = runs.map((r) => ({ key: r.key, rate: r.rate === null ? '?' : String(r.rate), p99: r.p99, timeouts: r.timeouts }));
    try {
      parts.push(
        figure(
          await renderChart(runsSpec(points)),
          'Each run as one point, per configuration and target rate: client p99 and timeouts over the run\'s measured window, measured at the client (load generator).',
          'runs-chart',
        ),
      );
    } catch (e) {
      parts.push(note(`The runs chart could not be drawn: ${(e as Error).message}`));
    }
  }
  const rows: Cell[][] = runs.map((r) => [
    { html: `<a href="${r.path.replace(/"/g, '%22')}">${r.path.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</a>${r.present ? '' : ' <span class="missing">(not in this directory)</span>'}`, md: `[${r.path}](${r.path})${r.present ? '' : ' (not in this directory)'}` },
    r.key,
    r.phase ?? '–',
    fmt(r.rate, 0),
    fmt(r.rep, 0),
    fmt(r.achievedRate, 1),
    fmt(r.p50, 1),
    fmt(r.p99, 1),
    fmt(r.timeouts, 0),
    fmt(r.spikes, 0),
    r.citedBy.length === 0
      ? '–'
      : {
          html: r.citedBy.map((c) => `<a href="#${anchorId('verdict', c.id)}">${c.label.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</a>`).join(', '),
          md: r.citedBy.map((c) => `[${c.label}](#${anchorId('verdict', c.id)})`).join(', '),
        },
  ]);
  parts.push(
    table(['run.json', 'configuration', 'phase', 'target req/s', 'rep', 'achieved req/s', 'client p50 ms', 'client p99 ms', 'timeouts', 'spikes', 'cited by'], rows, {
      id: 'evidence-table',
      rowIds: runs.map((r) => anchorId('run', r.path)),
      caption: 'Client figures from the load generator over each run\'s measured window; `esbench report <dir>/trials/<run>` draws one run in full',
    }),
  );
  if (runs.some((r) => r.partial)) parts.push(note('Runs marked partial were interrupted; studies and sweeps leave them out of their verdicts.'));
  return { id: 'evidence', title: 'Evidence: the runs', body: join(parts) };
}
