/**
 * The runs behind a study's or sweep's figures: one anchored row per run (`#run-<path>`), so each
 * verdict and level can link to the runs it was judged from, and each row links back to the
 * verdicts that cite it and to its run.json.
 */
import { renderChart } from '../charts/chart-renderer.ts';
import { runsSpec, type RunPoint } from '../charts/runs-chart.ts';
import { anchorId, esc, figure, fmt, join, note, table, type Cell, type Rendered, type Section } from './markup.ts';

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
  // Columns that say nothing for this directory (no phases, nothing cited) are left out.
  const all: Array<{ header: string; cell: (r: EvidenceRun) => Cell; show: boolean }> = [
    {
      header: 'run.json',
      show: true,
      cell: (r) => ({
        html: `<a href="${esc(r.path)}">${esc(r.path)}</a>${r.present ? '' : ' <span class="missing">(not in this directory)</span>'}`,
        md: `[${r.path}](${r.path})${r.present ? '' : ' (not in this directory)'}`,
      }),
    },
    { header: 'configuration', show: true, cell: (r) => r.key },
    { header: 'phase', show: runs.some((r) => r.phase !== null), cell: (r) => r.phase ?? '–' },
    { header: 'target req/s', show: true, cell: (r) => fmt(r.rate, 0) },
    { header: 'rep', show: runs.some((r) => r.rep !== null), cell: (r) => fmt(r.rep, 0) },
    { header: 'achieved req/s', show: true, cell: (r) => fmt(r.achievedRate, 1) },
    { header: 'client p50 ms', show: true, cell: (r) => fmt(r.p50, 1) },
    { header: 'client p99 ms', show: true, cell: (r) => fmt(r.p99, 1) },
    { header: 'timeouts', show: true, cell: (r) => fmt(r.timeouts, 0) },
    { header: 'spikes', show: true, cell: (r) => fmt(r.spikes, 0) },
    {
      header: 'cited by (verdicts)',
      show: runs.some((r) => r.citedBy.length > 0),
      cell: (r) =>
        r.citedBy.length === 0
          ? '–'
          : {
              html: r.citedBy.map((c) => `<a href="#${anchorId('verdict', c.id)}">${esc(c.label)}</a>`).join(', '),
              md: r.citedBy.map((c) => `[${c.label}](#${anchorId('verdict', c.id)})`).join(', '),
            },
    },
  ];
  const columns = all.filter((c) => c.show);
  parts.push(
    table(
      columns.map((c) => c.header),
      runs.map((r) => columns.map((c) => c.cell(r))),
      {
        id: 'evidence-table',
        rowIds: runs.map((r) => anchorId('run', r.path)),
        caption: "Client figures from the load generator over each run's measured window; `esbench report <dir>/trials/<run>` draws one run in full",
      },
    ),
  );
  if (runs.some((r) => r.partial)) parts.push(note('Runs marked partial were interrupted; studies and sweeps leave them out of their verdicts.'));
  return { id: 'evidence', title: 'Evidence: the runs', body: join(parts) };
}
