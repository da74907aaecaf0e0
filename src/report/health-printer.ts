import type { CheckStatus, HealthReport } from '../observe/health-checks.ts';
import { figureText } from './health-figures.ts';

const MARK: Record<CheckStatus, string> = { good: 'good', ok: 'ok', warning: 'WARNING' };

/** One block per check: status and title, the figure, the threshold, then any notes. */
export function printHealthReport(report: HealthReport): string {
  const lines = [
    `health of database ${report.database}: ${MARK[report.status]} (${report.counts.good} good, ${report.counts.ok} ok, ${report.counts.warning} warning)`,
    `  primary ${report.primary}`,
    `  replica ${report.replica ?? '(none)'}`,
    '',
  ];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status].padEnd(8)} ${c.title}${c.nodes.length > 0 ? ` [${c.nodes.join('+')}]` : ''}`);
    lines.push(`         ${figureText(c)}`);
    lines.push(`         threshold: ${c.threshold}`);
    for (const n of c.notes) lines.push(`         note: ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
